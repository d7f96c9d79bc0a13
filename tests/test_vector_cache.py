"""The vector cache returns exactly what the model would, and only asks the model for the rest."""

import sqlite3
from pathlib import Path

import numpy as np

from semsearch.embedding import MINILM, encoder
from semsearch.vector_cache import VectorCache


class Counting:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = encoder(MINILM)
        self.dim = self.inner.dim
        self.seen: list[str] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.seen += list(texts)
        return self.inner.encode(texts)


def test_hits_are_the_models_vectors(tmp_path: Path) -> None:
    model = Counting()
    cache = VectorCache(tmp_path / "vectors.sqlite")
    first = cache.encode(model, ["open a file", "close a socket"], "m@fp32")
    again = cache.encode(model, ["close a socket", "parse json", "open a file"], "m@fp32")
    assert model.seen == ["open a file", "close a socket", "parse json"]
    assert (cache.hits, cache.misses) == (2, 3)
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    assert np.allclose(again[1], model.inner.encode(["parse json"])[0])


def test_spaces_are_separate_and_survive_reopening(tmp_path: Path) -> None:
    model = Counting()
    VectorCache(tmp_path / "v.sqlite").encode(model, ["x"], "a@fp32")
    reopened = VectorCache(tmp_path / "v.sqlite")
    reopened.encode(model, ["x"], "a@fp32")
    reopened.encode(model, ["x"], "a@int8")  # another precision is another vector
    assert model.seen == ["x", "x"] and reopened.hits == 1


def test_a_broken_cache_only_costs_time(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    model = Counting()
    vectors = VectorCache(path).encode(model, ["a", "b"], "m@fp32")
    assert vectors.shape == (2, model.dim) and model.seen == ["a", "b"]
    good = tmp_path / "good.sqlite"
    VectorCache(good).encode(model, ["a"], "m@fp32")
    with sqlite3.connect(good) as db:
        db.execute("UPDATE vectors SET vector = x'00'")  # a truncated row is a miss, not a crash
    assert np.allclose(VectorCache(good).encode(model, ["a"], "m@fp32")[0], model.inner.encode(["a"])[0])


def test_setting(monkeypatch, tmp_path: Path) -> None:
    from semsearch.vector_cache import default_path

    monkeypatch.setenv("SEMSEARCH_VECTOR_CACHE", "off")
    assert default_path() is None
    monkeypatch.setenv("SEMSEARCH_VECTOR_CACHE", str(tmp_path / "elsewhere.sqlite"))
    assert default_path() == tmp_path / "elsewhere.sqlite"
    monkeypatch.delenv("SEMSEARCH_VECTOR_CACHE")
    monkeypatch.setenv("SEMSEARCH_CACHE", str(tmp_path))
    assert default_path() == tmp_path / "vectors.sqlite"


def _day_of(path: Path, text: str, space: str = "m@fp32") -> int:
    import hashlib

    key = hashlib.sha1(f"{space}\0{text}".encode()).digest()
    with sqlite3.connect(path) as db:
        return db.execute("SELECT used FROM vectors WHERE key = ?", (key,)).fetchone()[0]


def _age(path: Path, days: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE vectors SET used = used - ?", (days,))


def test_prune_drops_only_what_no_index_used_lately(tmp_path: Path) -> None:
    from semsearch.vector_cache import today

    path = tmp_path / "v.sqlite"
    model = Counting()
    VectorCache(path).encode(model, ["old", "kept"], "m@fp32")
    _age(path, 40)
    VectorCache(path).encode(model, ["kept"], "m@fp32")  # a hit: used again today
    assert _day_of(path, "kept") == today() and _day_of(path, "old") == today() - 40
    cache = VectorCache(path)
    assert cache.prune(unused_days=30) == 1
    assert cache.stats().entries == 1
    cache.encode(model, ["old", "kept"], "m@fp32")
    assert model.seen == ["old", "kept", "old"]  # only the pruned text went back to the model
    assert cache.prune(unused_days=0) == 2 and cache.stats().entries == 0


def test_a_cache_from_before_dates_is_kept_and_dated(tmp_path: Path) -> None:
    from semsearch.vector_cache import today

    path = tmp_path / "v.sqlite"
    model = Counting()
    with sqlite3.connect(path) as db:  # the layout session 2 wrote
        db.execute("CREATE TABLE vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID")
        import hashlib

        vector = model.inner.encode(["legacy"])[0].astype(np.float32).tobytes()
        db.execute("INSERT INTO vectors VALUES (?, ?)", (hashlib.sha1("m@fp32\0legacy".encode()).digest(), vector))
    cache = VectorCache(path)
    assert cache.stats().entries == 1 and cache.stats().oldest_day == today()
    cache.encode(model, ["legacy"], "m@fp32")
    assert model.seen == [] and cache.hits == 1
    assert cache.prune(unused_days=30) == 0


def test_cache_commands(cli, monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    monkeypatch.setenv("SEMSEARCH_VECTOR_CACHE", str(path))
    missing = cli("cache", "info", ok=False)
    assert missing.exit_code == 1 and "no vector cache yet" in missing.stderr
    VectorCache(path).encode(Counting(), ["a", "b", "c"], "m@fp32")
    _age(path, 10)
    VectorCache(path).encode(Counting(), ["c"], "m@fp32")
    assert "3 vectors" in cli("cache", "info").stdout
    assert "dropped 0 of 3 vectors" in cli("cache", "prune").stdout  # default: unused for 30 days
    assert "dropped 2 of 3 vectors; 1 left" in cli("cache", "prune", "--unused-days", "7").stdout
    monkeypatch.setenv("SEMSEARCH_VECTOR_CACHE", "off")
    assert "vector cache is off" in cli("cache", "prune", ok=False).stderr
    path.write_bytes(b"not a database" * 100)
    monkeypatch.setenv("SEMSEARCH_VECTOR_CACHE", str(path))
    broken = cli("cache", "info", ok=False)
    assert broken.exit_code == 1 and "cannot be opened as a cache" in broken.stderr


def test_prune_while_another_process_holds_the_cache_fails_cleanly(tmp_path: Path) -> None:
    from semsearch.vector_cache import CacheUnavailable

    path = tmp_path / "v.sqlite"
    VectorCache(path).encode(Counting(), ["a"], "m@fp32")
    _age(path, 40)
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # as an index run in the middle of writing
    cache = VectorCache(path)
    cache._db.execute("PRAGMA busy_timeout = 100")
    try:
        cache.prune(unused_days=30)
    except CacheUnavailable as exc:
        assert "cannot prune the vector cache" in str(exc)
    else:
        raise AssertionError("prune went ahead under an exclusive lock")
    holder.rollback()
    holder.close()
    assert cache.stats().entries == 1  # nothing lost
    assert cache.prune(unused_days=30) == 1
