"""A store that fits: no write-ahead log left behind, dense vectors stored compactly, a payload
without repeats, and collections made by the previous release still read and written as before."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from semsearch.indexer import KEYWORD_FIELDS, MISSING_VECTORS, Indexer
from semsearch.search import Searcher, parse_filters
from semsearch.store import CollectionSpec, DenseVector, Point, Search
from semsearch.store.edge import EdgeStore
from tests.conftest import server_store

DIM = 384


def allocated(path: Path) -> int:
    """Bytes of disk the files under path take (st_blocks, as `du` counts them)."""
    return sum(os.lstat(os.path.join(folder, name)).st_blocks * 512
               for folder, _, names in os.walk(path) for name in names)


def tree_of(inflection_src: Path, tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(inflection_src / "inflection", tree / "inflection")
    return tree


def embeddings(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors sharing a common direction, as sentence embeddings do (cosines mostly 0.2-0.6)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, DIM)) + 1.5 * rng.normal(size=DIM)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


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


@pytest.mark.parametrize("backend", ["edge", "server"])
def test_dense_vectors_are_stored_compactly_and_score_within_a_hair_of_exact_cosine(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = EdgeStore(tmp_path / "store") if backend == "edge" \
        else server_store(request.getfixturevalue("qdrant_url"))
    docs, queries = embeddings(2000), embeddings(20, seed=1)
    with store:
        store.create("c", CollectionSpec(vectors={"text": DenseVector(DIM, "m")}))
        store.upsert("c", [Point(str(uuid.UUID(int=i + 1)), {"text": v.tolist()}, {"i": i})
                           for i, v in enumerate(docs)])
        found = store.search("c", [Search("text", q.tolist(), 10) for q in queries])
        exact = queries @ docs.T
        errors = [abs(h.score - exact[q, h.payload["i"]]) for q, hits in enumerate(found) for h in hits]
        assert max(errors) < 2e-3  # the ranking's fused scores move by less than its ties do
        overlap = [len({h.payload["i"] for h in hits} & set(np.argsort(-exact[q])[:10]))
                   for q, hits in enumerate(found)]
        assert sum(overlap) >= 0.95 * 10 * len(queries)
        (stored,) = store.retrieve("c", [str(uuid.UUID(int=1))], with_vectors=True)
        assert stored.vectors["text"] == pytest.approx(docs[0].tolist(), abs=5e-3)
        if backend == "edge":
            assert store.metadata("c")["vector_datatype"] == "turbo8"
            vectors = sum(allocated(p) for p in (tmp_path / "store" / "c" / "shard").rglob("vector_storage-text"))
            assert vectors < 2000 * DIM * 4 / 3  # float32 would take 3 MB; 8-bit codes a quarter of it
        else:
            assert store.metadata("c")["vector_datatype"] == "float16"
            params = store.client.get_collection("c").config.params.vectors["text"]
            assert params.datatype is not None and params.datatype.value == "float16"  # as the server keeps them
            wal = store.client.get_collection("c").config.wal_config
            assert wal.wal_capacity_mb <= 4  # its write-ahead log stays small once flushed


def previous_release_collection(store_dir: Path) -> None:
    """A code collection laid out as the release before this one made it: a WAL, float32 vectors."""
    with EdgeStore(store_dir / "scratch") as scratch:  # the spec the indexer writes is the same as then
        Indexer(scratch, "code").import_structures([])
        metadata = {k: v for k, v in scratch.metadata("code").items() if k not in ("wal", "vector_datatype")}
        metadata["keyword_fields"] = KEYWORD_FIELDS  # points listed their folders then
    directory = store_dir / "code"
    directory.mkdir(parents=True)
    cached = qe.Memory.Cached
    shard = qe.EdgeShard.create(str(directory / "shard"), qe.EdgeConfig(
        vectors={v: qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine, memory=cached)
                 for v in ("text", "code")},
        sparse_vectors={"lex": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=cached)},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000, memory=cached),
        payload_memory=cached))
    for key in KEYWORD_FIELDS:
        shard.update(qe.UpdateOperation.create_field_index(key, qe.KeywordIndexParams(on_disk=True)))
    shard.flush()
    shard.close()
    (directory / "collection.json").write_text(json.dumps(metadata))
    shutil.rmtree(store_dir / "scratch")


def test_a_collection_of_the_previous_release_keeps_working_beside_a_compact_new_one(
        inflection_src: Path, tmp_path: Path) -> None:
    store_dir, tree = tmp_path / "store", tree_of(inflection_src, tmp_path)
    previous_release_collection(store_dir)
    (tree / "inflection" / "extra.py").write_text("def whisper(word):\n    return word.lower()\n")
    with EdgeStore(store_dir) as store:
        first = Indexer(store, "code").index_tree(tree)
        hit = Searcher(store, "code").search("pluralize", limit=1)[0]
        assert hit.payload["name"] == "pluralize"
        (point,) = store.retrieve("code", [hit.id], with_vectors=True)
        (itself,) = store.search("code", [Search("text", point.vectors["text"], 1)])
        assert itself[0].score == pytest.approx(1.0, abs=1e-6)  # still float32, exact
        assert "wal" not in store.metadata("code")
        assert all(h.payload["dirs"] == ["inflection"] for h in store.scroll("code", ["dirs"]))
        assert {h.path for h in Searcher(store, "code").search("pluralize", limit=5, filters=parse_filters(
            ["dir=inflection/"]))} == {"inflection/__init__.py"}
        # and its file keys held the whole SHA-1, which must still read as unchanged
        points = store.retrieve("code", [h.id for h in store.scroll("code", [])], with_vectors=True)
        for point in points:
            digest, rest = point.payload["file_key"].split(":", 1)
            point.payload["file_key"] = f"{digest}{'0' * 24}:{rest}"
        store.upsert("code", points)
    assert allocated(store_dir / "code" / "shard" / "wal") > 0  # its log is its durability, left as it was
    (tree / "inflection" / "__init__.py").write_text((tree / "inflection" / "__init__.py").read_text()
                                                     + "\n\ndef shout(word):\n    return word.upper()\n")
    with EdgeStore(store_dir) as store:
        again = Indexer(store, "code").index_tree(tree)
        assert again.files_indexed == 1 and again.files_unchanged == first.files_indexed - 1
        assert store.count("code", MISSING_VECTORS) == 0
        assert Searcher(store, "code").search("shout", limit=1)[0].payload["name"] == "shout"
        assert store.count("code") == first.points + 1
        store.create("notes", CollectionSpec(vectors={"text": DenseVector(DIM, "m")}))  # made now: compact
        store.upsert("notes", [Point(str(uuid.UUID(int=1)), {"text": embeddings(1)[0].tolist()}, {})])
        assert store.metadata("notes")["vector_datatype"] == "turbo8"
    assert allocated(store_dir / "notes" / "shard" / "wal") == 0


def test_points_carry_their_file_once_and_a_reindex_still_skips_what_did_not_change(
        inflection_src: Path, tmp_path: Path) -> None:
    tree = tree_of(inflection_src, tmp_path)
    with EdgeStore(tmp_path / "store") as store:
        first = Indexer(store, "code").index_tree(tree)
        payload = next(iter(store.scroll("code"))).payload
        digest, count, repo, path = payload["file_key"].split(":", 3)  # the repository's files are its own
        assert path == payload["context"]["file_path"] and int(count) > 0 and len(digest) == 16
        assert repo == payload["repo"] == "tree"
        assert "file_hash" not in payload and "file_chunks" not in payload  # file_key says both
        assert "dirs" not in payload  # a folder filter matches the path's prefix
        init = tree / "inflection" / "__init__.py"
        init.write_text(init.read_text() + "\n\ndef shout(word):\n    return word.upper()\n")
        again = Indexer(store, "code").index_tree(tree)
        assert again.files_indexed == 1 and again.points == first.points + 1


@pytest.mark.parametrize("backend", ["edge", "server"])
def test_a_folder_filter_keeps_to_its_folder_whether_points_list_their_folders_or_not(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    tree = tmp_path / "tree"
    for path in ("a/x.py", "ab/y.py", "a/b/z.py", "b/a/w.py"):
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(f"def shout_{path.replace('/', '_')[:-3]}(word):\n    return word.upper()\n")
    store = EdgeStore(tmp_path / "store") if backend == "edge" \
        else server_store(request.getfixturevalue("qdrant_url"))
    with store:
        Indexer(store, "code").index_tree(tree, lexical_only=True)
        lists = "dirs" in store.metadata("code")["keyword_fields"]
        assert lists == (backend == "server")  # the pinned server has no prefix match: points list their folders
        assert all(("dirs" in h.payload) == lists for h in store.scroll("code"))
        searcher = Searcher(store, "code")

        def paths(*filters: str) -> set[str]:
            return {h.path for h in searcher.search("shout word", mode="lexical", limit=10,
                                                     filters=parse_filters(list(filters)))}
        assert paths("dir=a") == paths("dir=a/") == {"a/x.py", "a/b/z.py"}  # not ab/, not b/a/
        assert paths("dir=a/b") == {"a/b/z.py"}
        assert paths("dir=ab", "dir=b") == {"ab/y.py", "b/a/w.py"}  # the same field twice: either folder
        assert paths("dir=a", "language=python") == {"a/x.py", "a/b/z.py"}
        assert paths("dir=c") == set()


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
