"""The product's retrieval, recomputed offline and exactly, so ranking variants cost nothing.

A corpus is one collection the product built (a development repository indexed by
code_search.py, a CSN-style language imported by csn.py), read back once: every point's
payload, its two dense vectors and its BM25 document vector. A query's scores against
every point are then three products (cosine = dot on unit vectors; BM25 = the query's
terms x Qdrant's IDF x the document's values), and the product's candidate pool (top 100
of each vector, fused by the score formula, plus the structures named as an identifier
query) is rebuilt from them in plain numpy. `pool()` equals what `Searcher._hybrid` hands
to `rerank` (checked by ablation.py's product row reproducing code_search.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from semsearch import lexical
from semsearch.embedding import MINILM, query_encoder
from semsearch.features import ListSummary
from semsearch.models import LEXICAL
from semsearch.query import Query, analyse
from semsearch.ranking import Candidate
from semsearch.search import CANDIDATES, CODE_WEIGHT, LEXICAL_WEIGHT, NAME_HITS, TEXT_WEIGHT
from semsearch.store import SparseVector
from semsearch.store.edge import EdgeStore

SPELT_CACHE = Path(__file__).parent / ".work" / "offline" / "spelt-queries.json"
SLIM = ("name", "language", "code_type", "line_from", "line_to", "signature", "part", "docstring")
SLIM_CONTEXT = ("file_path", "file_name", "struct_name", "module")


@dataclass
class Corpus:
    """One collection's points: payloads, dense vectors and BM25 document vectors."""

    ids: list[str]
    payloads: list[dict[str, Any]]
    text: np.ndarray
    code: np.ndarray
    lex: sparse.csr_matrix  # documents x terms, Qdrant's document values
    columns: dict[int, int]  # term hash -> column
    idf: np.ndarray
    position: dict[str, int] = field(default_factory=dict)
    # Per point, its file's mean text vector (unit length) and its file's structure count:
    # the ablation's file-vector rows (tried, not in the product).
    file: np.ndarray = field(init=False)
    file_size: np.ndarray = field(init=False)
    files: dict[str, np.ndarray] = field(init=False)  # path -> its points
    carriers: np.ndarray = field(init=False)  # per file, the point that carries its file vector

    def __post_init__(self) -> None:
        self.position = {i: n for n, i in enumerate(self.ids)}
        files: dict[str, list[int]] = {}
        for n, payload in enumerate(self.payloads):
            files.setdefault(payload["context"]["file_path"], []).append(n)
        self.files = {path: np.asarray(rows) for path, rows in files.items()}
        self.carriers = np.asarray([min(rows, key=lambda n: (self.payloads[n].get("line_from", 0), self.ids[n]))
                                    for rows in files.values()])
        self.file = np.zeros_like(self.text)
        self.file_size = np.zeros(len(self.ids), dtype=np.int64)
        for rows in files.values():
            mean = self.text[rows].mean(axis=0)
            self.file[rows] = mean / (np.linalg.norm(mean) or 1.0)
            self.file_size[rows] = len(rows)

    def bm25(self, query: SparseVector) -> np.ndarray:
        """Qdrant's sparse score with the IDF modifier: sum of q x idf x d over shared terms."""
        cols, weights = [], []
        for index, value in zip(query.indices, query.values):
            if index in self.columns:
                cols.append(self.columns[index])
                weights.append(value)
        if not cols:
            return np.zeros(len(self.ids), dtype=np.float32)
        q = np.zeros(self.lex.shape[1], dtype=np.float32)
        q[cols] = np.asarray(weights, dtype=np.float32) * self.idf[cols]
        return np.asarray(self.lex @ q).ravel()


def _slim(payload: dict[str, Any]) -> dict[str, Any]:
    out = {k: payload.get(k) for k in SLIM}
    if out["docstring"]:
        out["docstring"] = out["docstring"][:300]
    ctx = payload.get("context", {})
    out["context"] = {k: ctx.get(k) for k in SLIM_CONTEXT}
    for key in ("defines", "generated", "reexport", "test", "deprecated", "parts"):
        if payload.get(key):
            out[key] = payload[key]
    return out


def read_corpus(store_path: Path, collection: str, cache: Path) -> Corpus:
    """The collection's points, cached (read again when any file of the store is newer than the cache)."""
    meta, arrays = cache.with_suffix(".json"), cache.with_suffix(".npz")
    newest = max(f.stat().st_mtime for f in store_path.rglob("*") if f.is_file())
    if meta.is_file() and arrays.is_file() and meta.stat().st_mtime > newest:
        return _load(json.loads(meta.read_text()), arrays)
    with EdgeStore(store_path) as store:
        ids = [h.id for h in store.scroll(collection, [])]
        payloads, text, code, rows = [], [], [], []
        for start in range(0, len(ids), 512):
            by_id = {p.id: p for p in store.retrieve(collection, ids[start:start + 512], with_vectors=True)}
            for i in ids[start:start + 512]:
                point = by_id[i]
                payloads.append(_slim(point.payload))
                text.append(point.vectors["text"])
                code.append(point.vectors["code"])
                lex = point.vectors[LEXICAL]
                assert isinstance(lex, SparseVector)
                rows.append((list(lex.indices), list(lex.values)))
    hashes = sorted({i for indices, _ in rows for i in indices})
    columns = {h: n for n, h in enumerate(hashes)}
    data, indices, indptr = [], [], [0]
    for row_indices, row_values in rows:
        indices += [columns[i] for i in row_indices]
        data += row_values
        indptr.append(len(indices))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(arrays, text=np.asarray(text, dtype=np.float32), code=np.asarray(code, dtype=np.float32),
             data=np.asarray(data, dtype=np.float32), indices=np.asarray(indices, dtype=np.int64),
             indptr=np.asarray(indptr, dtype=np.int64), hashes=np.asarray(hashes, dtype=np.int64))
    meta.write_text(json.dumps({"ids": ids, "payloads": payloads}))
    return _load(json.loads(meta.read_text()), arrays)


def _load(saved: dict[str, Any], arrays: Path) -> Corpus:
    z = np.load(arrays)
    n = len(saved["ids"])
    hashes = z["hashes"].tolist()
    lex = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(n, len(hashes)))
    df = np.bincount(lex.indices, minlength=len(hashes)).astype(np.float64)
    idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0).astype(np.float32)
    return Corpus(saved["ids"], saved["payloads"], z["text"], z["code"], lex,
                  {h: c for c, h in enumerate(hashes)}, idf)


@dataclass
class QueryScores:
    """One query's scores against every point of a corpus."""

    query: Query
    text: np.ndarray
    code: np.ndarray
    lex: np.ndarray
    file: np.ndarray | None = None  # cosine with each point's file vector


# The file vector (tried in sessions 5 and 7, not in the product): each file's unit mean text
# vector, + FILE_WEIGHT x its cosine on each candidate (a file beyond the FILE_CANDIDATES
# nearest counting the farthest of those), and the FILE_HITS nearest files' best structures joining.
FILE_WEIGHT, FILE_HITS, FILE_CANDIDATES = 0.3, 5, 100


def embed_queries(queries: list[str], cache: Path) -> dict[str, np.ndarray]:
    """Query vectors from the product's own query encoder, cached by query text."""
    saved: dict[str, list[float]] = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [q for q in dict.fromkeys(queries) if q not in saved]
    if missing:
        model = query_encoder(MINILM, "fp32", None)
        for q in missing:
            saved[q] = [float(x) for x in model.encode_one(q)]
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(saved))
    return {q: np.asarray(saved[q], dtype=np.float32) for q in queries}


def scores(corpus: Corpus, query: str, vector: np.ndarray) -> QueryScores:
    """`vector`: the query as written, through the product's query encoder (the code model's input)."""
    analysed = analyse(query)
    return QueryScores(analysed, corpus.text @ text_vector(analysed, vector), corpus.code @ vector,
                       corpus.bm25(lexical.embed_query(query)), corpus.file @ vector)


_SPELT: dict[str, np.ndarray] = {}


def text_vector(query: Query, vector: np.ndarray) -> np.ndarray:
    """The text model's query vector, as `Searcher._embed` makes it (`Query.spelt`)."""
    text = query.spelt
    if text == query.text:
        return vector
    if text not in _SPELT:
        _SPELT.update(embed_queries([text], SPELT_CACHE))
    return _SPELT[text]


def top(values: np.ndarray, k: int, positive: bool = False) -> np.ndarray:
    """Indices of the k largest values, best first (ties by index, as a stable sort)."""
    if positive:
        candidates = np.flatnonzero(values > 0)
        order = candidates[np.argsort(-values[candidates], kind="stable")]
        return order[:k]
    return np.argsort(-values, kind="stable")[:k]


def pool(corpus: Corpus, qs: QueryScores, *, weights: Any = (TEXT_WEIGHT, CODE_WEIGHT, LEXICAL_WEIGHT), fetch: int = CANDIDATES, names: bool = True,
         embedded_names: bool = True, file_weight: float = 0.0, file_min: int = 1,
         file_hits: int = FILE_HITS) -> list[Candidate]:
    """The product's fused candidates (best first), as `Searcher._hybrid` builds them.

    With `file_weight` > 0 (not the product): the `file_hits` files nearest the query by
    their file vector each bring their best structure by text (scored as a text hit that
    missed the code list), and each candidate gets + `file_weight` x cos(query, its file
    vector) when its file has at least `file_min` structures; a file beyond the
    FILE_CANDIDATES nearest counts the farthest of those.

    Each candidate's `scores` holds its exact text/code/lex scores (whether or not it was in
    that vector's list) and `ranks` its rank in each list it was in.
    """
    lists = top_lists(qs, fetch)
    best_lex = float(qs.lex[lists["lex"][0]]) if len(lists["lex"]) else 0.0
    floors = {"text": float(qs.text[lists["text"][-1]]), "code": float(qs.code[lists["code"][-1]])}
    w_text, w_code, w_lex = weights(qs.query) if callable(weights) else weights
    members = memberships(lists)
    fused = []
    for n, ranks in members.items():
        score = w_text * (float(qs.text[n]) if "text" in ranks else floors["text"])
        score += w_code * (float(qs.code[n]) if "code" in ranks else floors["code"])
        if "lex" in ranks and best_lex > 0:
            score += w_lex * float(qs.lex[n]) / best_lex
        fused.append((score, n))
    fused.sort(key=lambda x: -x[0])
    out = [candidate(corpus, qs, n, score, members[n]) for score, n in fused[:fetch]]
    symbol = qs.query.identifier
    wanted: set[str] = set()
    if names:
        wanted = set(qs.query.names) if embedded_names else {symbol} if symbol else set()
    out += named(corpus, qs, wanted, {c.id for c in out}, qs.text)
    if not file_weight:
        return out
    nearest = corpus.carriers[top(qs.file[corpus.carriers], FILE_CANDIDATES)]
    seen = {c.id for c in out}
    for n in nearest[:file_hits]:
        rows = corpus.files[corpus.payloads[n]["context"]["file_path"]]
        best = rows[int(np.argmax(qs.text[rows]))]
        if corpus.ids[best] not in seen:
            out.append(candidate(corpus, qs, best, w_text * float(qs.text[best]) + w_code * floors["code"], {}))
            seen.add(corpus.ids[best])
    read = {corpus.payloads[n]["context"]["file_path"] for n in nearest}
    floor = float(qs.file[nearest[-1]])  # a file farther than the FILE_CANDIDATES nearest counts the farthest
    for c in out:
        n = corpus.position[c.id]
        if corpus.file_size[n] >= file_min:
            c.score += file_weight * (float(qs.file[n]) if c.path in read else floor)
    return out


def memberships(lists: dict[str, np.ndarray]) -> dict[int, dict[str, int]]:
    """Per point in any list, its 1-based rank in each list it is in (what fusion reads)."""
    members: dict[int, dict[str, int]] = {}
    for vector, idx in lists.items():
        for rank, n in enumerate(idx.tolist(), start=1):
            members.setdefault(n, {})[vector] = rank
    return members


def top_lists(qs: QueryScores, fetch: int = CANDIDATES) -> dict[str, np.ndarray]:
    """Each vector's list as Qdrant returns it: the `fetch` best points (lexical: those scoring above 0)."""
    return {"text": top(qs.text, fetch), "code": top(qs.code, fetch), "lex": top(qs.lex, fetch, positive=True)}


def summary(corpus: Corpus, qs: QueryScores, fetch: int = CANDIDATES) -> ListSummary:
    """The three lists as `Searcher._hybrid` summarises them for the learned ranker."""
    values = {"text": qs.text, "code": qs.code, "lex": qs.lex}
    return ListSummary.of({name: [(corpus.ids[n], float(values[name][n])) for n in idx]
                           for name, idx in top_lists(qs, fetch).items()})


def named(corpus: Corpus, qs: QueryScores, names: set[str], seen: set[str], order: np.ndarray) -> list[Candidate]:
    """The product's name search: up to NAME_HITS structures of these names, best `order` first, score 0."""
    if not names:
        return []
    found = sorted((n for n, p in enumerate(corpus.payloads) if p["name"] in names), key=lambda n: -order[n])
    return [candidate(corpus, qs, n, 0.0, {}) for n in found[:NAME_HITS] if corpus.ids[n] not in seen]


def lexical_pool(corpus: Corpus, qs: QueryScores, fetch: int = CANDIDATES) -> list[Candidate]:
    """What `Searcher._lexical_ranked` hands to `rerank` (an index without dense vectors): BM25
    scaled to the best hit, plus the structures named as the query's identifiers."""
    found = top(qs.lex, fetch, positive=True)
    best = float(qs.lex[found[0]]) if len(found) else 1.0
    out = [candidate(corpus, qs, n, float(qs.lex[n]) / best, {"lex": r}) for r, n in enumerate(found.tolist(), 1)]
    return out + named(corpus, qs, set(qs.query.names), {c.id for c in out}, qs.lex)


def candidate(corpus: Corpus, qs: QueryScores, n: int, score: float, ranks: dict[str, int]) -> Candidate:
    c = Candidate(corpus.ids[n], corpus.payloads[n], score=score, ranks=dict(ranks))
    c.scores = {"text": float(qs.text[n]), "code": float(qs.code[n]), "lex": float(qs.lex[n])}
    return c


def idf_check(corpus: Corpus, store_path: Path, collection: str, query: str) -> float:
    """Largest gap between this module's BM25 and the store's for one query (should be ~0)."""
    with EdgeStore(store_path) as store:
        from semsearch.store import Search
        hits = store.search(collection, [Search(LEXICAL, lexical.embed_query(query), 20, with_payload=False)])[0]
    mine = corpus.bm25(lexical.embed_query(query))
    return max((abs(mine[corpus.position[h.id]] - h.score) for h in hits), default=math.nan)
