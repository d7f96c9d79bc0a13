"""The embedded store under abuse: killed indexing runs and hostile trees."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from semsearch.chunking import chunk_source
from semsearch.indexer import MISSING_VECTORS, Indexer
from semsearch.store.edge import EdgeStore
from semsearch.walk import walk


def expected_structures(tree: Path) -> Counter:
    return Counter((s.file_path, s.code_type, s.name, s.line_from, s.line_to, s.part)
                   for f in walk(tree) for s in chunk_source(f.path, f.text))


def stored_structures(store: EdgeStore) -> Counter:
    return Counter((p["context"]["file_path"], p["code_type"], p["name"], p["line_from"], p["line_to"], p.get("part"))
                   for p in (h.payload for h in store.scroll("code")))


def test_sigkill_at_random_moments_never_corrupts_or_duplicates(inflection_src: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for i in range(30):  # enough work (~25 s) that most kills land mid-way through writing
        target = tree / f"copy{i}"
        target.mkdir(parents=True)
        for source in (inflection_src / "inflection").glob("*.py"):
            (target / source.name).write_text(source.read_text())
        (target / "test_inflection.py").write_text((inflection_src / "test_inflection.py").read_text())
    store_dir = tmp_path / "store"
    rng = random.Random(7)
    kills = 0
    # Without the vector cache every run costs model time again (the copies are identical).
    env = {**os.environ, "SEMSEARCH_VECTOR_CACHE": "off"}
    for trial in range(10):
        process = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "index", str(tree), "--store",
                                    str(store_dir), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        time.sleep(rng.uniform(1.5, 7.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        if trial % 3 == 2:  # now and then a file changes between runs
            (tree / "copy0" / "__init__.py").write_text(f"# revision {trial}\n" +
                                                       (inflection_src / "inflection" / "__init__.py").read_text())
        with EdgeStore(store_dir) as store:  # reopens after every kill
            if store.exists("code"):
                store.count("code")
    assert kills >= 5, "most runs must have been killed mid-way for the test to mean anything"
    with EdgeStore(store_dir) as store:
        summary = Indexer(store, "code").index_tree(tree)
        assert not summary.errors
        expected = expected_structures(tree)
        stored = stored_structures(store)
        assert store.count("code") == sum(expected.values())
        assert stored == expected  # every structure once: none lost, none duplicated, none stale
        assert store.count("code", MISSING_VECTORS) == 0  # kills in the dense pass: filled in by the resume


def test_hostile_tree_indexes_and_reports_what_it_skipped(tmp_path: Path, cli) -> None:
    tree = tmp_path / "hostile"
    tree.mkdir()
    (tree / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    (tree / "blob.bin2").write_bytes(b"\x00\x01\x02" * 1000)
    (tree / "latin1.py").write_bytes(b"def caf\xe9():\n    return 'cr\xe8me'\n")
    (tree / "bundle.js").write_text("var a=1;" * 6_500_000)  # ~50 MB on one line
    (tree / "deep.py").write_text("x = " + "[" * 5000 + "]" * 5000 + "\ndef after():\n    return 1\n")
    nested = "def f0():\n"
    for depth in range(1, 300):
        nested += "    " * depth + f"def f{depth}():\n"
    nested += "    " * 300 + "return 1\n"
    (tree / "nested.py").write_text(nested)
    (tree / "broken.py").write_text("def ok():\n    return 1\n\ndef broken(:\n    pass\n")
    (tree / "empty.py").write_text("")
    (tree / "loop").mkdir()
    os.symlink(tree / "loop", tree / "loop" / "again")
    os.symlink(tree / "missing.py", tree / "dangling.py")
    result = cli("index", tree, "--store", tmp_path / "store", "-q")
    summary = result.stderr
    assert result.exit_code == 0
    for reason in ("binary or generated", "over 1,000,000 bytes", "symlinked folder", "broken symlink"):
        assert reason in summary, reason
    assert "1 files had invalid UTF-8" in summary
    with EdgeStore(tmp_path / "store") as store:
        stored = [h.payload for h in store.scroll("code", ["name", "context"])]
    assert {"after", "f0", "ok"} <= {p["name"] for p in stored}
    assert any(p["context"]["file_path"] == "latin1.py" for p in stored)  # decoded with replacement, still searchable


def test_a_reader_arriving_mid_write_never_costs_the_writer_its_points(inflection_src: Path, tmp_path: Path) -> None:
    """A failed EdgeShard.load on a shard another process writes lost that process's writes (~1 in 3
    runs of this test before the advisory lock); no load is attempted on a held shard any more."""
    tree = tmp_path / "tree"
    for i in range(40):
        shutil.copytree(inflection_src / "inflection", tree / f"copy{i}")
    expected = sum(expected_structures(tree).values())
    env = {**os.environ, "SEMSEARCH_VECTOR_CACHE": "off"}
    for trial in range(6):
        store_dir = tmp_path / f"store{trial}"
        writer = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "index", str(tree), "--store", str(store_dir),
                                   "-q", "--lexical-only"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        while not (store_dir / "code" / "collection.json").is_file() and writer.poll() is None:
            time.sleep(0.005)
        with EdgeStore(store_dir, wait=60) as reader:  # arrives while the writer writes, and waits its turn
            seen = reader.count("code")
        assert writer.wait(timeout=120) == 0, writer.stderr.read().decode()
        with EdgeStore(store_dir) as store:
            assert store.count("code") == expected, f"trial {trial}: the reader saw {seen}"
