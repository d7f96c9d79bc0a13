"""Embedded store on Qdrant Edge: in-process, no server, one shard directory per collection.

Layout of a store directory:

    <store>/<collection>/collection.json   the CollectionSpec (written last: its presence
                                           means the collection is complete)
    <store>/<collection>/shard/            the Edge shard (segments; a WAL in older collections)

A collection is an index that the indexer can always rebuild, so it is kept small (see
bench/STORE.md): no write-ahead log — every write is flushed into the segments before the
call returns, so a crash loses at most the write in flight, which the indexer redoes on its
next run (the WAL kept a second copy of everything written, about half the store) — and
dense vectors stored only as TurboQuant 8-bit codes (a quarter of float32; cosine scores
within ~1e-3). Collections made before keep their WAL and float32 vectors and work as they did.

Edge locks a shard to one process through its WAL (so a shard without one is not locked at
all), and a failed `EdgeShard.load` of a shard that another process holds can cost that
process its latest writes (measured: ~25% of attempts during a write lost the batch before
the last). So no load is ever attempted on a held shard:
every opener first takes an advisory lock of ours, `<collection>/.lock` (flock), and only
then loads the shard; it keeps the lock until the shard is closed. A second process either
gets StoreLocked with a message or, when opened with `wait`, leaves a marker in
`<store>/.waiting/` and retries the lock: a writer calls `yield_to_readers` between its
batches, and when it sees a marker it closes its shard until the waiting process has taken
it (and later let it go). So a search in another terminal gets its answer while an index
is being filled in, a batch later at most.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import qdrant_edge as qe

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
    StoreLocked,
    check_name,
)

_META = "collection.json"
# Keyword indexes stay on disk (memory-mapped) like the rest: loaded into memory they were
# most of the time a one-shot `semsearch search` spent opening a large collection (69.5k
# structures: open 0.50 → 0.21 s, close 0.08 → 0.03 s); queries and facets run as fast.
_KEYWORD_ON_DISK = qe.KeywordIndexParams(on_disk=True)
_KEYWORD_LAYOUT = "keyword_indexes"  # metadata key; "on_disk" once they are
_BATCH = 512
# How new collections store dense vectors, by name in the metadata: 8-bit TurboQuant codes, the
# only copy (the engine keeps no float originals): NDCG@10 on the nine repositories as with
# float32 (bench/store_quality.py; 4-bit codes cost 0.004). Collections without the key hold float32.
_DATATYPES = {"float32": qe.VectorStorageDatatype.Float32, "float16": qe.VectorStorageDatatype.Float16,
              "turbo8": qe.VectorStorageDatatype.Turbo8, "turbo4": qe.VectorStorageDatatype.Turbo4}
VECTOR_DATATYPE = "turbo8"
# A named vector's own datatype, over VECTOR_DATATYPE (bench/store_quality.py tries them). The code
# model's at 4 bits keep the nine's NDCG@10 (0.863) but cost CSN-style Python 0.006, so none is set.
VECTOR_DATATYPES: dict[str, str] = {}
_WAL = "wal"  # metadata key: false for collections made without a write-ahead log
_WAITING = ".waiting"  # markers of processes waiting for a shard another process holds
_LOCK = ".lock"  # in each collection folder: our advisory lock, taken before the shard is loaded
_POLL = 0.05


def vector_datatypes(names: Iterable[str]) -> dict[str, str]:
    """How each named vector of a new collection is stored."""
    return {name: VECTOR_DATATYPES.get(name, VECTOR_DATATYPE) for name in names}


def _described(datatypes: dict[str, str]) -> str | dict[str, str]:
    """One name when every vector is stored alike (as collections have always recorded it), else per vector."""
    kinds = set(datatypes.values())
    if len(kinds) > 1:
        return dict(datatypes)
    return kinds.pop() if kinds else VECTOR_DATATYPE


class EdgeStore(Store):
    matches_prefixes = True

    def __init__(self, path: Path | str, *, wait: float = 0.0, on_wait: Callable[[str], None] | None = None) -> None:
        """wait: seconds to wait for a shard another process holds (0: fail at once with StoreLocked);
        on_wait(message) is called once when the wait begins."""
        self.path = Path(path)
        self.location = str(self.path)
        self.wait = wait
        self.on_wait = on_wait
        self._shards: dict[str, qe.EdgeShard] = {}
        self._locks: dict[str, int] = {}  # collection → the fd holding its advisory lock
        self._flush_writes: dict[str, bool] = {}  # collection → no WAL: each write is flushed before it returns

    # -- collections ---------------------------------------------------------------
    def collections(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if (p / _META).is_file())

    def exists(self, name: str) -> bool:
        return (self.path / check_name(name) / _META).is_file()

    def create(self, name: str, spec: CollectionSpec) -> None:
        directory = self.path / check_name(name)
        if self.exists(name):
            raise StoreError(f"collection {name!r} already exists in {self.location}")
        self._close_shard(name)
        directory.mkdir(parents=True, exist_ok=True)
        self._take_lock(name)
        for leftover in directory.iterdir():  # of an interrupted create
            if leftover.name != _LOCK:
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        # Vectors, graphs and payload are memory-mapped and left to the page cache (Cached),
        # not copied into process memory: an optimize of 1M records held both the old and
        # the new segment in anonymous memory (RSS past 8 GiB); page cache is given back
        # under pressure. Warm queries run as fast either way.
        cached = qe.Memory.Cached
        datatypes = vector_datatypes(spec.vectors)
        config = qe.EdgeConfig(
            vectors={vector: qe.EdgeVectorParams(size=dense.size, distance=qe.Distance.Cosine, memory=cached,
                                                 datatype=_DATATYPES[datatypes[vector]])
                     for vector, dense in spec.vectors.items()},
            sparse_vectors={vector: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=cached)
                            for vector in spec.sparse},
            hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000, memory=cached),
            payload_memory=cached,
            wal_enabled=False,
        )
        shard = qe.EdgeShard.create(str(directory / "shard"), config)
        for key in spec.keyword_fields:
            shard.update(qe.UpdateOperation.create_field_index(key, _KEYWORD_ON_DISK))
        for key in spec.integer_fields:
            shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Integer))
        for key in spec.text_fields:
            shard.update(qe.UpdateOperation.create_field_index(
                key, qe.TextIndexParams(tokenizer=qe.TokenizerType.Word, lowercase=True)))
        shard.flush()
        self._shards[name] = shard
        self._flush_writes[name] = True
        self._write_metadata(name, {**spec.to_metadata(), _KEYWORD_LAYOUT: "on_disk", _WAL: False,
                                    "vector_datatype": _described(datatypes)})

    def drop(self, name: str) -> None:
        self._close_shard(name)
        directory = self.path / check_name(name)
        if directory.exists():
            self._take_lock(name)  # never pull a shard from under another process
            try:
                shutil.rmtree(directory)
            finally:
                self._release_lock(name)

    def metadata(self, name: str) -> dict[str, Any]:
        meta = self.path / check_name(name) / _META
        if not meta.is_file():
            raise CollectionNotFound(_not_found(name, self.location, self.collections()))
        return json.loads(meta.read_text())

    def update_metadata(self, name: str, changes: dict[str, Any]) -> None:
        self._write_metadata(name, {**self.metadata(name), **changes})

    # -- points --------------------------------------------------------------------
    def count(self, name: str, filter: Filter | None = None) -> int:
        return self._shard(name).count(qe.CountRequest(exact=True, filter=_filter(filter)))

    def upsert(self, name: str, points: Iterable[Point]) -> None:
        shard = self._shard(name)
        batch: list[qe.Point] = []
        for point in points:
            vectors = {k: _vector(v) for k, v in point.vectors.items()}
            batch.append(qe.Point(uuid.UUID(point.id), vectors, point.payload))
            if len(batch) >= _BATCH:
                shard.update(qe.UpdateOperation.upsert_points(batch))
                batch = []
        if batch:
            shard.update(qe.UpdateOperation.upsert_points(batch))
        self._written(name, shard)

    def delete(self, name: str, filter: Filter) -> None:
        shard = self._shard(name)
        shard.update(qe.UpdateOperation.delete_points_by_filter(_filter(filter)))
        self._written(name, shard)

    def update_vectors(self, name: str, vectors: dict[str, dict[str, list[float]]]) -> None:
        shard = self._shard(name)
        items = [qe.PointVectors(uuid.UUID(i), v) for i, v in vectors.items()]
        for start in range(0, len(items), _BATCH):
            shard.update(qe.UpdateOperation.update_vectors(items[start:start + _BATCH]))
        self._written(name, shard)

    def yield_to_readers(self, name: str) -> None:
        """If another process waits for this collection, close the shard until it has had it."""
        if name not in self._shards or not self._waiting(name):
            return
        self._close_shard(name)
        deadline = time.monotonic() + 60
        while self._waiting(name) and time.monotonic() < deadline:
            time.sleep(_POLL)  # the reader removes its marker once it holds the lock

    def retrieve(self, name: str, ids: list[str], with_vectors: bool = False) -> list[Point]:
        records = self._shard(name).retrieve([uuid.UUID(i) for i in ids], with_payload=True,
                                             with_vector=with_vectors)
        return [Point(str(r.id), _vectors_out(r.vector) if with_vectors else {}, r.payload or {}) for r in records]

    def search(self, name: str, searches: list[Query]) -> list[list[Hit]]:
        shard = self._shard(name)
        requests = [_request(s) for s in searches]
        results = shard.query_batch(qe.QueryBatchRequest(requests)) if len(requests) > 1 \
            else [shard.query(requests[0])]
        return [[Hit(str(p.id), float(p.score), p.payload or {}) for p in points] for points in results]

    def scroll(self, name: str, fields: list[str] | None = None,
               filter: Filter | None = None) -> Iterator[Hit]:
        shard = self._shard(name)
        offset = None
        while True:
            records, offset = shard.scroll(qe.ScrollRequest(
                offset=offset, limit=1024, filter=_filter(filter),
                with_payload=fields if fields is not None else True))
            for record in records:
                yield Hit(str(record.id), 0.0, record.payload or {})
            if offset is None:
                return

    def facet(self, name: str, key: str, limit: int = 100) -> dict[str, int]:
        response = self._shard(name).facet(qe.FacetRequest(key=key, limit=limit, exact=True))
        return {str(hit.value): hit.count for hit in response.hits}

    def optimize(self, name: str) -> None:
        shard = self._shard(name)
        self._keyword_indexes_on_disk(name, shard)
        shard.flush()
        shard.optimize()

    def flush(self, name: str) -> None:
        self._shard(name).flush()

    def close(self) -> None:
        for name in list(self._shards):
            self._close_shard(name)

    # -- internals -----------------------------------------------------------------
    def _written(self, name: str, shard: qe.EdgeShard) -> None:
        """A write is durable once it returns: without a WAL, that takes a flush into the segments."""
        if self._flush_writes.get(name):
            shard.flush()

    def _write_metadata(self, name: str, metadata: dict[str, Any]) -> None:
        """collection.json, replaced atomically: it is what marks a collection complete."""
        directory = self.path / check_name(name)
        tmp = directory / (_META + ".tmp")
        tmp.write_text(json.dumps(metadata, indent=2))
        tmp.replace(directory / _META)

    def _keyword_indexes_on_disk(self, name: str, shard: qe.EdgeShard) -> None:
        """A collection made before keyword indexes went on disk gets them rebuilt, once, on a write.

        Never on a search: a search must not change the store (and would pay ~0.6 s an index
        on 70k points, once).
        """
        metadata = self.metadata(name)
        if metadata.get(_KEYWORD_LAYOUT) == "on_disk":
            return
        for key in metadata.get("keyword_fields", []):
            shard.update(qe.UpdateOperation.delete_field_index(key))
            shard.update(qe.UpdateOperation.create_field_index(key, _KEYWORD_ON_DISK))
        shard.flush()
        self._write_metadata(name, {**metadata, _KEYWORD_LAYOUT: "on_disk"})

    def _shard(self, name: str) -> qe.EdgeShard:
        shard = self._shards.get(name)
        if shard is not None:
            return shard
        if not self.exists(name):
            raise CollectionNotFound(_not_found(name, self.location, self.collections()))
        self._take_lock(name)
        try:
            shard = qe.EdgeShard.load(str(self.path / name / "shard"))
        except Exception as exc:  # noqa: BLE001 - Edge raises plain Exception
            self._release_lock(name)
            if "WouldBlock" in str(exc):  # held by a process that does not take our lock (an older semsearch)
                raise StoreLocked(self._locked(name)) from None
            raise StoreError(f"cannot open collection {name!r} in {self.location}: {exc}") from exc
        self._shards[name] = shard
        self._flush_writes[name] = self.metadata(name).get(_WAL, True) is False
        return shard

    def _locked(self, name: str) -> str:
        return (f"the store {self.location} is in use by another semsearch process (collection {name!r}); "
                f"wait for it to finish or stop it")

    def _try_lock(self, name: str) -> bool:
        if name in self._locks:
            return True
        fd = os.open(self.path / name / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._locks[name] = fd
        return True

    def _take_lock(self, name: str) -> None:
        """Our advisory lock on the collection, waiting for it (with a marker) when `wait` allows."""
        if self._try_lock(name):
            return
        if self.wait <= 0:
            raise StoreLocked(self._locked(name))
        marker = self.path / _WAITING / f"{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
        if self.on_wait is not None:
            self.on_wait(f"waiting for another semsearch process to let go of {self.location} (collection {name!r})")
        try:
            deadline = time.monotonic() + self.wait
            while time.monotonic() < deadline:
                time.sleep(_POLL)
                if self._try_lock(name):
                    return
        finally:
            marker.unlink(missing_ok=True)
        raise StoreLocked(self._locked(name) + f" (waited {self.wait:.0f} s)")

    def _release_lock(self, name: str) -> None:
        fd = self._locks.pop(name, None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _waiting(self, name: str) -> bool:
        folder = self.path / _WAITING
        try:
            return any(entry.name.startswith(name + ".") for entry in os.scandir(folder))
        except OSError:
            return False

    def _close_shard(self, name: str) -> None:
        shard = self._shards.pop(name, None)
        try:
            if shard is not None:
                shard.flush()
                shard.close()
                del shard
        finally:
            self._release_lock(name)


def _not_found(name: str, location: str, existing: list[str]) -> str:
    have = ", ".join(existing) if existing else "none"
    return f"no collection {name!r} in {location} (collections: {have})"


def _vector(v: list[float] | SparseVector) -> Any:
    return qe.SparseVector(v.indices, v.values) if isinstance(v, SparseVector) else v


def _vectors_out(vector: Any) -> dict[str, list[float] | SparseVector]:
    out: dict[str, list[float] | SparseVector] = {}
    for key, value in (vector or {}).items():
        if isinstance(value, qe.SparseVector):
            out[key] = SparseVector(list(value.indices), list(value.values))
        else:
            out[key] = list(value)
    return out


def _request(query: Query) -> qe.QueryRequest:
    if isinstance(query, Search):
        return qe.QueryRequest(limit=query.limit, query=qe.Query.Nearest(_vector(query.vector), using=query.using),
                               filter=_filter(query.filter), with_payload=query.with_payload)
    prefetches = [qe.Prefetch(limit=s.limit, query=qe.Query.Nearest(_vector(s.vector), using=s.using),
                              filter=_filter(s.filter)) for s in query.searches]
    fusion: Any
    if query.method == "sum":
        e = qe.Expression
        fusion = qe.Formula(e.Sum([e.Mult([e.Constant(w), e.Variable(f"$score[{i}]")]) for i, w, _ in query.terms()]),
                            defaults={f"$score[{i}]": d for i, _, d in query.terms()})
    elif query.method == "dbsf":
        fusion = qe.Fusion.Dbsf()
    else:
        fusion = qe.Fusion.Rrf(k=query.k, weights=query.weights)
    return qe.QueryRequest(limit=query.limit, prefetches=prefetches, query=fusion, with_payload=query.with_payload)


def _filter(f: Filter | None) -> qe.Filter | None:
    if not f:
        return None

    def condition(m: Any) -> Any:
        if isinstance(m, HasVector):
            return qe.HasVectorCondition(m.name)
        if isinstance(m, MatchText):
            return qe.FieldCondition(key=m.key, match=qe.MatchText(text=m.text))
        if isinstance(m, Prefix):
            starts = [qe.FieldCondition(key=m.key, match=qe.MatchPrefix(prefix=p)) for p in m.prefixes]
            return starts[0] if len(starts) == 1 else qe.Filter(should=starts)
        match = qe.MatchAny(any=m.value) if isinstance(m.value, list) else qe.MatchValue(value=m.value)
        return qe.FieldCondition(key=m.key, match=match)

    must, must_not = f.translate(condition, lambda ids: qe.HasIdCondition(point_ids={uuid.UUID(i) for i in ids}))
    return qe.Filter(must=must or None, must_not=must_not or None)
