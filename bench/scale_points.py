"""The scale benchmarks' collection layout, points and queries, shared by million.py and cluster_load.py.

Layout: what `ServerStore.create` makes for a code collection (`semsearch.store.server`):
named dense vectors `text` and `code` (384-d, all-MiniLM-L6-v2's size, cosine, float16),
a sparse `lex` vector with the IDF modifier, a 4 MB WAL segment, keyword indexes on the
indexer's fields plus `repo`; HNSW at Qdrant's defaults (m 16, ef_construct 100), which the
product does not change; payload on disk (Qdrant's default).

Points: the real structures of `scale_corpus.py` (payload and BM25 vector as the indexer
writes them), copied under synthetic repositories `<package>-<copy>` until the count is
reached, each copy with its own point id. Dense vectors are synthetic: seeded noise around
4,096 seeded random unit centres (cosine ~0.7 to the centre), one centre per structure for
each vector, fresh noise per copy, so the points cluster as embeddings do without a model.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

DIM = 384  # semsearch.sentence_models: all-MiniLM-L6-v2, the default text and code model
CENTRES = 4096
NOISE = 1.0 / np.sqrt(DIM)  # noise of norm ~1 around a unit centre: cosine ~0.7 to it
CANDIDATES = 100  # semsearch.search.CANDIDATES: per list in a hybrid search
_NS = uuid.UUID("6f1c2b0e-5d1a-4c57-9a55-5ca1e0000001")


def keyword_fields() -> list[str]:
    """The indexer's keyword fields (read from the product, so the layout follows it) and `repo`."""
    from semsearch.indexer import KEYWORD_FIELDS

    return list(dict.fromkeys([*KEYWORD_FIELDS, "repo"]))


def create_collection(client: QdrantClient, name: str, *, defer_index: bool, on_disk_vectors: bool = False,
                      sharding: dict[str, Any] | None = None, shard_keys: list[str] | None = None) -> None:
    """The product's server layout; `defer_index` builds no HNSW until `start_indexing`.

    With custom sharding the shard keys come before the payload indexes, which need a shard."""
    from semsearch.store.server import VECTOR_DATATYPE, WAL_SEGMENT_MB

    datatype = models.Datatype(VECTOR_DATATYPE)
    client.create_collection(
        name,
        vectors_config={v: models.VectorParams(size=DIM, distance=models.Distance.COSINE, datatype=datatype,
                                               on_disk=on_disk_vectors) for v in ("text", "code")},
        sparse_vectors_config={"lex": models.SparseVectorParams(modifier=models.Modifier.IDF)},
        wal_config=models.WalConfigDiff(wal_capacity_mb=WAL_SEGMENT_MB, wal_segments_ahead=0),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0) if defer_index else None,
        on_disk_payload=True,
        **(sharding or {}))
    for shard_key in shard_keys or []:
        client.create_shard_key(name, shard_key)
    for key in keyword_fields():
        client.create_payload_index(name, key, field_schema=models.PayloadSchemaType.KEYWORD, wait=True)


def start_indexing(client: QdrantClient, name: str, threshold_kb: int = 10_000) -> None:
    """Back to Qdrant's default indexing threshold (10,000 KB): the optimizer builds HNSW now."""
    client.update_collection(name, optimizer_config=models.OptimizersConfigDiff(indexing_threshold=threshold_kb))


def wait_green(client: QdrantClient, name: str, report: Any = None, every: float = 30) -> float:
    """Seconds until the optimizers are done: green in three polls in a row, 2 s apart (the status
    can read green for a moment before an optimization starts). Segments under the indexing
    threshold (small runs) stay without HNSW, searched exactly, as the server decides."""
    started = last = time.perf_counter()
    greens = 0
    while True:
        info = client.get_collection(name)
        greens = greens + 1 if info.status == models.CollectionStatus.GREEN else 0
        if greens >= 3:
            return time.perf_counter() - started - 4
        now = time.perf_counter()
        if report is not None and now - last >= every:
            # Qdrant counts a vector as indexed before its graph is built (and sparse ones always),
            # so the segment count, which falls as the optimizer merges and indexes, tells progress.
            report(f"  indexing: {info.status.value}, {info.segments_count or 0} segments, "
                   f"{info.points_count or 0:,} points, {now - started:.0f} s")
            last = now
        time.sleep(2)


def indexed(client: QdrantClient, name: str) -> dict[str, int]:
    info = client.get_collection(name)
    return {"points": info.points_count or 0, "indexed_vectors": info.indexed_vectors_count or 0,
            "segments": info.segments_count or 0}


@dataclass
class Replicas:
    """The corpus copied under `copies` synthetic repositories, `total` points in all."""

    corpus: list[dict[str, Any]]
    total: int
    seed: int = 7

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        centres = rng.standard_normal((CENTRES, DIM)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        self.assigned = rng.integers(0, CENTRES, size=(len(self.corpus), 2))  # text, code centre per structure

    @property
    def copies(self) -> int:
        return -(-self.total // len(self.corpus))

    def repo(self, row: int, copy: int) -> str:
        return f"{self.corpus[row]['payload']['repo']}-{copy:03d}"

    def repos(self) -> list[str]:
        """Every repository name, in load order."""
        names: dict[str, None] = {}
        for number in range(self.total):
            names[self.repo(number % len(self.corpus), number // len(self.corpus))] = None
        return list(names)

    def point_id(self, number: int) -> str:
        row, copy = number % len(self.corpus), number // len(self.corpus)
        return str(uuid.uuid5(_NS, f"{copy}\0{row}\0{self.corpus[row]['id']}"))

    def vectors(self, numbers: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        rows = numbers % len(self.corpus)
        out = []
        for which in (0, 1):
            v = self.centres[self.assigned[rows, which]] + NOISE * rng.standard_normal((len(rows), DIM),
                                                                                       dtype=np.float32)
            out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        return out[0], out[1]

    def points(self, start: int = 0, stop: int | None = None, block: int = 1024) -> Iterator[models.PointStruct]:
        """Points start..stop in order; the noise is seeded by block, so a point is the same in every run."""
        stop = self.total if stop is None else stop
        for first in range(start, stop, block):
            numbers = np.arange(first, min(first + block, stop))
            text, code = self.vectors(numbers, np.random.default_rng([self.seed, first]))
            for i, number in enumerate(numbers.tolist()):
                row, copy = number % len(self.corpus), number // len(self.corpus)
                source = self.corpus[row]
                payload = {**source["payload"], "repo": self.repo(row, copy)}
                lex = models.SparseVector(indices=source["lex"][0], values=source["lex"][1])
                yield models.PointStruct(id=self.point_id(number), payload=payload,
                                         vector={"text": text[i].tolist(), "code": code[i].tolist(), "lex": lex})

    def queries(self, count: int, seed: int = 11, upto: int | None = None) -> list[dict[str, Any]]:
        """Query vectors near a random structure's centres (of points below `upto`), BM25 of its name,
        and its repository."""
        from semsearch import lexical

        rng = np.random.default_rng(seed)
        numbers = rng.integers(0, upto or self.total, size=count)
        text, code = self.vectors(numbers, rng)
        out = []
        for i, number in enumerate(numbers.tolist()):
            row, copy = number % len(self.corpus), number // len(self.corpus)
            lex = lexical.embed_query(self.corpus[row]["payload"]["name"])
            out.append({"text": text[i].tolist(), "code": code[i].tolist(),
                        "lex": models.SparseVector(indices=lex.indices, values=lex.values),
                        "repo": self.repo(row, copy)})
        return out


def repo_filter(repo: str) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key="repo", match=models.MatchValue(value=repo))])


def hybrid_requests(query: dict[str, Any], flt: models.Filter | None) -> list[models.QueryRequest]:
    """The batch `semsearch search` sends in hybrid mode (search.py `_hybrid`): three lists of 100."""
    return [models.QueryRequest(query=query["text"], using="text", limit=CANDIDATES, filter=flt, with_payload=False),
            models.QueryRequest(query=query["code"], using="code", limit=CANDIDATES, filter=flt,
                                with_payload=["context.file_path", "line_from", "line_to"]),
            models.QueryRequest(query=query["lex"], using="lex", limit=CANDIDATES, filter=flt, with_payload=False)]


def candidates(responses: list[models.QueryResponse]) -> list[Any]:
    """The ids whose payloads the product then retrieves: the fused top 100 (here: the lists interleaved)."""
    seen: dict[Any, None] = {}
    for rank in range(CANDIDATES):
        for response in responses:
            if rank < len(response.points):
                seen[response.points[rank].id] = None
    return list(seen)[:CANDIDATES]


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"p50": float("nan"), "p99": float("nan"), "n": 0}
    a = np.array(samples_ms)
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)), "n": len(a)}
