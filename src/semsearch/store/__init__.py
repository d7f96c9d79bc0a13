"""Vector stores behind one interface: embedded Qdrant Edge (default) or a Qdrant server."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from semsearch.store.base import (
    COLLECTION_NAME,
    CollectionNotFound,
    CollectionSpec,
    DenseVector,
    Filter,
    Fused,
    HasVector,
    Hit,
    Match,
    MatchText,
    Point,
    Prefix,
    Query,
    Search,
    SparseVector,
    Store,
    StoreError,
    StoreLocked,
    is_point_id,
)

STORE_DIR = ".semsearch"

__all__ = [
    "COLLECTION_NAME", "CollectionNotFound", "CollectionSpec", "DenseVector", "Filter", "Fused", "HasVector", "Hit", "Match", "MatchText", "Point",
    "Query", "Search", "SparseVector", "Store", "StoreError", "StoreLocked", "STORE_DIR", "is_point_id", "open_store", "find_store_dir",
]


def find_store_dir(start: Path) -> Path | None:
    """The nearest `.semsearch/` at or above start, as git finds `.git`."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / STORE_DIR
        if candidate.is_dir():
            return candidate
    return None


def open_store(path: Path | None = None, url: str | None = None, api_key: str | None = None,
               shards: int | None = None, replicas: int | None = None,
               write_consistency: int | None = None, wait: float = 0.0,
               on_wait: Callable[[str], None] | None = None) -> Store:
    """A server store when a URL is given (or QDRANT_URL is set), else the embedded one at path.

    shards, replicas and write_consistency shape collections created on a Qdrant cluster;
    the embedded store is one shard on one machine and refuses them. wait (seconds) and
    on_wait: how the embedded store waits for another process that holds it (EdgeStore).
    """
    url = url or os.environ.get("QDRANT_URL")
    if url:
        from semsearch.store.server import Distribution, ServerStore

        return ServerStore(url=url, api_key=api_key or os.environ.get("QDRANT_API_KEY"),
                           distribution=Distribution(shards, replicas, write_consistency))
    if shards or replicas or write_consistency:
        raise StoreError("--shards, --replicas and --write-consistency need a Qdrant server (--qdrant-url)")
    if path is None:
        raise StoreError("no store: pass --store DIR or --qdrant-url URL")
    from semsearch.store.edge import EdgeStore

    return EdgeStore(path, wait=wait, on_wait=on_wait)
