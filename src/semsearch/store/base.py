"""The one interface every vector store backend implements.

Callers speak in these small types only, never in a backend's own classes, so the
embedded engine (Qdrant Edge) and a Qdrant server or cluster are interchangeable.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

COLLECTION_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"  # also the API's declared pattern
_NAME = re.compile(COLLECTION_NAME)


class StoreError(RuntimeError):
    """A store problem worth one clear line to the user."""


class StoreLocked(StoreError):
    pass


class CollectionNotFound(StoreError):
    pass


@dataclass(frozen=True)
class DenseVector:
    size: int
    model: str
    precision: str = "fp32"  # of the model's weights that made the vectors: fp32 or int8 (see embedding.py)


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass
class CollectionSpec:
    """What a collection holds; saved with it so readers know how it was built."""

    vectors: dict[str, DenseVector]
    # Sparse named vectors, weighted by Qdrant's IDF modifier at query time.
    sparse: dict[str, str] = field(default_factory=dict)  # name -> what makes it (e.g. "bm25-code")
    keyword_fields: list[str] = field(default_factory=list)
    integer_fields: list[str] = field(default_factory=list)
    text_fields: list[str] = field(default_factory=list)  # full-text (word) indexes
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        return {
            **self.metadata,
            "vectors": {k: {"size": v.size, "model": v.model, "precision": v.precision} for k, v in self.vectors.items()},
            "sparse": dict(self.sparse),
            "keyword_fields": list(self.keyword_fields),
            "integer_fields": list(self.integer_fields),
            "text_fields": list(self.text_fields),
        }


@dataclass(frozen=True)
class Match:
    """payload[key] equals value, or is one of value when value is a list."""

    key: str
    value: str | int | bool | list[str] | list[int]


@dataclass(frozen=True)
class MatchText:
    """payload[key], a full-text indexed field, contains every word of text."""

    key: str
    text: str


@dataclass(frozen=True)
class Prefix:
    """payload[key], a keyword-indexed field, starts with one of prefixes.
    Only a store whose `matches_prefixes` is true takes it (Qdrant 1.16 servers have no prefix match)."""

    key: str
    prefixes: list[str]


@dataclass(frozen=True)
class HasVector:
    """The point has the named vector (dense vectors are filled in after the lexical pass)."""

    name: str


Condition = Match | MatchText | Prefix | HasVector


@dataclass
class Filter:
    must: list[Condition] = field(default_factory=list)
    must_not: list[Condition] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # only these points
    exclude_ids: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.must or self.must_not or self.ids or self.exclude_ids)

    def translate(self, condition: Callable[[Condition], Any],
                  has_id: Callable[[list[str]], Any]) -> tuple[list[Any], list[Any]]:
        """(must, must_not) in a backend's own types, given how it spells a condition and an id set."""
        must = [condition(c) for c in self.must] + ([has_id(self.ids)] if self.ids else [])
        must_not = [condition(c) for c in self.must_not] + ([has_id(self.exclude_ids)] if self.exclude_ids else [])
        return must, must_not


@dataclass
class Point:
    id: str
    vectors: dict[str, list[float] | SparseVector]
    payload: dict[str, Any]


@dataclass
class Search:
    """Nearest neighbours of `vector` in the named vector `using`."""

    using: str
    vector: list[float] | SparseVector
    limit: int
    filter: Filter | None = None
    with_payload: bool | list[str] = True  # or the payload fields to return


@dataclass
class Fused:
    """Several searches fused by Qdrant itself into one ranking (prefetch + fusion).

    method "rrf": reciprocal rank fusion, optionally weighted; "dbsf": distribution-based
    score fusion; "sum": a formula, sum of weight * score over the searches, a search that
    did not return a point counting its entry in `defaults` (0 when not given).
    """

    searches: list[Search]
    limit: int
    method: str = "rrf"
    weights: list[float] | None = None
    k: int = 60
    defaults: list[float] | None = None
    with_payload: bool | list[str] = True

    def terms(self) -> list[tuple[int, float, float]]:
        """For method "sum": (search index, weight, default score) of each term of the formula."""
        weights = self.weights or [1.0] * len(self.searches)
        defaults = self.defaults or [0.0] * len(self.searches)
        return list(zip(range(len(self.searches)), weights, defaults))


Query = Search | Fused


@dataclass
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


def is_point_id(value: object) -> bool:
    """Point ids are UUIDs; anything else names no point (and must not reach a backend)."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise StoreError(f"invalid collection name {name!r}: use letters, digits, '_', '-', '.'")
    return name


class Store(ABC):
    """A set of named collections of points with named dense vectors and a JSON payload."""

    location: str
    matches_prefixes: bool = False  # takes Prefix conditions

    @abstractmethod
    def collections(self) -> list[str]: ...

    @abstractmethod
    def exists(self, name: str) -> bool: ...

    @abstractmethod
    def create(self, name: str, spec: CollectionSpec) -> None: ...

    @abstractmethod
    def drop(self, name: str) -> None: ...

    @abstractmethod
    def metadata(self, name: str) -> dict[str, Any]:
        """The spec saved at create time (see CollectionSpec.to_metadata), with later updates."""

    @abstractmethod
    def update_metadata(self, name: str, changes: dict[str, Any]) -> None:
        """Replace these top-level keys of the collection's metadata (the others stay)."""

    @abstractmethod
    def count(self, name: str, filter: Filter | None = None) -> int: ...

    @abstractmethod
    def upsert(self, name: str, points: Iterable[Point]) -> None: ...

    @abstractmethod
    def delete(self, name: str, filter: Filter) -> None: ...

    @abstractmethod
    def update_vectors(self, name: str, vectors: dict[str, dict[str, list[float]]]) -> None:
        """Set named vectors of existing points (point id → {vector name: vector}), payload untouched."""

    @abstractmethod
    def retrieve(self, name: str, ids: list[str], with_vectors: bool = False) -> list[Point]:
        """The points with these ids that exist (vectors empty unless asked for)."""

    @abstractmethod
    def search(self, name: str, searches: list[Query]) -> list[list[Hit]]:
        """Run several queries as one batch; one hit list per query, in order."""

    @abstractmethod
    def scroll(self, name: str, fields: list[str] | None = None,
               filter: Filter | None = None) -> Iterator[Hit]:
        """Every point (score 0) with the named payload fields, or all of it when None."""

    @abstractmethod
    def facet(self, name: str, key: str, limit: int = 100) -> dict[str, int]:
        """Distinct values of a keyword field with their point counts."""

    @abstractmethod
    def optimize(self, name: str) -> None:
        """Build search indexes (HNSW) after a bulk write."""

    @abstractmethod
    def close(self) -> None: ...

    def yield_to_readers(self, name: str) -> None:
        """Between a long writer's batches: let another process that waits for the store read it.

        Only an embedded store belongs to one process; a server serves everyone at once.
        """

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
