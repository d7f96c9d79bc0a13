"""Query a code collection: modes, the seed's merge with overlapping lines, filters, group-by.

Modes:
  hybrid   (default) the text, code and lexical vectors fused by Qdrant (a score formula
           over prefetches), then re-ranked for code (ranking.py)
  text     the natural-language model over the textified structures
  code     the code model over raw snippets
  lexical  BM25 over names, path, docs and code
  both     the seed tutorial's merge: text hits first; a code hit overlapping a text hit in
           the same file is folded into it and the shared line ranges are reported; the
           remaining code hits follow.
In every mode but text/lexical alone, `overlap` marks the lines the code model agrees on.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

from semsearch import lexical
from semsearch.chunking.languages import ALL_LANGUAGES, CONFIG_LANGUAGES, DOC_LANGUAGES
from semsearch.embedding import query_encoder
from semsearch.features import ListSummary
from semsearch.hits import Group, SearchHit, group_hits, mark_overlaps, merge_overlapping
from semsearch.learned import LearnedRanker
from semsearch.models import LEXICAL, resolve_models
from semsearch.query import Query, analyse
from semsearch.ranking import LEXICAL_ONLY, Candidate, rerank
from semsearch.store import Filter, HasVector, Hit, Match, Prefix, Search, Store, StoreError, is_point_id
from semsearch.structures import FOLDERS

MODES = ("hybrid", "text", "code", "lexical", "both")
# What counts as blank in a query: Python's whitespace (which includes the ASCII separators
# \x1c-\x1f and NEL) and JavaScript's (which includes the BOM), so that the API's pattern
# means the same in its OpenAPI document as here.
BLANK = r"\s\x1c-\x1f\x85\ufeff"
_BLANK_QUERY = re.compile(f"[{BLANK}]*")
DEFAULT_MODE = "hybrid"
MAX_LIMIT = 1000
CANDIDATES = 100  # per vector, fused and re-ranked in hybrid mode
# Hybrid score: cos(text) + 0.5 cos(code) + 0.15 BM25 / (the query's best BM25). Chosen over
# Qdrant's RRF and DBSF by the development benchmark (bench/README.md, the ablation table).
TEXT_WEIGHT, CODE_WEIGHT, LEXICAL_WEIGHT = 1.0, 0.5, 0.15
NAME_HITS = 20  # structures named as the query's identifiers, added to the candidates
# How long a complete index is taken to stay complete: counting the points without dense
# vectors is an exact scan (~10 ms at 100k points), too dear for every query.
COVERAGE_TTL = 5.0
# What re-ranking reads of a candidate in a lexical-only search, whose whole payloads (snippets) are
# fetched for the final hits only; a hybrid search reads its candidates' whole payloads in one retrieve.
RANKING_FIELDS = ["name", "code_type", "language", "line_from", "line_to", "context.file_path",
                  "context.struct_name", "generated", "reexport", "test", "deprecated", "signature", "parts"]

# Short names users type → payload paths.
FIELD_ALIASES = {
    "path": "context.file_path", "file_path": "context.file_path",
    "file": "context.file_name", "file_name": "context.file_name",
    "module": "context.module", "struct": "context.struct_name", "struct_name": "context.struct_name",
    "type": "code_type", "kind": "code_type",
    "dir": FOLDERS, "folder": FOLDERS,  # a path prefix: the file lies in this folder or below
}


class QueryError(StoreError):
    """A request the user can fix: bad mode, filter, field, limit, path or line range."""


class NotFound(QueryError):
    """What the request names is not in the index (a file, a line, a point)."""


# A payload path as users write one: `language`, `context.module`, `released`.
FIELD_PATH = r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*"  # also in the API's declared patterns
_FIELD = re.compile(f"^{FIELD_PATH}$")
MAX_FIELD = 2000
MAX_VALUE = 1000


def field_path(name: str) -> str:
    """The payload path a field name means (aliases resolved), or a QueryError for what cannot be one."""
    if not isinstance(name, str) or len(name) > MAX_FIELD or not _FIELD.match(name):
        raise QueryError(f"bad field {str(name)[:80]!r}: a field is a payload path such as language, path, "
                         f"module or context.struct_name")
    return FIELD_ALIASES.get(name, name)


def parse_pairs(items: list[str], separators: str = "=:") -> list[tuple[str, str]]:
    """`FIELD=VALUE` (or `FIELD:VALUE`, the HTTP API's form) strings → (field, value) pairs."""
    pairs = []
    for item in items:
        cut = min((i for i in (item.find(s) for s in separators) if i > 0), default=-1)
        key, value = (item[:cut].strip(), item[cut + 1:].strip()) if cut > 0 else ("", "")
        if not key or not value:
            raise QueryError(f"bad filter {item[:80]!r}: expected FIELD=VALUE, e.g. language=python")
        if len(value) > MAX_VALUE or "\0" in value:
            raise QueryError(f"bad filter value for {key[:80]!r}: at most {MAX_VALUE} characters, no NUL")
        field_path(key)  # checks the name
        pairs.append((key, value))
    return pairs


def parse_filters(items: list[str]) -> list[Match]:
    """Code filters: aliases resolved; the same field given twice means any of the values."""
    values: dict[str, list[str]] = {}
    for key, value in parse_pairs(items):
        values.setdefault(field_path(key), []).append(value)
    return [Match(k, v[0] if len(v) == 1 else v) for k, v in values.items()]


CONTENT = ("code", "docs", "config", "all")  # what a code search covers: code alone by default


def content_conditions(content: str) -> tuple[list[Match], list[Match]]:
    """(must, must_not) for code (the default: no docs, no config), docs, config or all."""
    if content not in CONTENT:
        raise QueryError(f"unknown content {content!r}: choose one of {', '.join(CONTENT)}")
    if content == "code":
        return [], [Match("language", sorted(DOC_LANGUAGES | CONFIG_LANGUAGES))]
    if content == "docs":
        return [Match("language", sorted(DOC_LANGUAGES))], []
    if content == "config":
        return [Match("language", sorted(CONFIG_LANGUAGES))], []
    return [], []


def is_blank(query: str) -> bool:
    return _BLANK_QUERY.fullmatch(query) is not None


def fuse_sum(lists: list[list[Hit]], weights: list[float], floors: list[float]) -> list[tuple[str, float]]:
    """Every point any list found, scored sum(weight x its score in each list), a list that did not
    find it counting its floor; best first (ties by first appearance)."""
    found: dict[str, list[float]] = {}
    for n, hits in enumerate(lists):
        for h in hits:
            found.setdefault(h.id, list(floors))[n] = h.score
    scored = [(i, sum(w * s for w, s in zip(weights, values))) for i, values in found.items()]
    scored.sort(key=lambda item: -item[1])
    return scored


def _fused_candidates(fused: list[tuple[str, float]], payloads: dict[str, dict[str, Any]],
                      lists: dict[str, list[Hit]]) -> list[Candidate]:
    """The fused points as candidates, each with its rank (1-based) and score in every list that found it."""
    candidates = {i: Candidate(i, payloads[i], score=score) for i, score in fused if i in payloads}
    for name, hits in lists.items():
        for rank, h in enumerate(hits, start=1):
            c = candidates.get(h.id)
            if c is not None:
                c.ranks[name], c.scores[name] = rank, h.score
    return list(candidates.values())


def _named(names: tuple[str, ...], flt: Filter | None) -> Filter:
    """The query's filter, narrowed to structures with one of these names (the name search)."""
    return Filter(must=[*(flt.must if flt else []), Match("name", names[0] if len(names) == 1 else list(names))],
                  must_not=list(flt.must_not) if flt else [])


class Searcher:
    """Searches one code collection with the models that built it."""

    def __init__(self, store: Store, collection: str, *, text_model: str | None = None,
                 code_model: str | None = None, device: str | None = None,
                 ranker: LearnedRanker | None = None) -> None:
        """`ranker`: trees that order a hybrid search's candidates (learned.py; bench/learn.py trains
        them, none ships); without one, the hand-set rules do (ranking.rerank)."""
        self.store = store
        self.ranker = ranker
        self.collection = collection
        metadata = store.metadata(collection)
        if metadata.get("kind", "code") != "code":
            raise QueryError(f"collection {collection!r} holds {metadata.get('kind')}, not code")
        self.models = resolve_models(metadata, text_model, code_model)
        self.has_lexical = LEXICAL in metadata.get("sparse", {})
        self.lists_folders = FOLDERS in metadata.get("keyword_fields", [])  # else a folder is the path's prefix
        self.device = device
        self._complete: tuple[float, int] | None = None  # (when, points) the last count found nothing missing
        self._languages: set[str] | None = None
        self._embedded: dict[tuple[str, str], list[float]] = {}

    def check_filters(self, matches: list[Match]) -> None:
        for match in matches:
            if match.key != "language":
                continue
            values = match.value if isinstance(match.value, list) else [match.value]
            if self._languages is None or not set(values) <= self._languages:  # the index may have grown
                self._languages = set(self.store.facet(self.collection, "language", limit=1000))
            for value in values:
                if value not in self._languages:
                    known = ", ".join(sorted(self._languages)) or "none"
                    what = "unknown language" if value not in ALL_LANGUAGES else "no structures in language"
                    raise NotFound(f"{what} {value!r} (this collection has: {known})")

    def _stored(self, match: Match) -> Match | Prefix:
        """A user's filter as the collection answers it: a folder (`a/b` or `a/b/`) is one its points list,
        or, where they do not, a prefix of their path."""
        if match.key != FOLDERS:
            return match
        folders = [str(v).strip("/") for v in (match.value if isinstance(match.value, list) else [match.value])]
        if self.lists_folders:
            return Match(FOLDERS, folders[0] if len(folders) == 1 else folders)
        return Prefix("context.file_path", [f"{folder}/" for folder in folders])

    def search(self, query: str, *, mode: str = DEFAULT_MODE, limit: int = 10, filters: list[Match] | None = None,
               scope: list[Match] | None = None, exclude: list[Match] | None = None) -> list[SearchHit]:
        """Hits for a query. `filters` (the user's, checked against the collection) and `scope` must all
        hold, `exclude` must not: scope and exclude say which kinds of file (code, docs, config)."""
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        if is_blank(query):
            raise QueryError("empty query")
        filters = filters or []
        self.check_filters(filters)
        must = [*map(self._stored, filters), *(scope or [])]
        flt = Filter(must=must, must_not=list(exclude or [])) if must or exclude else None
        if mode in ("hybrid", "lexical") and not self.has_lexical:
            raise QueryError(f"collection {self.collection!r} has no lexical vector (built by an older semsearch): "
                             f"rebuild it with `semsearch index --recreate`, or use --mode text, code or both")
        embedded, total = self.coverage()
        if embedded == 0 and total > 0 and mode not in ("hybrid", "lexical"):
            raise QueryError(f"collection {self.collection!r} has no dense vectors yet (indexed with --lexical-only, "
                             f"or the first pass is still running): use --mode hybrid or lexical, or run "
                             f"`semsearch index` without --lexical-only")
        analysed = analyse(query)
        if mode == "hybrid":
            return self._hybrid(analysed, limit, flt, dense=embedded > 0)
        if mode == "text":
            return self._run([Search("text", self._embed("text", analysed), limit, flt)], "text")[0]
        if mode == "code":
            return self._run([Search("code", self._embed("code", analysed), limit, flt)], "code")[0]
        if mode == "lexical":
            return self._run([Search(LEXICAL, lexical.embed_query(query), limit, flt)], "lexical")[0]
        text_limit = max(1, math.ceil(limit / 2))
        text_hits, code_hits = self._run([
            Search("text", self._embed("text", analysed), text_limit, flt),
            Search("code", self._embed("code", analysed), text_limit * 4, flt),
        ], None)
        return merge_overlapping(text_hits, code_hits)[:limit]

    def coverage(self) -> tuple[int, int]:
        """(points with dense vectors, all points): they differ while the dense pass fills them in.

        Counted on every query while points are missing vectors; once none is, the answer is kept
        for COVERAGE_TTL seconds (an edit re-embedded meanwhile only goes without its "partial" note).
        """
        if self._complete is not None and time.monotonic() - self._complete[0] < COVERAGE_TTL:
            return self._complete[1], self._complete[1]
        total = self.store.count(self.collection)
        missing = self.store.count(self.collection, Filter(must_not=[HasVector("text")])) if total else 0
        self._complete = (time.monotonic(), total) if total and not missing else None
        return total - missing, total

    def _hybrid(self, query: Query, limit: int, flt: Filter | None, dense: bool = True) -> list[SearchHit]:
        """One batched call for the three lists (and the structures the query names), fused here.

        The fusion needs per-query constants — the best BM25 score (so lexical counts relative
        to the best match) and each dense list's lowest score (what a candidate missing from
        that list counts) — that only these lists give, so they are fused in Python
        (`fuse_sum`) rather than by a second, fused query that would search all three again.
        Points still without dense vectors take part through the lexical list and count the
        dense floors; with no dense vectors at all, the query is lexical and re-ranked, and no
        model is loaded.
        """
        if not dense:
            return self._lexical_ranked(query, limit, flt)
        text_vector, code_vector = self._embed("text", query), self._embed("code", query)
        fetch = max(CANDIDATES, limit)
        searches = [Search("text", text_vector, fetch, flt, with_payload=False),
                    # the code list's locations also serve to mark where the code model agrees
                    Search("code", code_vector, fetch, flt,
                           with_payload=["repo", "context.file_path", "line_from", "line_to"]),
                    Search(LEXICAL, lexical.embed_query(query.text), fetch, flt, with_payload=False)]
        names = query.names
        if names:
            searches.append(Search("text", text_vector, NAME_HITS, _named(names, flt), with_payload=False))
        text_list, code_list, lexical_list, *named_hits = self.store.search(self.collection, searches)
        best_lexical = max((h.score for h in lexical_list), default=0.0)
        weights = [TEXT_WEIGHT, CODE_WEIGHT, LEXICAL_WEIGHT / best_lexical if best_lexical > 0 else 0.0]
        floors = [min((h.score for h in text_list), default=0.0), min((h.score for h in code_list), default=0.0), 0.0]
        fused = fuse_sum([text_list, code_list, lexical_list], weights, floors)[:fetch]
        seen = {i for i, _ in fused}
        extra = list(dict.fromkeys(h.id for hits in named_hits for h in hits if h.id not in seen))
        payloads = {p.id: p.payload for p in self.store.retrieve(self.collection, [i for i, _ in fused] + extra)}
        lists = {"text": text_list, "code": code_list, "lex": lexical_list}
        candidates = _fused_candidates(fused, payloads, lists)
        candidates += [Candidate(i, payloads[i]) for i in extra if i in payloads]
        if self.ranker is None:
            ranked = rerank(query, candidates)
        else:
            summary = ListSummary.of({name: [(h.id, h.score) for h in hits] for name, hits in lists.items()})
            ranked = self.ranker.rank(query, candidates, summary, fetch)
        hits = [SearchHit(c.id, c.score, c.payload, found_by="hybrid") for c in ranked[:limit]]
        mark_overlaps(hits, [SearchHit(h.id, h.score, h.payload) for h in code_list[:max(20, 2 * limit)]])
        return hits

    def _lexical_ranked(self, query: Query, limit: int, flt: Filter | None) -> list[SearchHit]:
        """BM25 scaled to the query's best hit, names added, then the same re-ranking: no model at all."""
        fetch = max(CANDIDATES, limit)
        queries = [Search(LEXICAL, lexical.embed_query(query.text), fetch, flt, with_payload=RANKING_FIELDS)]
        names = query.names
        if names:
            queries.append(Search(LEXICAL, lexical.embed_query(" ".join(names)), NAME_HITS, _named(names, flt),
                                  with_payload=RANKING_FIELDS))
        found, *named_hits = self.store.search(self.collection, queries)
        best = max((h.score for h in found), default=0.0) or 1.0
        candidates = [Candidate(h.id, h.payload, score=h.score / best) for h in found]
        seen = {c.id for c in candidates}
        for hits in named_hits:
            candidates += [Candidate(h.id, h.payload) for h in hits if h.id not in seen]
        ranked = rerank(query, candidates, LEXICAL_ONLY)[:limit]
        payloads = {p.id: p.payload for p in self.store.retrieve(self.collection, [c.id for c in ranked])}
        return [SearchHit(c.id, c.score, payloads.get(c.id, c.payload), found_by="lexical") for c in ranked]

    def search_groups(self, query: str, *, group_by: str, group_size: int = 1, mode: str = DEFAULT_MODE,
                      limit: int = 10, filters: list[Match] | None = None, scope: list[Match] | None = None,
                      exclude: list[Match] | None = None) -> list[Group]:
        if group_size < 1:
            raise QueryError("group size must be at least 1")
        path = field_path(group_by)
        fetch = min(MAX_LIMIT, max(limit * group_size * 5, 50))
        hits = self.search(query, mode=mode, limit=fetch, filters=filters, scope=scope, exclude=exclude)
        return group_hits(hits, path, limit, group_size)

    def related(self, point_id: str, *, limit: int = 5, flt: Filter | None = None) -> list[SearchHit]:
        """Structures like a stored one, by its own stored vectors (nothing is embedded).

        The same fusion as a hybrid query without the lexical term: cos(text) + 0.5 cos(code),
        a point missing from one list counting that list's lowest score.
        """
        stored = self.store.retrieve(self.collection, [point_id], with_vectors=True) if is_point_id(point_id) else []
        if not stored or "text" not in stored[0].vectors:
            raise NotFound(f"no structure {point_id[:80]!r} with vectors in {self.collection!r}")
        vectors = stored[0].vectors
        fetch = max(CANDIDATES // 2, limit)
        exclude = Filter(must=list(flt.must) if flt else [], must_not=list(flt.must_not) if flt else [],
                         exclude_ids=[point_id, *(flt.exclude_ids if flt else [])])
        lists = self.store.search(self.collection, [
            Search(name, vectors[name], fetch, exclude, with_payload=False) for name in ("text", "code")])
        floors = [min((h.score for h in hits), default=0.0) for hits in lists]
        best = fuse_sum(lists, [TEXT_WEIGHT, CODE_WEIGHT], floors)[:limit]
        payloads = {p.id: p.payload for p in self.store.retrieve(self.collection, [i for i, _ in best])}
        return [SearchHit(i, score, payloads[i], found_by="related") for i, score in best if i in payloads]

    def _embed(self, vector: str, query: Query) -> list[float]:
        """The query's vector for a named vector; one model call for both when they share a model.

        The text model reads the query spelt (`Query.spelt`); the code model reads it as written, as code is.
        """
        wanted = {"text": (self.models.text, query.spelt), "code": (self.models.code, query.text)}
        key = wanted[vector]
        if key not in self._embedded:
            model = key[0]
            texts = list(dict.fromkeys(t for m, t in wanted.values() if m == model))
            vectors = query_encoder(model, self.models.precision, self.device).encode(texts)
            self._embedded = {(model, t): v.tolist() for t, v in zip(texts, vectors)}  # this query's only
        return self._embedded[key]

    def _run(self, searches: list[Search], found_by: str | None) -> list[list[SearchHit]]:
        results = self.store.search(self.collection, searches)
        return [[SearchHit(h.id, h.score, h.payload, found_by=found_by or s.using) for h in hits]
                for s, hits in zip(searches, results)]

