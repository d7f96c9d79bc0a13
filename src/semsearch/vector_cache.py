"""Embeddings kept by content: (model, precision, text) → vector, in one SQLite file.

The model is the expensive part of indexing, and most of what it is asked to embed it has
seen before: the unchanged functions of an edited file, a collection rebuilt with
`--recreate`, the same package checked out twice. Keyed by a hash of the exact text, a hit
is exactly the vector the model would return. The file lives in the cache folder
(SEMSEARCH_CACHE, else ~/.cache/semsearch), outside every store, so dropping a collection
does not drop it; SEMSEARCH_VECTOR_CACHE names another file, or `off`. A cache that cannot be opened or
written is skipped, never an error: it only saves time.

It would grow forever (~3 KB a structure: 430 MB for the CPython standard library), so each
row records the day it was last written or read, and `semsearch cache prune` drops what no
index has used for a while.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semsearch.embedding import Encoder, cache_dir

CHUNK = 500  # keys per SELECT … IN (…), under SQLite's variable limit


def today() -> int:
    """Days since the epoch: `used` is kept per day, so a day's hits cost one UPDATE at most."""
    return int(time.time() // 86400)


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
                self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL,"
                                 " used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID")
                columns = {row[1] for row in self._db.execute("PRAGMA table_info(vectors)")}
                if "used" not in columns:  # a cache from before rows were dated: count its rows as used today
                    self._db.execute(f"ALTER TABLE vectors ADD COLUMN used INTEGER NOT NULL DEFAULT {today()}")
            except (OSError, sqlite3.Error):
                self._db = None

    def encode(self, encoder: Encoder, texts: Sequence[str], space: str) -> np.ndarray:
        """encoder.encode(texts), with every vector already known for `space` taken from the cache."""
        if self._db is None:
            self.misses += len(texts)
            return encoder.encode(texts)
        keys = [self._key(space, text) for text in texts]
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
        self._touch(list(found))
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        return out

    def lookup(self, texts: Sequence[str], space: str, dim: int) -> list[np.ndarray | None]:
        """Per text, its vector for `space` if cached, else None; no encoder is needed."""
        if self._db is None or not texts:
            return [None] * len(texts)
        keys = [self._key(space, text) for text in texts]
        found = {key: blob for key, blob in self._get(keys).items() if len(blob) == dim * 4}
        self._touch(list(found))
        self.hits += len(found)
        return [np.frombuffer(found[key], np.float32) if key in found else None for key in keys]

    def stats(self) -> CacheStats:
        try:
            entries, oldest = self._open().execute("SELECT count(*), min(used) FROM vectors").fetchone()
        except sqlite3.Error as exc:
            raise CacheUnavailable(f"cannot read the vector cache {self.path}: {exc}") from None
        return CacheStats(self.path, entries, _file_size(self.path), oldest if entries else None)

    def prune(self, unused_days: int) -> int:
        """Drop the vectors no index has written or read in `unused_days` days; give the space back.

        One transaction: if it fails (another process holds the file too long), nothing is lost.
        """
        db = self._open()
        try:
            with db:
                dropped = db.execute("DELETE FROM vectors WHERE used <= ?", (today() - unused_days,)).rowcount
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # else the freed pages live on in the log
        except sqlite3.Error as exc:
            raise CacheUnavailable(f"cannot prune the vector cache {self.path}: {exc}") from None
        return dropped

    @staticmethod
    def _key(space: str, text: str) -> bytes:
        return hashlib.sha1(f"{space}\0{text}".encode("utf-8", errors="replace")).digest()

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            raise CacheUnavailable(f"the vector cache {self.path} cannot be opened as a cache")
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _get(self, keys: list[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        try:
            for part, marks in _in_chunks(keys):
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part))
        except sqlite3.Error:
            return {}
        return found

    def _put(self, rows: list[tuple[bytes, bytes]]) -> None:
        day = today()
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector, used) VALUES (?, ?, ?)",
                                     [(key, vector, day) for key, vector in rows])
        except sqlite3.Error:
            pass

    def _touch(self, keys: list[bytes]) -> None:
        """Mark hits as used today (rows already marked today are left alone)."""
        day = today()
        try:
            with self._db:
                for part, marks in _in_chunks(keys):
                    self._db.execute(f"UPDATE vectors SET used = ? WHERE used < ? AND key IN ({marks})",
                                     [day, day, *part])
        except sqlite3.Error:
            pass


def _in_chunks(keys: list[bytes]) -> Iterator[tuple[list[bytes], str]]:
    """Keys in slices of CHUNK, each with its `?,?,…` placeholders for `key IN (…)`."""
    for start in range(0, len(keys), CHUNK):
        part = keys[start:start + CHUNK]
        yield part, ",".join("?" * len(part))


class CacheUnavailable(Exception):
    """The cache is off, or its file cannot be opened as a cache."""


@dataclass
class CacheStats:
    path: Path | None
    entries: int
    size: int  # bytes on disk, the write-ahead log included
    oldest_day: int | None  # the day the least recently used row was last used


def _file_size(path: Path | None) -> int:
    if path is None:
        return 0
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
