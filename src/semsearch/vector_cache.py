"""Embeddings kept by content: (model, precision, text) → vector, in one SQLite file.

The model is the expensive part of indexing, and most of what it is asked to embed it has
seen before: the unchanged functions of an edited file, a collection rebuilt with
`--recreate`, the same package checked out twice. Keyed by a hash of the exact text, a hit
is exactly the vector the model would return. The file lives in the cache folder
(SEMSEARCH_CACHE, else ~/.cache/semsearch), outside every store, so dropping a collection
does not drop it; SEMSEARCH_VECTOR_CACHE names another file, or `off`. A cache that cannot be opened or
written is skipped, never an error: it only saves time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semsearch.embedding import Encoder, cache_dir

CHUNK = 500  # keys per SELECT … IN (…), under SQLite's variable limit


def default_path() -> Path | None:
    setting = os.environ.get("SEMSEARCH_VECTOR_CACHE", "")
    if setting.lower() in {"off", "0", "false", "no"}:
        return None
    return Path(setting) if setting else cache_dir() / "vectors.sqlite"


class VectorCache:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
                                 " WITHOUT ROWID")
            except (OSError, sqlite3.Error):
                self._db = None

    def encode(self, encoder: Encoder, texts: Sequence[str], space: str) -> np.ndarray:
        """encoder.encode(texts), with every vector already known for `space` taken from the cache."""
        if self._db is None:
            self.misses += len(texts)
            return encoder.encode(texts)
        keys = [hashlib.sha1(f"{space}\0{text}".encode("utf-8", errors="replace")).digest() for text in texts]
        size = encoder.dim * 4
        found = {key: blob for key, blob in self._get(keys).items() if len(blob) == size}
        missing = [i for i, key in enumerate(keys) if key not in found]
        out = np.zeros((len(texts), encoder.dim), np.float32)
        if missing:
            fresh = encoder.encode([texts[i] for i in missing])
            out[missing] = fresh
            self._put([(keys[i], fresh[row].astype(np.float32).tobytes()) for row, i in enumerate(missing)])
        for i, key in enumerate(keys):
            if key in found:
                out[i] = np.frombuffer(found[key], np.float32)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        return out

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _get(self, keys: list[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        try:
            for start in range(0, len(keys), CHUNK):
                part = keys[start:start + CHUNK]
                marks = ",".join("?" * len(part))
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part))
        except sqlite3.Error:
            return {}
        return found

    def _put(self, rows: list[tuple[bytes, bytes]]) -> None:
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.Error:
            pass
