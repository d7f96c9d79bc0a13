"""The Store interface, run against both backends: Qdrant Edge (embedded) and qdrant-client.

qdrant-client's local mode stands in for a server here; it speaks the same models as a
real Qdrant server.
"""

import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from semsearch.store import (
    CollectionNotFound,
    CollectionSpec,
    DenseVector,
    Filter,
    Fused,
    Match,
    MatchText,
    Point,
    Search,
    SparseVector,
    StoreError,
    StoreLocked,
    find_store_dir,
)
from semsearch.store.edge import EdgeStore
from semsearch.store.server import ServerStore
from tests.conftest import server_store

DIM = 8


@pytest.fixture(params=["edge", "client-local", "server"])
def store(request, tmp_path: Path):
    if request.param == "edge":
        s = EdgeStore(tmp_path / "store")
    elif request.param == "server":
        s = server_store(request.getfixturevalue("qdrant_url"))  # a real Qdrant 1.16.3 on loopback
    else:
        s = ServerStore(path=str(tmp_path / "local"))
    yield s
    s.close()


def spec() -> CollectionSpec:
    return CollectionSpec(vectors={"text": DenseVector(DIM, "m-text"), "code": DenseVector(DIM, "m-code")},
                          sparse={"lex": "test"}, keyword_fields=["language", "context.module"],
                          metadata={"kind": "code"})


def unit(seed: int) -> list[float]:
    v = np.random.default_rng(seed).normal(size=DIM)
    return (v / np.linalg.norm(v)).tolist()


def points(n: int) -> list[Point]:
    # Token i appears in point i only; token 999 in every point (so its IDF is low).
    return [Point(str(uuid.uuid5(uuid.NAMESPACE_OID, str(i))),
                  {"text": unit(i), "code": unit(1000 + i), "lex": SparseVector([i, 999], [1.0, 1.0])},
                  {"name": f"f{i}", "language": "python" if i % 2 else "rust",
                   "context": {"module": f"m{i % 3}", "file_path": f"src/f{i}.py"}})
            for i in range(n)]


def test_collections_lifecycle_and_metadata(store) -> None:
    assert store.collections() == []
    store.create("code", spec())
    assert store.exists("code") and store.collections() == ["code"]
    meta = store.metadata("code")
    assert meta["vectors"]["text"] == {"size": DIM, "model": "m-text", "precision": "fp32"}
    assert meta["kind"] == "code"
    with pytest.raises(StoreError, match="already exists"):
        store.create("code", spec())
    store.drop("code")
    assert not store.exists("code")
    with pytest.raises(CollectionNotFound, match="no collection 'code'"):
        store.metadata("code")


def test_upsert_search_filter_facet_delete(store) -> None:
    store.create("code", spec())
    store.upsert("code", points(30))
    store.upsert("code", points(30))  # same ids: replaced, not duplicated
    store.optimize("code")
    assert store.count("code") == 30
    (hits,) = store.search("code", [Search("text", unit(7), 3)])
    # vectors are stored compactly (8-bit codes embedded, float16 on a server): a point is its own
    # nearest neighbour at a cosine within 2e-3 of 1
    assert hits[0].payload["name"] == "f7" and hits[0].score == pytest.approx(1.0, abs=2e-3)
    text_hits, code_hits = store.search("code", [Search("text", unit(4), 5), Search("code", unit(1004), 5)])
    assert text_hits[0].payload["name"] == "f4" and code_hits[0].payload["name"] == "f4"
    flt = Filter(must=[Match("language", "python"), Match("context.module", ["m0", "m1"])])
    (filtered,) = store.search("code", [Search("text", unit(4), 30, flt)])
    assert filtered and all(h.payload["language"] == "python" for h in filtered)
    assert all(h.payload["context"]["module"] in ("m0", "m1") for h in filtered)
    assert len(filtered) == store.count("code", flt)
    assert store.facet("code", "language") == {"python": 15, "rust": 15}
    scrolled = list(store.scroll("code", ["name"]))
    assert sorted(h.payload["name"] for h in scrolled) == sorted(f"f{i}" for i in range(30))
    assert all(set(h.payload) == {"name"} for h in scrolled)
    store.delete("code", Filter(must=[Match("context.file_path", "src/f3.py")]))
    assert store.count("code") == 29
    store.delete("code", Filter(must=[Match("language", "rust")]))
    assert store.count("code") == 14


def test_missing_collection_is_a_clear_error(store) -> None:
    with pytest.raises(CollectionNotFound):
        store.count("nope")


def test_bad_collection_name(store) -> None:
    with pytest.raises(StoreError, match="invalid collection name"):
        store.create("../escape", spec())


def test_edge_store_survives_reopen(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "s") as s:
        s.create("code", spec())
        s.upsert("code", points(5))
    with EdgeStore(tmp_path / "s") as s:
        assert s.count("code") == 5 and s.metadata("code")["vectors"]["code"]["model"] == "m-code"


def _keyword_layout(collection: Path) -> dict[str, bool]:
    """field → on disk in every segment, as Edge recorded it in the segments' payload index config."""
    import json

    layout: dict[str, bool] = {}
    for config in (collection / "shard" / "segments").glob("*/payload_index/config.json"):
        for field, schema in json.loads(config.read_text())["indexed_fields"].items():
            on_disk = isinstance(schema, dict) and bool(schema.get("on_disk"))  # in memory: just "keyword"
            layout[field] = layout.get(field, True) and on_disk  # every segment
    return layout


def test_edge_keyword_indexes_are_on_disk_and_old_collections_move_on_a_write(tmp_path: Path) -> None:
    import json

    import qdrant_edge as qe

    with EdgeStore(tmp_path / "s") as s:
        s.create("code", spec())
        s.upsert("code", points(30))
        s.optimize("code")
    assert _keyword_layout(tmp_path / "s" / "code") == {"language": True, "context.module": True}
    # A collection as session 2 made it: in-memory keyword indexes, no layout in its metadata.
    shard = qe.EdgeShard.load(str(tmp_path / "s" / "code" / "shard"))
    for key in ("language", "context.module"):
        shard.update(qe.UpdateOperation.delete_field_index(key))
        shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword))
    shard.optimize()
    shard.close()
    meta_file = tmp_path / "s" / "code" / "collection.json"
    meta_file.write_text(json.dumps({k: v for k, v in json.loads(meta_file.read_text()).items()
                                     if k != "keyword_indexes"}))
    assert _keyword_layout(tmp_path / "s" / "code") == {"language": False, "context.module": False}
    with EdgeStore(tmp_path / "s") as s:
        s.search("code", [Search("text", unit(1), 3, Filter(must=[Match("language", "python")]))])
        assert _keyword_layout(tmp_path / "s" / "code") == {"language": False, "context.module": False}  # reads change nothing
        s.upsert("code", points(31)[30:])
        s.optimize("code")  # the first write moves them
        assert s.metadata("code")["keyword_indexes"] == "on_disk"
        assert s.facet("code", "language") == {"python": 15, "rust": 16}
        flt = Filter(must=[Match("context.module", "m1")])
        assert s.count("code", flt) == 10
    assert _keyword_layout(tmp_path / "s" / "code") == {"language": True, "context.module": True}


def test_second_process_gets_a_clear_lock_message(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "s") as s:
        s.create("code", spec())
        s.upsert("code", points(3))
        code = (
            "import sys\n"
            "from semsearch.store.edge import EdgeStore\n"
            "from semsearch.store import StoreLocked\n"
            f"s = EdgeStore({str(tmp_path / 's')!r})\n"
            "try:\n    s.count('code')\nexcept StoreLocked as e:\n    print(e); sys.exit(3)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, result.stderr
        assert "in use by another semsearch process" in result.stdout
    assert StoreLocked  # the class callers catch


def test_find_store_dir_walks_upward(tmp_path: Path) -> None:
    (tmp_path / ".semsearch").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_store_dir(deep) == tmp_path / ".semsearch"
    assert find_store_dir(Path("/")) in (None, Path("/.semsearch"))


def test_sparse_idf_and_server_side_fusion(store) -> None:
    store.create("code", spec())
    store.upsert("code", points(20))
    (lex,) = store.search("code", [Search("lex", SparseVector([5, 999], [1.0, 1.0]), 3)])
    assert lex[0].payload["name"] == "f5"  # the rare token outweighs the common one
    assert lex[0].score > lex[1].score > 0
    assert store.metadata("code")["sparse"] == {"lex": "test"}
    searches = [Search("text", unit(3), 10), Search("code", unit(1003), 10),
                Search("lex", SparseVector([3], [1.0]), 10)]
    for method, weights in (("rrf", None), ("rrf", [1.0, 0.5, 0.2]), ("dbsf", None)):
        (fused,) = store.search("code", [Fused(searches, limit=5, method=method, weights=weights)])
        assert fused[0].payload["name"] == "f3", method  # first in all three lists
        assert len(fused) == 5
    (summed,) = store.search("code", [Fused(searches, limit=5, method="sum", weights=[1.0, 0.0, 0.0],
                                            defaults=[0.0, 0.0, 0.0])])
    (text_only,) = store.search("code", [searches[0]])
    assert [h.id for h in summed] == [h.id for h in text_only[:5]]
    assert summed[0].score == pytest.approx(text_only[0].score, abs=1e-4)
    # a point missing from a search counts the default: here only f3 is in the lexical list
    (lexical_sum,) = store.search("code", [Fused(searches, limit=3, method="sum", weights=[0.0, 0.0, 1.0],
                                                 defaults=[0.0, 0.0, -5.0])])
    assert lexical_sum[0].payload["name"] == "f3" and lexical_sum[1].score == pytest.approx(-5.0)
    flt = Filter(must=[Match("language", "rust")])
    filtered = [Search(s.using, s.vector, 10, flt) for s in searches]
    (fused,) = store.search("code", [Fused(filtered, limit=5)])
    assert fused and all(h.payload["language"] == "rust" for h in fused)


def test_text_and_integer_indexes_retrieve_and_exclusion(store) -> None:
    spec = CollectionSpec(vectors={"dense": DenseVector(DIM, "m")}, keyword_fields=["city"],
                          integer_fields=["rank"], text_fields=["description"])
    store.create("records", spec)
    rows = [("a", "Handmade wooden furniture for small flats", "Berlin", 1),
            ("b", "Wooden toys and furniture for children", "Paris", 2),
            ("c", "Cloud software for accountants", "Berlin", 3)]
    store.upsert("records", [Point(str(uuid.uuid5(uuid.NAMESPACE_OID, n)), {"dense": unit(i)},
                                   {"name": n, "description": d, "city": c, "rank": r})
                             for i, (n, d, c, r) in enumerate(rows)])
    assert store.metadata("records")["text_fields"] == ["description"]
    wooden = Filter(must=[MatchText("description", "wooden furniture")])
    assert sorted(h.payload["name"] for h in store.scroll("records", ["name"], wooden)) == ["a", "b"]
    berlin = Filter(must=[MatchText("description", "furniture"), Match("city", "Berlin")])
    assert [h.payload["name"] for h in store.scroll("records", ["name"], berlin)] == ["a"]
    assert store.count("records", Filter(must=[Match("rank", 3)])) == 1
    a_id = str(uuid.uuid5(uuid.NAMESPACE_OID, "a"))
    (point,) = store.retrieve("records", [a_id, str(uuid.uuid4())], with_vectors=True)
    assert point.payload["name"] == "a" and point.vectors["dense"] == pytest.approx(unit(0), abs=5e-3)
    (similar,) = store.search("records", [Search("dense", point.vectors["dense"], 5, Filter(exclude_ids=[a_id]))])
    assert [h.payload["name"] for h in similar] and "a" not in [h.payload["name"] for h in similar]
