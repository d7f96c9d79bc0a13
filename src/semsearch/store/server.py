"""Store on a Qdrant server or cluster through qdrant-client.

Also opens qdrant-client's local mode (`path=` or ":memory:"), which scans exactly and is
only fit to stand in for a server in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from semsearch.store.base import (
    CollectionNotFound,
    CollectionSpec,
    Filter,
    HasVector,
    Hit,
    MatchText,
    Point,
    Prefix,
    Query,
    Search,
    SparseVector,
    Store,
    StoreError,
    check_name,
)

_BATCH = 256
# New collections keep their dense vectors as float16 (half of float32; the server has no 8-bit
# storage that keeps cosine), and a write-ahead log of small segments: once the server has flushed
# a write into its segments it drops the closed log segments, and 32 MB ones (its default) kept
# most of a small collection twice. Collections without "vector_datatype" in their metadata hold float32.
VECTOR_DATATYPE = "float16"
WAL_SEGMENT_MB = 4  # a few write batches (_BATCH points with both vectors) a segment


@dataclass(frozen=True)
class Distribution:
    """How a new collection spreads over a cluster (Qdrant's own parameters; None = server default)."""

    shards: int | None = None  # shard_number
    replicas: int | None = None  # replication_factor
    write_consistency: int | None = None  # write_consistency_factor


class ServerStore(Store):
    def __init__(self, url: str | None = None, api_key: str | None = None,
                 path: str | None = None, timeout: int = 60, distribution: Distribution | None = None) -> None:
        self.distribution = distribution or Distribution()
        if path is not None:
            self.location = f"local:{path}"
            self.client = QdrantClient(path=path) if path != ":memory:" else QdrantClient(":memory:")
        else:
            self.location = url or "http://127.0.0.1:6333"
            self.client = QdrantClient(url=self.location, api_key=api_key, timeout=timeout,
                                       check_compatibility=False)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ResponseHandlingException, ConnectionError) as exc:
            raise StoreError(f"cannot reach Qdrant at {self.location} ({what}): {exc}") from None
        except UnexpectedResponse as exc:
            if exc.status_code == 401 or exc.status_code == 403:
                raise StoreError(f"Qdrant at {self.location} refused the API key ({what})") from None
            raise StoreError(f"Qdrant at {self.location} failed {what}: {exc}") from None

    def collections(self) -> list[str]:
        response = self._call("listing collections", self.client.get_collections)
        return sorted(c.name for c in response.collections)

    def exists(self, name: str) -> bool:
        return bool(self._call("checking a collection", self.client.collection_exists, check_name(name)))

    def create(self, name: str, spec: CollectionSpec) -> None:
        if self.exists(name):
            raise StoreError(f"collection {name!r} already exists at {self.location}")
        datatype = models.Datatype(VECTOR_DATATYPE)
        self._call("creating a collection", self.client.create_collection, name,
                   vectors_config={k: models.VectorParams(size=v.size, distance=models.Distance.COSINE,
                                                          datatype=datatype) for k, v in spec.vectors.items()},
                   sparse_vectors_config={k: models.SparseVectorParams(modifier=models.Modifier.IDF)
                                          for k in spec.sparse} or None,
                   shard_number=self.distribution.shards,
                   replication_factor=self.distribution.replicas,
                   write_consistency_factor=self.distribution.write_consistency,
                   wal_config=models.WalConfigDiff(wal_capacity_mb=WAL_SEGMENT_MB, wal_segments_ahead=0),
                   metadata={**spec.to_metadata(), "vector_datatype": VECTOR_DATATYPE})
        schemas: list[tuple[str, Any]] = [(k, models.PayloadSchemaType.KEYWORD) for k in spec.keyword_fields]
        schemas += [(k, models.PayloadSchemaType.INTEGER) for k in spec.integer_fields]
        schemas += [(k, models.TextIndexParams(type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD,
                                               lowercase=True)) for k in spec.text_fields]
        for key, schema in schemas:
            self._call("creating an index", self.client.create_payload_index, name, key,
                       field_schema=schema, wait=True)

    def drop(self, name: str) -> None:
        self._call("dropping a collection", self.client.delete_collection, check_name(name))

    def metadata(self, name: str) -> dict[str, Any]:
        self._require(name)
        info = self._call("reading a collection", self.client.get_collection, name)
        return dict(info.config.metadata or {})

    def update_metadata(self, name: str, changes: dict[str, Any]) -> None:
        self._require(name)
        self._call("updating a collection's metadata", self.client.update_collection, name, metadata=changes)

    def count(self, name: str, filter: Filter | None = None) -> int:
        self._require(name)
        return self._call("counting", self.client.count, name, count_filter=_filter(filter), exact=True).count

    def upsert(self, name: str, points: Iterable[Point]) -> None:
        batch: list[models.PointStruct] = []
        for point in points:
            vectors = {k: _vector(v) for k, v in point.vectors.items()}
            batch.append(models.PointStruct(id=point.id, vector=vectors, payload=point.payload))
            if len(batch) >= _BATCH:
                self._call("writing points", self.client.upsert, name, batch, wait=True)
                batch = []
        if batch:
            self._call("writing points", self.client.upsert, name, batch, wait=True)

    def delete(self, name: str, filter: Filter) -> None:
        self._call("deleting points", self.client.delete, name,
                   points_selector=models.FilterSelector(filter=_filter(filter)), wait=True)

    def update_vectors(self, name: str, vectors: dict[str, dict[str, list[float]]]) -> None:
        points = [models.PointVectors(id=i, vector=v) for i, v in vectors.items()]
        for start in range(0, len(points), _BATCH):
            self._call("writing vectors", self.client.update_vectors, name, points[start:start + _BATCH], wait=True)

    def retrieve(self, name: str, ids: list[str], with_vectors: bool = False) -> list[Point]:
        self._require(name)
        records = self._call("reading points", self.client.retrieve, name, ids, with_payload=True,
                             with_vectors=with_vectors)
        out = []
        for r in records:
            vectors: dict[str, list[float] | SparseVector] = {}
            for key, value in (r.vector or {}).items() if isinstance(r.vector, dict) else []:
                vectors[key] = SparseVector(list(value.indices), list(value.values)) \
                    if isinstance(value, models.SparseVector) else list(value)
            out.append(Point(str(r.id), vectors, r.payload or {}))
        return out

    def search(self, name: str, searches: list[Query]) -> list[list[Hit]]:
        self._require(name)
        requests = [_request(s) for s in searches]
        responses = self._call("searching", self.client.query_batch_points, name, requests)
        return [[Hit(str(p.id), float(p.score), p.payload or {}) for p in r.points] for r in responses]

    def scroll(self, name: str, fields: list[str] | None = None,
               filter: Filter | None = None) -> Iterator[Hit]:
        self._require(name)
        offset = None
        while True:
            records, offset = self._call(
                "reading points", self.client.scroll, name, scroll_filter=_filter(filter), limit=1024,
                offset=offset, with_payload=fields if fields is not None else True)
            for record in records:
                yield Hit(str(record.id), 0.0, record.payload or {})
            if offset is None:
                return

    def facet(self, name: str, key: str, limit: int = 100) -> dict[str, int]:
        self._require(name)
        response = self._call("counting values", self.client.facet, name, key, limit=limit, exact=True)
        return {str(hit.value): hit.count for hit in response.hits}

    def optimize(self, name: str) -> None:
        """The server builds HNSW by itself once a segment passes its indexing threshold."""

    def close(self) -> None:
        self.client.close()

    def _require(self, name: str) -> None:
        if not self.exists(name):
            raise CollectionNotFound(
                f"no collection {name!r} at {self.location} (collections: {', '.join(self.collections()) or 'none'})")


def _vector(v: list[float] | SparseVector) -> Any:
    return models.SparseVector(indices=v.indices, values=v.values) if isinstance(v, SparseVector) else v


def _request(query: Query) -> models.QueryRequest:
    if isinstance(query, Search):
        return models.QueryRequest(query=_vector(query.vector), using=query.using, limit=query.limit,
                                   filter=_filter(query.filter), with_payload=query.with_payload)
    prefetch = [models.Prefetch(query=_vector(s.vector), using=s.using, limit=s.limit, filter=_filter(s.filter))
                for s in query.searches]
    fusion: Any
    if query.method == "sum":
        fusion = models.FormulaQuery(
            formula=models.SumExpression(sum=[models.MultExpression(mult=[w, f"$score[{i}]"])
                                              for i, w, _ in query.terms()]),
            defaults={f"$score[{i}]": d for i, _, d in query.terms()})
    elif query.method == "dbsf":
        fusion = models.FusionQuery(fusion=models.Fusion.DBSF)
    else:
        fusion = models.RrfQuery(rrf=models.Rrf(k=query.k, weights=query.weights))
    return models.QueryRequest(prefetch=prefetch, query=fusion, limit=query.limit, with_payload=query.with_payload)


def _filter(f: Filter | None) -> models.Filter | None:
    if not f:
        return None

    def condition(m: Any) -> Any:
        if isinstance(m, HasVector):
            return models.HasVectorCondition(has_vector=m.name)
        if isinstance(m, MatchText):
            return models.FieldCondition(key=m.key, match=models.MatchText(text=m.text))
        if isinstance(m, Prefix):  # callers check matches_prefixes; the pinned server has no prefix match
            raise StoreError(f"this Qdrant server cannot match {m.key} by prefix")
        match = models.MatchAny(any=m.value) if isinstance(m.value, list) else models.MatchValue(value=m.value)
        return models.FieldCondition(key=m.key, match=match)

    must, must_not = f.translate(condition, lambda ids: models.HasIdCondition(has_id=list(ids)))
    return models.Filter(must=must or None, must_not=must_not or None)
