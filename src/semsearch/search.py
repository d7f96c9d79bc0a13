"""Query a code collection: modes, the seed's merge with overlapping lines, filters, group-by.

Modes:
  text  the natural-language model over the textified structures
  code  the code model over raw snippets
  both  the seed tutorial's merge: text hits first; a code hit overlapping a text hit in
        the same file is folded into it and the shared line ranges are reported; the
        remaining code hits follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from semsearch.chunking.languages import ALL_LANGUAGES
from semsearch.embedding import encoder
from semsearch.indexer import resolve_models
from semsearch.store import Filter, Match, Search, Store, StoreError

MODES = ("text", "code", "both")
MAX_LIMIT = 1000

# Short names users type → payload paths.
FIELD_ALIASES = {
    "path": "context.file_path", "file_path": "context.file_path",
    "file": "context.file_name", "file_name": "context.file_name",
    "module": "context.module", "struct": "context.struct_name", "struct_name": "context.struct_name",
    "type": "code_type", "kind": "code_type",
}


class QueryError(StoreError):
    """A query the user can fix: bad mode, filter or limit."""


@dataclass
class SearchHit:
    id: str
    score: float
    payload: dict[str, Any]
    overlap: list[list[int]] = field(default_factory=list)
    found_by: str = "text"

    @property
    def path(self) -> str:
        return self.payload.get("context", {}).get("file_path", "")

    @property
    def line_from(self) -> int:
        return int(self.payload.get("line_from", 0))

    @property
    def line_to(self) -> int:
        return int(self.payload.get("line_to", 0))

    def to_json(self) -> dict[str, Any]:
        p = self.payload
        ctx = p.get("context", {})
        return {
            "path": self.path, "line_from": self.line_from, "line_to": self.line_to,
            "name": p.get("name"), "signature": p.get("signature"), "code_type": p.get("code_type"),
            "language": p.get("language"), "score": round(self.score, 6), "overlap": self.overlap,
            "struct_name": ctx.get("struct_name"), "module": ctx.get("module"),
            "docstring": p.get("docstring"), "snippet": ctx.get("snippet"), "found_by": self.found_by,
        }


@dataclass
class Group:
    value: Any
    hits: list[SearchHit]

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "hits": [h.to_json() for h in self.hits]}


def field_path(name: str) -> str:
    return FIELD_ALIASES.get(name, name)


def payload_value(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def parse_filters(items: list[str], separator: str = "=") -> list[Match]:
    """`FIELD=VALUE` strings → matches; the same field given twice means any of the values."""
    values: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition(separator)
        if not sep or not key.strip() or not value.strip():
            raise QueryError(f"bad filter {item!r}: expected FIELD{separator}VALUE, e.g. language{separator}python")
        values.setdefault(field_path(key.strip()), []).append(value.strip())
    return [Match(k, v[0] if len(v) == 1 else v) for k, v in values.items()]


def merge_overlapping(text_hits: list[SearchHit], code_hits: list[SearchHit]) -> list[SearchHit]:
    """The seed's merge: fold code hits into overlapping text hits, append the rest."""
    rest: list[SearchHit] = []
    for code_hit in code_hits:
        matched = False
        for text_hit in text_hits:
            if text_hit.path != code_hit.path:
                continue
            lo = max(text_hit.line_from, code_hit.line_from)
            hi = min(text_hit.line_to, code_hit.line_to)
            if lo <= hi:
                text_hit.overlap.append([lo, hi])
                text_hit.found_by = "both"
                matched = True
        if not matched:
            rest.append(code_hit)
    for hit in text_hits:
        hit.overlap = _union(hit.overlap)
    return text_hits + rest


def _union(ranges: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def group_hits(hits: list[SearchHit], field: str, limit: int, group_size: int) -> list[Group]:
    """Best `group_size` hits per distinct value of `field`, groups in order of their best hit."""
    groups: dict[str, Group] = {}
    for hit in hits:
        value = payload_value(hit.payload, field)
        key = repr(value)
        group = groups.get(key)
        if group is None:
            if len(groups) >= limit:
                continue
            group = groups[key] = Group(value, [])
        if len(group.hits) < group_size:
            group.hits.append(hit)
    return list(groups.values())


class Searcher:
    """Searches one code collection with the models that built it."""

    def __init__(self, store: Store, collection: str, *, text_model: str | None = None,
                 code_model: str | None = None, device: str | None = None) -> None:
        self.store = store
        self.collection = collection
        metadata = store.metadata(collection)
        if metadata.get("kind", "code") != "code":
            raise QueryError(f"collection {collection!r} holds {metadata.get('kind')}, not code")
        self.models = resolve_models(metadata, text_model, code_model)
        self.device = device
        self._languages: set[str] | None = None

    def check_filters(self, matches: list[Match]) -> None:
        for match in matches:
            if match.key != "language":
                continue
            values = match.value if isinstance(match.value, list) else [match.value]
            if self._languages is None:
                self._languages = set(self.store.facet(self.collection, "language", limit=1000))
            for value in values:
                if value not in self._languages:
                    known = ", ".join(sorted(self._languages)) or "none"
                    what = "unknown language" if value not in ALL_LANGUAGES else "no structures in language"
                    raise QueryError(f"{what} {value!r} (this collection has: {known})")

    def search(self, query: str, *, mode: str = "both", limit: int = 10,
               filters: list[Match] | None = None) -> list[SearchHit]:
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        if not query.strip():
            raise QueryError("empty query")
        filters = filters or []
        self.check_filters(filters)
        flt = Filter(must=filters) if filters else None
        if mode == "text":
            return self._run([Search("text", self._embed("text", query), limit, flt)], "text")[0]
        if mode == "code":
            return self._run([Search("code", self._embed("code", query), limit, flt)], "code")[0]
        text_limit = max(1, math.ceil(limit / 2))
        text_hits, code_hits = self._run([
            Search("text", self._embed("text", query), text_limit, flt),
            Search("code", self._embed("code", query), text_limit * 4, flt),
        ], None)
        return merge_overlapping(text_hits, code_hits)[:limit]

    def search_groups(self, query: str, *, group_by: str, group_size: int = 1, mode: str = "both",
                      limit: int = 10, filters: list[Match] | None = None) -> list[Group]:
        if group_size < 1:
            raise QueryError("group size must be at least 1")
        fetch = min(MAX_LIMIT, max(limit * group_size * 5, 50))
        hits = self.search(query, mode=mode, limit=fetch, filters=filters)
        return group_hits(hits, field_path(group_by), limit, group_size)

    def _embed(self, vector: str, query: str) -> list[float]:
        model = self.models.text if vector == "text" else self.models.code
        return encoder(model, self.device).encode_one(query)

    def _run(self, searches: list[Search], found_by: str | None) -> list[list[SearchHit]]:
        results = self.store.search(self.collection, searches)
        return [[SearchHit(h.id, h.score, h.payload, found_by=found_by or s.using) for h in hits]
                for s, hits in zip(searches, results)]

