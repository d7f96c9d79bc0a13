"""Search a record collection: by meaning, by words, or both; and "more like this record".

neural    the record text's MiniLM vector (the seed's search)
fulltext  BM25 over the text fields; the matched words are reported for marking
hybrid    both, fused by Qdrant (reciprocal rank fusion)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from semsearch.embedding import canonical, query_encoder
from semsearch.examples import STOPWORDS
from semsearch.lexical import WORDS
from semsearch.models import LEXICAL, recorded_precision
from semsearch.records.display import Display, stored_display
from semsearch.records.loader import RECORDS
from semsearch.search import is_blank
from semsearch.store import Filter, Fused, Match, Search, Store, StoreError, is_point_id

RECORD_MODES = ("hybrid", "neural", "fulltext")
# What a hit's score is, per mode: only its order within one answer means something to a person.
SCORE_KINDS = {"hybrid": "rrf", "neural": "cosine", "fulltext": "bm25"}
CANDIDATES = 50
_WORD = re.compile(r"\w+", re.UNICODE)


class RecordQueryError(StoreError):
    """A request on records the user can fix."""


class RecordNotFound(RecordQueryError):
    """What the request names is not there: a record, an indexed field, a value a number field can hold."""


@dataclass
class RecordHit:
    id: str
    score: float
    payload: dict[str, Any]
    # field -> [[start, end], ...] character spans of query words, for marking
    highlights: dict[str, list[list[int]]] = field(default_factory=dict)
    # What a person's relevance bar reads (relative to the best hit): the score, except for hybrid,
    # whose fused score (reciprocal rank fusion) says where a hit ranks, not how near it is: there
    # the hit's cosine to the query.
    relevance: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "score": round(self.score, 6),
                "relevance": round(self.score if self.relevance is None else self.relevance, 6),
                "payload": self.payload, "highlights": self.highlights}


def highlight(text: str, query: str) -> list[list[int]]:
    """Spans of words in text that start with a query word (so `furniture` marks `Furniture,`);
    the query's stop words ("and", "the") mark nothing."""
    words = {w.lower() for w in _WORD.findall(query) if len(w) > 1} - STOPWORDS
    spans = []
    for match in _WORD.finditer(text):
        token = match.group().lower()
        if any(token.startswith(w) and len(token) - len(w) <= 3 for w in words):
            spans.append([match.start(), match.end()])
    return spans


class RecordSearcher:
    def __init__(self, store: Store, collection: str, *, model: str | None = None, device: str | None = None) -> None:
        self.store = store
        self.collection = collection
        meta = store.metadata(collection)
        if meta.get("kind") != RECORDS:
            raise RecordQueryError(f"collection {collection!r} holds {meta.get('kind', 'code')}, not records")
        recorded = meta["vectors"]["text"]["model"]
        if model and canonical(model) != recorded:
            raise RecordQueryError(f"collection {collection!r} was built with model {recorded!r}, not {model!r}")
        self.model = recorded
        self.precision = recorded_precision(meta)
        self.device = device
        self.text_fields: list[str] = list(meta.get("text_fields", []))
        self.integer_fields = set(meta.get("integer_fields", []))
        self.indexed = set(meta.get("keyword_fields", [])) | self.integer_fields
        self._meta = meta
        self._display: Display | None = None

    @property
    def display(self) -> Display:
        """Which fields are a record's title, link, picture and labels (see display.py)."""
        if self._display is None:
            self._display = stored_display(self.store, self.collection, self._meta)
        return self._display

    def filters(self, items: list[tuple[str, str]]) -> Filter | None:
        """`(field, value)` pairs → a filter on indexed fields; a field given twice means any of."""
        values: dict[str, list[Any]] = {}
        for key, value in items:
            if key not in self.indexed:
                known = ", ".join(sorted(self.indexed)) or "none (load with --index-field)"
                raise RecordNotFound(f"cannot filter on {key[:80]!r}: indexed fields are {known}")
            if key in self.integer_fields:
                try:
                    number = int(value)
                except ValueError:
                    raise RecordNotFound(f"{key} is a number field; {value[:80]!r} is not a number") from None
                if not -2**63 <= number < 2**63:
                    raise RecordNotFound(f"{key} holds 64-bit integers; {value[:80]} is out of their range")
                values.setdefault(key, []).append(number)
            else:
                values.setdefault(key, []).append(value)
        if not values:
            return None
        return Filter(must=[Match(k, v[0] if len(v) == 1 else v) for k, v in values.items()])

    def search(self, query: str, *, mode: str = "hybrid", limit: int = 10, filter: Filter | None = None) -> list[RecordHit]:
        if mode not in RECORD_MODES:
            raise RecordQueryError(f"unknown mode {mode!r} for records: choose one of {', '.join(RECORD_MODES)}")
        if is_blank(query):
            raise RecordQueryError("empty query")
        dense = Search("text", query_encoder(self.model, self.precision, self.device).encode_one(query), limit, filter)
        words = Search(LEXICAL, WORDS.query(query), limit, filter)
        if mode != "hybrid":
            (hits,) = self.store.search(self.collection, [dense if mode == "neural" else words])
            return [self._hit(h.id, h.score, h.payload, query if mode != "neural" else None) for h in hits]
        fetch = max(CANDIDATES, limit)
        nearest = Search("text", dense.vector, fetch, filter, with_payload=False)
        fused, near = self.store.search(self.collection, [
            Fused([nearest, Search(LEXICAL, words.vector, fetch, filter)], limit=limit), nearest])
        cosine = {h.id: h.score for h in near}
        floor = min(cosine.values(), default=0.0)  # a hit only the words found is no nearer than the last one
        return [self._hit(h.id, h.score, h.payload, query, relevance=cosine.get(h.id, floor)) for h in fused]

    def similar(self, record_id: str, *, limit: int = 10, filter: Filter | None = None) -> list[RecordHit]:
        """Records nearest to a stored one (the page's "find similar"), itself excluded."""
        found = self.store.retrieve(self.collection, [record_id], with_vectors=True) if is_point_id(record_id) else []
        if not found or "text" not in found[0].vectors:
            raise RecordNotFound(f"no record {record_id[:80]!r} in collection {self.collection!r}")
        base = filter or Filter()
        flt = Filter(must=list(base.must), must_not=list(base.must_not), exclude_ids=[record_id])
        (hits,) = self.store.search(self.collection, [Search("text", found[0].vectors["text"], limit, flt)])
        return [self._hit(h.id, h.score, h.payload, None) for h in hits]

    def _hit(self, id: str, score: float, payload: dict[str, Any], query: str | None,
             relevance: float | None = None) -> RecordHit:
        marks = {}
        if query:
            for name in self.text_fields:
                value = payload.get(name)
                if isinstance(value, str):
                    spans = highlight(value, query)
                    if spans:
                        marks[name] = spans
        return RecordHit(id, score, payload, marks, relevance)
