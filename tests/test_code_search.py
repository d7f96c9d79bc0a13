"""End to end: index real sources with the real model into a real Qdrant engine, then search."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from semsearch.indexer import Indexer
from semsearch.search import Searcher
from semsearch.store.edge import EdgeStore
from semsearch.store.server import ServerStore
from tests.conftest import server_store
from tests.test_textify import TUTORIAL

QUERIES = {
    "make an underscored lowercase form from a CamelCase expression": "underscore",
    "return the plural form of a word": "pluralize",
    "turn a string into a form usable in a URL": "parameterize",
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, inflection_src: Path, cli) -> Path:
    store = tmp_path_factory.mktemp("idx") / "store"
    result = cli("index", inflection_src, "--store", store, "-q")
    assert "indexed" in result.stderr
    return store


def hits_for(cli, store: Path, query: str, *extra: str) -> list[dict]:
    result = cli("search", query, "--store", store, "--json", *extra)
    return json.loads(result.stdout)["hits"]


@pytest.mark.parametrize("query, expected", QUERIES.items())
def test_expected_function_comes_first(indexed: Path, cli, query: str, expected: str) -> None:
    hits = hits_for(cli, indexed, query, "--limit", "5")
    assert hits[0]["name"] == expected
    assert hits[0]["path"] == "inflection/__init__.py"
    assert hits[0]["language"] == "python" and hits[0]["code_type"] == "Function"


def test_both_mode_marks_where_the_models_agree(indexed: Path, cli) -> None:
    hits = hits_for(cli, indexed, "return the plural form of a word", "--limit", "10", "--mode", "both")
    top = hits[0]
    assert top["overlap"], "the code model also finds pluralize: its lines are marked"
    for lo, hi in top["overlap"]:
        assert top["line_from"] <= lo <= hi <= top["line_to"]
    text_only = hits_for(cli, indexed, "return the plural form of a word", "--mode", "text")
    assert all(h["overlap"] == [] for h in text_only)
    assert len(hits) == 10


@pytest.mark.parametrize("mode", ["hybrid", "text", "code", "lexical", "both"])
def test_every_mode_answers(indexed: Path, cli, mode: str) -> None:
    hits = hits_for(cli, indexed, "return the plural form of a word", "--mode", mode, "--limit", "7")
    assert len(hits) == 7
    assert "pluralize" in [h["name"] for h in hits[:3]]
    if mode == "hybrid":
        assert hits[0]["name"] == "pluralize" and hits[0]["overlap"]


def test_hybrid_puts_an_identifiers_definition_first(indexed: Path, cli) -> None:
    hits = hits_for(cli, indexed, "camelize")
    assert (hits[0]["name"], hits[0]["path"]) == ("camelize", "inflection/__init__.py")
    assert hits[0]["snippet"].startswith("def camelize(")  # final hits carry their whole payload
    assert all(h["name"] != "camelize" or not h["path"].startswith("test") for h in hits[:1])


def test_json_contract_reads_queries_from_stdin(indexed: Path) -> None:
    queries = "\n".join(QUERIES) + "\n"
    result = subprocess.run(
        [sys.executable, "-m", "semsearch.cli", "search", "-", "--store", str(indexed), "--limit", "10", "--json"],
        input=queries, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().split("\n")
    assert len(lines) == len(QUERIES)
    for line, (query, expected) in zip(lines, QUERIES.items()):
        obj = json.loads(line)
        assert obj["query"] == query
        assert len(obj["hits"]) == 10
        for hit in obj["hits"]:
            assert {"path", "line_from", "line_to", "name", "signature", "code_type", "language",
                    "score", "overlap"} <= set(hit)
        assert obj["hits"][0]["name"] == expected


def test_filters_and_group_by(indexed: Path, cli) -> None:
    tests_only = hits_for(cli, indexed, "pluralize a word", "--filter", "path=test_inflection.py")
    assert tests_only and all(h["path"] == "test_inflection.py" for h in tests_only)
    functions = hits_for(cli, indexed, "pluralize a word", "--filter", "type=Function", "--mode", "code")
    assert functions and all(h["code_type"] == "Function" for h in functions)
    result = cli("search", "pluralize a word", "--store", indexed, "--json", "--group-by", "module",
                 "--group-size", "2", "--limit", "3")
    groups = json.loads(result.stdout)["groups"]
    values = [g["value"] for g in groups]
    assert len(values) == len(set(values)) >= 2
    assert all(1 <= len(g["hits"]) <= 2 and all(h["module"] == g["value"] for h in g["hits"]) for g in groups)
    by_folder = cli("search", "pluralize a word", "--store", indexed, "--json", "--group-by", "dir", "--limit", "5")
    folders = json.loads(by_folder.stdout)["groups"]
    values = [g["value"] for g in folders]  # each hit's own folder, though no point stores its folders
    assert len(values) == len(set(values)) and {".", "inflection"} <= set(values)
    assert all(str(Path(h["path"]).parent) == g["value"] for g in folders for h in g["hits"])


def test_terminal_output_shows_location_and_code(indexed: Path, cli) -> None:
    result = cli("search", "return the plural form of a word", "--store", indexed, "--limit", "2")
    assert "inflection/__init__.py:284-306" in result.stdout
    assert "def pluralize(word" in result.stdout


def test_search_finds_the_store_upward_from_the_working_directory(inflection_src: Path, tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(inflection_src / "inflection", tree / "inflection")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    index = subprocess.run([sys.executable, "-m", "semsearch.cli", "index", str(tree), "-q"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert index.returncode == 0, index.stderr
    assert (tree / ".semsearch" / "code" / "collection.json").is_file()
    search = subprocess.run([sys.executable, "-m", "semsearch.cli", "search", "plural of a word", "--json"],
                            cwd=tree / "inflection", capture_output=True, text=True, timeout=300, env=env)
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["hits"][0]["name"] == "pluralize"


def test_reindex_is_incremental(tmp_path: Path, cli) -> None:
    tree = tmp_path / "repo"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "a.py").write_text("def alpha():\n    \"\"\"First letter.\"\"\"\n    return 'a'\n")
    (tree / "pkg" / "b.py").write_text("def beta():\n    return 'b'\n\n\ndef gamma():\n    return 'g'\n")
    store = tmp_path / "store"
    first = cli("index", tree, "--store", store, "-q").stderr
    assert "2 indexed" in first and "3 structures embedded" in first
    again = cli("index", tree, "--store", store, "-q").stderr
    assert "0 indexed, 2 unchanged" in again and "0 structures embedded" in again
    (tree / "pkg" / "b.py").write_text("def beta():\n    return 'B'\n")
    changed = cli("index", tree, "--store", store, "-q").stderr
    assert "1 indexed, 1 unchanged" in changed and "holds 2 points" in changed
    (tree / "pkg" / "a.py").unlink()
    removed = cli("index", tree, "--store", store, "-q").stderr
    assert "1 removed" in removed and "holds 1 points" in removed
    with EdgeStore(store) as db:
        names = [h.payload["name"] for h in db.scroll("code", ["name"])]
    assert names == ["beta"]


def test_only_changed_structures_reach_the_model_and_recreate_costs_none(tmp_path: Path, cli) -> None:
    tree = tmp_path / "repo"
    tree.mkdir()
    body = "\n\n".join(f"def step_{i}(value):\n    \"\"\"Step {i} of the pipeline.\"\"\"\n    return value + {i}"
                       for i in range(8))
    (tree / "pipeline.py").write_text(body + "\n")
    store = tmp_path / "store"
    cli("index", tree, "--store", store, "-q")
    (tree / "pipeline.py").write_text(body.replace("return value + 3", "return value * 3") + "\n")
    with EdgeStore(store) as db:
        edited = Indexer(db, "code").index_tree(tree)
        # 8 functions, 16 vectors: only step_3's code changed (its sentence did not)
        assert edited.structures_embedded == 8 and edited.vectors_cached == 15
        rebuilt = Indexer(db, "code").index_tree(tree, recreate=True)
        assert rebuilt.structures_embedded == 8 and rebuilt.vectors_cached == 16
        hits = Searcher(db, "code").search("multiply the value by three", limit=3)
        assert hits[0].payload["name"] == "step_3"


def test_seed_format_import(tmp_path: Path, cli) -> None:
    other = {**TUTORIAL, "name": "make_ready", "signature": "fn make_ready (& self)", "line": 20,
             "line_from": 20, "line_to": 26, "docstring": "Mark as ready and wake every waiter",
             "context": {**TUTORIAL["context"], "snippet": "pub fn make_ready(&self) { }"}}
    path = tmp_path / "structures.jsonl"
    path.write_text(json.dumps(TUTORIAL) + "\n" + "{broken\n" + json.dumps(other) + "\n")
    store = tmp_path / "store"
    result = cli("import", path, "--store", store)
    assert "imported 2 structures" in result.stderr and f"{path}:2: skipped" in result.stderr
    hits = hits_for(cli, store, "wait until it is ready or the timeout passes", "--mode", "text")
    top = hits[0]
    assert top["name"] == "await_ready_for_timeout" and top["struct_name"] == "IsReady"
    assert top["module"] == "common" and top["path"] == "lib/collection/src/common/is_ready.rs"
    assert (top["line_from"], top["line_to"]) == (43, 51)


def test_every_backend_indexes_and_searches_alike(inflection_src: Path, tmp_path: Path, qdrant_url: str) -> None:
    tops = {}
    stores = (("edge", EdgeStore(tmp_path / "edge")), ("client-local", ServerStore(path=str(tmp_path / "cl"))),
              ("server", server_store(qdrant_url)))
    for name, store in stores:
        with store:
            summary = Indexer(store, "code").index_tree(inflection_src / "inflection")
            assert summary.points == summary.structures_embedded > 10
            hits = Searcher(store, "code").search("return the plural form of a word", limit=3)
            tops[name] = [(h.path, h.line_from, h.payload["name"]) for h in hits]
    assert tops["edge"] == tops["client-local"] == tops["server"]
    assert tops["edge"][0][2] == "pluralize"


def test_cli_against_a_real_qdrant_server(inflection_src: Path, qdrant_url: str, cli) -> None:
    server_store(qdrant_url).close()
    result = cli("index", inflection_src / "inflection", "--qdrant-url", qdrant_url, "-c", "infl", "-q")
    assert f"in {qdrant_url}" in result.stderr
    out = cli("search", "return the plural form of a word", "--qdrant-url", qdrant_url, "-c", "infl", "--json").stdout
    assert json.loads(out)["hits"][0]["name"] == "pluralize"
    bad = cli("search", "x", "--qdrant-url", "http://127.0.0.1:9", "-c", "infl", ok=False)
    assert bad.exit_code == 1 and "cannot reach Qdrant" in bad.stderr


# -- bad input: one clear line on stderr, non-zero exit ------------------------------------

def error_line(result) -> str:
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_missing_path(cli, tmp_path: Path) -> None:
    result = cli("index", tmp_path / "nope", "--store", tmp_path / "s", ok=False)
    assert result.exit_code == 1 and "no such directory" in error_line(result)


def test_unknown_language_filter(indexed: Path, cli) -> None:
    result = cli("search", "x", "--store", indexed, "--filter", "language=cobolx", ok=False)
    assert result.exit_code == 1 and "unknown language 'cobolx'" in error_line(result)
    result = cli("search", "x", "--store", indexed, "--filter", "language=rust", ok=False)
    assert result.exit_code == 1 and "no structures in language 'rust'" in error_line(result)


def test_empty_or_missing_store(cli, tmp_path: Path) -> None:
    result = cli("search", "x", "--store", tmp_path / "empty", ok=False)
    assert result.exit_code == 1 and "no collection 'code'" in error_line(result)


def test_store_made_with_other_models(indexed: Path, cli) -> None:
    result = cli("search", "x", "--store", indexed, "--text-model", "some-org/other-model", ok=False)
    assert result.exit_code == 1
    assert "built with text model 'sentence-transformers/all-MiniLM-L6-v2'" in error_line(result)


def test_empty_repository(cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("index", tmp_path / "empty", "--store", tmp_path / "s", "-q")
    assert result.stderr.startswith("0 files")


def test_a_store_held_by_another_process_is_waited_for_then_one_line(indexed: Path) -> None:
    search = [sys.executable, "-m", "semsearch.cli", "search", "plural", "--store", str(indexed), "--json"]
    env = {**os.environ, "SEMSEARCH_STORE_WAIT": "2"}
    with EdgeStore(indexed) as holder:
        holder.count("code")  # opens the shard: this process now holds its lock and never lets go
        result = subprocess.run(search, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    waiting, failed = [line for line in result.stderr.splitlines() if line.strip()]
    assert "waiting for another semsearch process" in waiting
    assert "in use by another semsearch process" in failed and "waited 2 s" in failed

    stop = threading.Event()
    with EdgeStore(indexed, wait=60) as writer:
        writer.count("code")

        def batches() -> None:  # a writer between batches, as the indexer is
            while not stop.is_set():
                writer.yield_to_readers("code")
                writer.count("code")
                time.sleep(0.05)

        thread = threading.Thread(target=batches)
        thread.start()
        try:
            result = subprocess.run(search, capture_output=True, text=True, timeout=300, env=env)
        finally:
            stop.set()
            thread.join()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"][0]["name"] == "pluralize"


def test_an_int8_collection_keeps_its_precision(inflection_src: Path, tmp_path: Path, cli) -> None:
    store = tmp_path / "store"
    cli("index", inflection_src / "inflection", "--store", store, "--backend", "onnx-int8", "-q")
    with EdgeStore(store) as db:
        assert db.metadata("code")["vectors"]["code"]["precision"] == "int8"
    query = "return the plural form of a word"
    assert hits_for(cli, store, query)[0]["name"] == "pluralize"  # queried with the int8 model too
    refused = cli("index", inflection_src / "inflection", "--store", store, "--backend", "torch", ok=False)
    assert refused.exit_code == 1 and "holds int8 vectors" in error_line(refused)
    unknown = cli("index", inflection_src / "inflection", "--store", store, "--backend", "tpu", ok=False)
    assert "unknown backend 'tpu'" in error_line(unknown)
    rebuilt = cli("index", inflection_src / "inflection", "--store", store, "--backend", "torch", "--recreate", "-q")
    assert "holds" in rebuilt.stderr
    with EdgeStore(store) as db:
        assert db.metadata("code")["vectors"]["code"]["precision"] == "fp32"


def test_the_text_model_reads_a_bare_identifier_spelt_as_names_are(indexed: Path) -> None:
    """Documents' names reach the text model spelt ("pluralize word"); so does a query that is one identifier."""
    with EdgeStore(indexed) as db:
        searcher = Searcher(db, "code")
        spelt = [(h.id, round(h.score, 4)) for h in searcher.search("pluralize word", mode="text", limit=5)]
        assert [(h.id, round(h.score, 4)) for h in searcher.search("pluralizeWord", mode="text", limit=5)] == spelt
        code = [(h.id, round(h.score, 4)) for h in searcher.search("pluralizeWord", mode="code", limit=5)]
        assert code != [(h.id, round(h.score, 4)) for h in searcher.search("pluralize word", mode="code", limit=5)]
        assert searcher.search("pluralizeWord", limit=1)[0].payload["name"] == "pluralize"


def test_a_deprecated_definition_comes_after_its_replacement_and_says_so(tmp_path: Path, cli) -> None:
    """Guava's case: the deprecated TreeTraverser and graph.Traverser both answer; the live one comes first."""
    tree = tmp_path / "lib"
    (tree / "collect").mkdir(parents=True)
    (tree / "graph").mkdir()
    (tree / "collect" / "TreeTraverser.java").write_text(
        "package lib.collect;\n\n/** Traverses a tree.\n * @deprecated Use {@link lib.graph.Traverser} instead. */\n"
        "@Deprecated\npublic abstract class TreeTraverser<T> {\n"
        "  /** Returns an iterable over the nodes of a tree in breadth-first order. */\n"
        "  public final Iterable<T> breadthFirstTraversal(T root) {\n    return bfs(root);\n  }\n}\n")
    (tree / "graph" / "Traverser.java").write_text(
        "package lib.graph;\n\n/** Traverses the nodes of a graph or a tree. */\npublic abstract class Traverser<N> {\n"
        "  /** Returns an iterable over the nodes reachable from start, in the order of a breadth-first traversal. */\n"
        "  public final Iterable<N> breadthFirst(N start) {\n    return walk(start);\n  }\n}\n")
    store = tmp_path / "store"
    cli("index", tree, "--store", store, "-q")
    hits = hits_for(cli, store, "breadth-first traversal of a tree", "--limit", "4")
    names = [h["name"] for h in hits]
    assert names.index("breadthFirst") < names.index("breadthFirstTraversal")
    assert {h["name"]: h["deprecated"] for h in hits}["breadthFirstTraversal"] is True
    assert {h["name"]: h["deprecated"] for h in hits}["breadthFirst"] is False
    asked = hits_for(cli, store, "the deprecated breadth-first tree traversal", "--limit", "4")
    assert asked[0]["name"] in ("breadthFirstTraversal", "TreeTraverser")  # asked for: lifted back
