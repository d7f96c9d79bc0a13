"""A store that fits: no write-ahead log left behind, a payload without repeats."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from semsearch.indexer import MISSING_VECTORS, Indexer
from semsearch.search import Searcher
from semsearch.store.edge import EdgeStore


def allocated(path: Path) -> int:
    """Bytes of disk the files under path take (st_blocks, as `du` counts them)."""
    return sum(os.lstat(os.path.join(folder, name)).st_blocks * 512
               for folder, _, names in os.walk(path) for name in names)


def tree_of(inflection_src: Path, tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(inflection_src / "inflection", tree / "inflection")
    return tree


KILLED_WRITER = """
import os, signal, sys, uuid
from semsearch.store import Point, SparseVector
from semsearch.store.edge import EdgeStore
store = EdgeStore(sys.argv[1])
vector = [1.0] + [0.0] * 383
store.upsert("code", [Point(str(uuid.UUID(int=i + 1)), {"text": vector, "code": vector,
                             "lex": SparseVector([i], [1.0])}, {"name": f"written{i}"}) for i in range(40)])
print("written", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush of ours: as if the machine's process died
"""


def test_an_index_leaves_no_write_ahead_log_and_every_point_survives_a_reopen_and_a_kill(
        inflection_src: Path, tmp_path: Path) -> None:
    store_dir, tree = tmp_path / "store", tree_of(inflection_src, tmp_path)
    with EdgeStore(store_dir) as store:
        summary = Indexer(store, "code").index_tree(tree)
    shard = store_dir / "code" / "shard"
    assert allocated(shard / "wal") == 0  # nothing kept twice: every write went into the segments
    with EdgeStore(store_dir) as store:
        assert store.count("code") == summary.points > 10 and store.count("code", MISSING_VECTORS) == 0
        assert Searcher(store, "code").search("pluralize", limit=1)[0].payload["name"] == "pluralize"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(store_dir)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert killed.stdout.strip() == "written", killed.stderr
    with EdgeStore(store_dir) as store:  # what the write returned before the kill is there, vectors and all
        written = store.retrieve("code", [str(uuid.UUID(int=i + 1)) for i in range(40)], with_vectors=True)
        assert sorted(p.payload["name"] for p in written) == sorted(f"written{i}" for i in range(40))
        assert all(p.vectors["text"][0] == pytest.approx(1.0, abs=2e-3) for p in written)
        assert store.count("code") == summary.points + 40
        again = Indexer(store, "code").index_tree(tree)  # nothing the kill left needs redoing
        assert again.files_indexed == 0 and again.structures_embedded == 0 and again.points == summary.points + 40


def test_points_carry_their_file_once_and_a_reindex_still_skips_what_did_not_change(
        inflection_src: Path, tmp_path: Path) -> None:
    tree = tree_of(inflection_src, tmp_path)
    with EdgeStore(tmp_path / "store") as store:
        first = Indexer(store, "code").index_tree(tree)
        payload = next(iter(store.scroll("code"))).payload
        digest, count, path = payload["file_key"].split(":", 2)
        assert path == payload["context"]["file_path"] and int(count) > 0 and len(digest) == 40
        assert "file_hash" not in payload and "file_chunks" not in payload  # file_key says both
        init = tree / "inflection" / "__init__.py"
        init.write_text(init.read_text() + "\n\ndef shout(word):\n    return word.upper()\n")
        again = Indexer(store, "code").index_tree(tree)
        assert again.files_indexed == 1 and again.points == first.points + 1


class CountingStore(EdgeStore):
    """The embedded store, counting its deletes (each is a flush into the segments)."""

    deletes = 0

    def delete(self, name, filter) -> None:  # type: ignore[no-untyped-def]
        self.deletes += 1
        super().delete(name, filter)


def test_changed_and_removed_files_cost_one_delete_a_batch_not_one_a_file(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(30):
        (tree / f"m{i}.py").write_text(f"def first_{i}(x):\n    return x + {i}\n")
    with CountingStore(tmp_path / "store") as store:
        indexer = Indexer(store, "code")
        indexer.index_tree(tree, lexical_only=True)
        for i in range(30):
            (tree / f"m{i}.py").write_text(f"def second_{i}(x):\n    return x * {i}\n")
        store.deletes = 0
        changed = indexer.index_tree(tree, lexical_only=True)
        assert changed.files_indexed == 30 and store.deletes == 1
        names = {h.payload["name"] for h in store.scroll("code", ["name"]) if h.payload["name"] != "m0.py"}
        assert {n for n in names if n.startswith(("first", "second"))} == {f"second_{i}" for i in range(30)}
        for i in range(20):
            (tree / f"m{i}.py").unlink()
        store.deletes = 0
        removed = indexer.index_tree(tree, lexical_only=True)
        assert removed.files_removed == 20 and store.deletes == 1
        assert {h.payload["context"]["file_path"] for h in store.scroll("code", ["context"])} \
            == {f"m{i}.py" for i in range(20, 30)}
