"""One store used by several threads: the server's requests and its indexing job.

An embedded Qdrant Edge shard is one object in this process and takes one call at a time,
so every call goes through a lock. Calls are short (a query, one batch of upserts), so a
search waits at most for the batch being written, not for the whole indexing run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from semsearch.store.base import CollectionSpec, Filter, Hit, Point, Query, Store


class SharedStore(Store):
    def __init__(self, inner: Store, lock: threading.RLock | None = None) -> None:
        self.inner = inner
        self.lock = lock or threading.RLock()
        self.location = inner.location
        self.matches_prefixes = inner.matches_prefixes

    def collections(self) -> list[str]:
        with self.lock:
            return self.inner.collections()

    def exists(self, name: str) -> bool:
        with self.lock:
            return self.inner.exists(name)

    def create(self, name: str, spec: CollectionSpec) -> None:
        with self.lock:
            self.inner.create(name, spec)

    def drop(self, name: str) -> None:
        with self.lock:
            self.inner.drop(name)

    def metadata(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self.inner.metadata(name)

    def update_metadata(self, name: str, changes: dict[str, Any]) -> None:
        with self.lock:
            self.inner.update_metadata(name, changes)

    def count(self, name: str, filter: Filter | None = None) -> int:
        with self.lock:
            return self.inner.count(name, filter)

    def upsert(self, name: str, points: Iterable[Point]) -> None:
        with self.lock:
            self.inner.upsert(name, points)

    def delete(self, name: str, filter: Filter) -> None:
        with self.lock:
            self.inner.delete(name, filter)

    def update_vectors(self, name: str, vectors: dict[str, dict[str, list[float]]]) -> None:
        with self.lock:
            self.inner.update_vectors(name, vectors)

    def yield_to_readers(self, name: str) -> None:
        with self.lock:
            self.inner.yield_to_readers(name)

    def retrieve(self, name: str, ids: list[str], with_vectors: bool = False) -> list[Point]:
        with self.lock:
            return self.inner.retrieve(name, ids, with_vectors)

    def search(self, name: str, searches: list[Query]) -> list[list[Hit]]:
        with self.lock:
            return self.inner.search(name, searches)

    def scroll(self, name: str, fields: list[str] | None = None, filter: Filter | None = None) -> Iterator[Hit]:
        with self.lock:  # read whole under the lock: a paused generator must not hold it
            return iter(list(self.inner.scroll(name, fields, filter)))

    def facet(self, name: str, key: str, limit: int = 100) -> dict[str, int]:
        with self.lock:
            return self.inner.facet(name, key, limit)

    def optimize(self, name: str) -> None:
        with self.lock:
            self.inner.optimize(name)

    def close(self) -> None:
        """Nothing: whoever opened the inner store closes it."""
