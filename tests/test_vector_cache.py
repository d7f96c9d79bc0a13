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
