"""Searchable in seconds: the lexical pass, the dense pass behind it, and everything between them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from semsearch.indexer import MISSING_VECTORS, Indexer
from semsearch.search import QueryError, Searcher
from semsearch.store.edge import EdgeStore
from semsearch.vector_cache import VectorCache


def copies(inflection_src: Path, tree: Path, n: int) -> Path:
    for i in range(n):
        shutil.copytree(inflection_src / "inflection", tree / f"copy{i}")
    return tree


def test_lexical_only_answers_without_a_model_then_a_later_run_fills_the_vectors_in(
        inflection_src: Path, tmp_path: Path) -> None:
    tree = copies(inflection_src, tmp_path / "tree", 1)
    cache = VectorCache(None)  # no cache: what is not embedded has no vectors
    with EdgeStore(tmp_path / "store") as store:
        summary = Indexer(store, "code", cache=cache).index_tree(tree, lexical_only=True)
        assert summary.structures_embedded == 0 and summary.without_vectors == summary.points > 10
        searcher = Searcher(store, "code")
        assert searcher.coverage() == (0, summary.points)
        hits = searcher.search("pluralize", limit=3)
        assert hits[0].payload["name"] == "pluralize" and hits[0].found_by == "lexical"
        prose = searcher.search("return the plural form of a word", limit=5)
        assert "pluralize" in [h.payload["name"] for h in prose]
        with pytest.raises(QueryError, match="no dense vectors yet"):
            searcher.search("plural", mode="text")
        again = Indexer(store, "code", cache=cache).index_tree(tree)
        assert again.files_indexed == 0 and again.structures_embedded == summary.points
        assert again.without_vectors == 0 and store.count("code", MISSING_VECTORS) == 0
        assert Searcher(store, "code").search("return the plural form of a word", limit=1)[0].found_by == "hybrid"


def test_a_killed_dense_pass_resumes_and_embeds_nothing_twice(inflection_src: Path, tmp_path: Path) -> None:
    tree = copies(inflection_src, tmp_path / "tree", 40)  # 680 structures: three batches of the dense pass
    for i in range(40):  # distinct texts, so every structure costs the model
        for path in (tree / f"copy{i}").glob("*.py"):
            path.write_text(path.read_text().replace("def ", f"def v{i}_"))
    store_dir, cache_file = tmp_path / "store", tmp_path / "vectors.sqlite"
    env = {**os.environ, "SEMSEARCH_VECTOR_CACHE": str(cache_file)}
    process = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "index", str(tree), "--store", str(store_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and VectorCache(cache_file).stats().entries < 2 * 256:
        time.sleep(0.1)  # one batch of the dense pass has reached the cache
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    with EdgeStore(store_dir) as store:
        total, missing = store.count("code"), store.count("code", MISSING_VECTORS)
    assert 0 < missing < total, "the kill must land inside the dense pass"
    cache = VectorCache(cache_file)
    before = cache.stats().entries
    with EdgeStore(store_dir) as store:
        summary = Indexer(store, "code", cache=cache).index_tree(tree)
        assert summary.files_indexed == 0  # the lexical pass had finished: nothing to parse again
        assert summary.structures_embedded == missing and store.count("code", MISSING_VECTORS) == 0
    computed = 2 * summary.structures_embedded - summary.vectors_cached
    assert cache.stats().entries - before == computed  # every vector the model made was new: none twice


@pytest.mark.slow
def test_a_search_in_another_process_answers_while_vectors_fill_in(inflection_src: Path, tmp_path: Path) -> None:
    tree = copies(inflection_src, tmp_path / "tree", 40)  # 680 structures: several batches of dense pass
    store_dir = tmp_path / "store"
    env = {**os.environ, "SEMSEARCH_VECTOR_CACHE": "off"}
    indexer = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "index", str(tree), "--store", str(store_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    began = time.monotonic()
    search = [sys.executable, "-m", "semsearch.cli", "search", "pluralize", "--store", str(store_dir), "--json",
              "-k", "3"]
    seen_partial = answers = 0
    notes = []
    try:
        deadline = time.monotonic() + 240
        while indexer.poll() is None and time.monotonic() < deadline:
            if not (store_dir / "code" / "collection.json").is_file():
                time.sleep(0.2)
                continue
            started = time.monotonic()
            result = subprocess.run(search, capture_output=True, text=True, timeout=120, env=env)
            if "is empty" in result.stderr:  # the first lexical batch is not written yet
                notes.append("empty")
                time.sleep(0.1)
                continue
            assert result.returncode == 0, result.stderr  # never "locked"
            body = json.loads(result.stdout)
            answers += 1
            assert body["hits"] and body["hits"][0]["name"] == "pluralize"
            partial = body.get("partial")
            notes.append(str(partial))
            if partial and 0 < partial["embedded"] < partial["total"]:
                seen_partial += 1
                # handed the store between two batches, well before SEMSEARCH_STORE_WAIT (120 s) ran out
                assert time.monotonic() - started < 90
    finally:
        if indexer.poll() is None:
            indexer.wait(timeout=300)
    log = indexer.stderr.read().decode()
    assert indexer.returncode == 0, log
    assert seen_partial >= 1, (f"{answers} answers, none while the vectors were filling in: {notes}; "
                               f"index took {time.monotonic() - began:.1f} s: {log[-500:]}")


def test_a_long_lived_searcher_sees_new_points_without_vectors_once_its_count_expires(
        inflection_src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = copies(inflection_src, tmp_path / "tree", 1)
    with EdgeStore(tmp_path / "store") as store:
        first = Indexer(store, "code").index_tree(tree)
        searcher = Searcher(store, "code")  # as a server keeps it
        assert searcher.coverage() == (first.points, first.points)
        shutil.copytree(inflection_src / "inflection", tree / "copy1")
        added = Indexer(store, "code", cache=VectorCache(None)).index_tree(tree, lexical_only=True)
        assert searcher.coverage() == (first.points, first.points)  # a complete index is not counted per query
        monkeypatch.setattr("semsearch.search.COVERAGE_TTL", 0.0)
        assert searcher.coverage() == (first.points, added.points)


def test_gitattributes_generated_files_are_flagged_and_a_change_there_reindexes_them(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "api").mkdir(parents=True)
    (tree / "api" / "client.py").write_text("def fetch_user_record(user_id):\n    return user_id\n")
    (tree / "api" / "client_pb2.py").write_text("def fetch_user(user_id):\n    return user_id\n")
    with EdgeStore(tmp_path / "store") as store:
        indexer = Indexer(store, "code", cache=VectorCache(None))

        def flags() -> dict[str, bool]:
            return {h.payload["context"]["file_path"]: bool(h.payload.get("generated"))
                    for h in store.scroll("code", ["context", "generated"])}

        indexer.index_tree(tree, lexical_only=True)
        assert flags() == {"api/client.py": False, "api/client_pb2.py": False}
        hits = Searcher(store, "code").search("fetch user", limit=2)
        assert [h.path for h in hits] == ["api/client_pb2.py", "api/client.py"]  # the closer match
        (tree / ".gitattributes").write_text("*_pb2.py linguist-generated\n")
        again = indexer.index_tree(tree, lexical_only=True)
        assert again.files_indexed == 1  # only the file whose attribute changed
        assert flags() == {"api/client.py": False, "api/client_pb2.py": True}
        hits = Searcher(store, "code").search("fetch user", limit=2)
        assert [h.path for h in hits] == ["api/client.py", "api/client_pb2.py"]  # now generated: after the code


RUST_WITH_TESTS = '''
/// Split one header line into its name and value.
pub fn parse_header(line: &str) -> (&str, &str) {
    let (name, value) = line.split_once(':').unwrap_or((line, ""));
    (name.trim(), value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_header_splits_name_and_value() {
        assert_eq!(parse_header("Host: a"), ("Host", "a"));
        assert_eq!(parse_header("Accept: b"), ("Accept", "b"));
        assert_eq!(parse_header("header: value"), ("header", "value"));
    }
}
'''


def test_lexical_only_ranking_knows_the_in_file_tests_too(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "headers.rs").write_text(RUST_WITH_TESTS)
    with EdgeStore(tmp_path / "store") as store:
        Indexer(store, "code", cache=VectorCache(None)).index_tree(tree, lexical_only=True)
        hits = Searcher(store, "code").search("parse header name value", limit=5)
        names = [h.payload["name"] for h in hits]
        assert names.index("parse_header") < names.index("parse_header_splits_name_and_value")


def test_an_indexer_that_stays_open_skips_the_files_it_replaced_before(tmp_path: Path) -> None:
    """watch, serve --index and mcp keep the store open across runs: a file changed once is not changed forever."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(3):
        (tree / f"m{i}.py").write_text(f"def first_{i}(x):\n    return x + {i}\n")
    with EdgeStore(tmp_path / "store") as store:
        indexer = Indexer(store, "code", cache=VectorCache(None))
        indexer.index_tree(tree, lexical_only=True)
        for i in range(3):
            (tree / f"m{i}.py").write_text(f"def second_{i}(x):\n    return x * {i}\n")
        assert indexer.index_tree(tree, lexical_only=True).files_indexed == 3
        again = indexer.index_tree(tree, lexical_only=True)
        assert again.files_indexed == 0 and again.files_unchanged == 3
