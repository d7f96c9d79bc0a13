"""Ablation of retrieval and ranking choices on the code-search development set.

Builds, once per repository, an experimental index holding every candidate signal as its
own named vector (textified sentence, code snippet, BM25 lexical),
fetches each query's top candidates from every vector, then scores fusion and ranking
variants offline with the exact NDCG@10 of bench/code_search.py, and with the MRR@10 of the
CodeSearchNet-style pairs of bench/csn.py (function-level: a ranking that helps one kind of
question must not sink the other). This is the record of why the product ranks as it does;
the product's own figures come from code_search.py and csn.py.

    .venv/bin/python bench/ablation.py            # builds indexes on first run (minutes)
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from code_search import DEFAULT_DATA, K, WORK, Target, ndcg_at_k
from csn import CSN, MAX_PAIRS, SOURCES, mrr_at_10, pairs_for, store_for
from sdist import fetch_sdist

from semsearch import lexical
from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM, Encoder, encoder
from semsearch.ranking import Candidate, identifier_query, rerank
from semsearch.store import CollectionSpec, DenseVector, Filter, Match, Point, Search
from semsearch.store.edge import EdgeStore
from semsearch.textify import textify
from semsearch.walk import walk

VECTORS = ("text", "code", "lex")
FETCH = 100


def build(entry: dict[str, Any]) -> Path:
    root = fetch_sdist(entry["sdist"], WORK / "src") / entry["benchmark_root"]
    path = WORK / "ablation" / entry["name"]
    with EdgeStore(path) as store:
        if store.exists("exp"):
            return path
        structures = [s for f in walk(root) for s in chunk_source(f.path, f.text)]
        model = encoder(MINILM)
        spec = CollectionSpec(vectors={v: DenseVector(model.dim, MINILM) for v in ("text", "code")},
                              sparse={"lex": "bm25-code"}, keyword_fields=["context.file_path", "name"])
        store.create("exp", spec)
        text = model.encode([textify(s) for s in structures])
        code = model.encode([s.context.snippet for s in structures])
        store.upsert("exp", (
            Point(s.point_id(), {"text": text[i].tolist(), "code": code[i].tolist(),
                                 "lex": lexical.embed_document(lexical.lexical_text(s))}, s.to_dict())
            for i, s in enumerate(structures)))
        store.optimize("exp")
    return path


def candidates(entry: dict[str, Any], data: Path) -> dict[str, Any]:
    """Per query, the top FETCH hits of every vector, cached as JSON."""
    cache = WORK / "ablation" / f"{entry['name']}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    path = build(entry)
    prefix = entry["benchmark_root"] + "/"
    tasks = json.loads((data / "annotations" / f"{entry['name']}.json").read_text())
    model = encoder(MINILM)
    out: dict[str, Any] = {"queries": []}
    with EdgeStore(path) as store:
        out["indexed"] = [(prefix + h.payload["context"]["file_path"], h.payload["line_from"], h.payload["line_to"])
                          for h in store.scroll("exp", ["context", "line_from", "line_to"])]
        for task in tasks:
            out["queries"].append({"task": task, "lists": fetch_lists(store, "exp", model, task["query"])})
    cache.write_text(json.dumps(out))
    return out


def fetch_lists(store: EdgeStore, collection: str, model: Encoder, query: str) -> dict[str, list[dict[str, Any]]]:
    """The query's top FETCH hits of every vector, and the structures named as an identifier query."""
    dense = model.encode_one(query)
    searches = [Search(v, dense, FETCH) for v in ("text", "code")]
    searches.append(Search("lex", lexical.embed_query(query), FETCH))
    symbol = identifier_query(query)
    # Structures named exactly as an identifier query: the definition may rank low otherwise.
    searches.append(Search("text", dense, 20, Filter(must=[Match("name", symbol or "\0")])))
    lists = store.search(collection, searches)
    return {v: [{"id": h.id, "score": h.score, "payload": _slim(h.payload)} for h in hits]
            for v, hits in zip((*VECTORS, "name"), lists)}


def csn_candidates(language: str) -> list[dict[str, Any]]:
    """Per CodeSearchNet-style pair of bench/csn.py, the same candidate lists, cached as JSON."""
    cache = CSN / "ablation" / f"{language}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    corpus, pairs = pairs_for(language, MAX_PAIRS)
    model = encoder(MINILM)
    with EdgeStore(store_for(language, corpus)) as store:
        out = [{"query": query, "target": target, "lists": fetch_lists(store, "csn", model, query)}
               for query, target in pairs]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


def _slim(payload: dict[str, Any]) -> dict[str, Any]:
    ctx = payload["context"]
    return {"name": payload["name"], "language": payload.get("language"), "code_type": payload["code_type"], "line_from": payload["line_from"],
            "line_to": payload["line_to"], "signature": payload["signature"],
            "context": {"file_path": ctx["file_path"], "struct_name": ctx["struct_name"], "module": ctx["module"]}}


# -- variants: each maps (query text, per-vector lists) to a ranked candidate list -------

Variant = Callable[[str, dict[str, list[dict[str, Any]]]], list[Candidate]]


def pool(lists: dict[str, list[dict[str, Any]]]) -> dict[str, Candidate]:
    found: dict[str, Candidate] = {}
    for vector, hits in lists.items():
        for rank, hit in enumerate(hits, start=1):
            c = found.setdefault(hit["id"], Candidate(hit["id"], hit["payload"]))
            c.scores[vector] = hit["score"]
            c.ranks[vector] = rank
    return found


def rrf(vectors: dict[str, float], k: int = 60) -> Variant:
    """Qdrant's weighted RRF, as measured against it: sum of 1 / (k - 1 + rank / weight), rank from 1."""
    def run(query: str, lists: dict[str, list[dict[str, Any]]]) -> list[Candidate]:
        cands = pool({v: lists[v] for v in vectors})
        for c in cands.values():
            c.score = sum(1 / (k - 1 + c.ranks[v] / w) for v, w in vectors.items() if v in c.ranks)
        return sorted(cands.values(), key=lambda c: -c.score)
    return run


def score_fusion(vectors: dict[str, float], lex_weight: float, floors: bool = True) -> Variant:
    """Weighted cosine plus BM25 scaled so the query's best lexical hit is 1.

    A candidate missing from a dense list counts that list's lowest score (floors) or 0.
    """
    def run(query: str, lists: dict[str, list[dict[str, Any]]]) -> list[Candidate]:
        cands = pool({v: lists[v] for v in (*vectors, "lex")})
        best_lex = max((h["score"] for h in lists["lex"]), default=1.0) or 1.0
        floor = {v: min((h["score"] for h in lists[v]), default=0.0) if floors else 0.0 for v in vectors}
        for c in cands.values():
            c.score = sum(w * c.scores.get(v, floor[v]) for v, w in vectors.items())
            c.score += lex_weight * c.scores.get("lex", 0.0) / best_lex
        return sorted(cands.values(), key=lambda c: -c.score)
    return run


def no_hidden(lists: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """As if dot-folders and dot-files had not been indexed."""
    def hidden(hit: dict[str, Any]) -> bool:
        return any(part.startswith(".") for part in hit["payload"]["context"]["file_path"].split("/"))
    return {v: [h for h in hits if not hidden(h)] for v, hits in lists.items()}


def dbsf(vectors: tuple[str, ...]) -> Variant:
    """Qdrant's distribution-based score fusion: each list scaled by its mean +- 3 sigma, summed."""
    def run(query: str, lists: dict[str, list[dict[str, Any]]]) -> list[Candidate]:
        cands = pool({v: lists[v] for v in vectors})
        for c in cands.values():
            c.score = 0.0
        for v in vectors:
            scores = [h["score"] for h in lists[v]]
            if not scores:
                continue
            mean, sd = statistics.fmean(scores), statistics.pstdev(scores)
            lo, hi = mean - 3 * sd, mean + 3 * sd
            for h in lists[v]:
                cands[h["id"]].score += (h["score"] - lo) / (hi - lo) if hi > lo else 0.5
        return sorted(cands.values(), key=lambda c: -c.score)
    return run


def ranked(base: Variant, hide: bool = False, **options: Any) -> Variant:
    def run(query: str, lists: dict[str, list[dict[str, Any]]]) -> list[Candidate]:
        if hide:
            lists = no_hidden(lists)
        found = base(query, lists)
        have = {c.id for c in found}
        found += [Candidate(h["id"], h["payload"]) for h in lists.get("name", []) if h["id"] not in have]
        return rerank(query, found, **options)
    return run


def evaluate(data: dict[str, dict[str, Any]], variant: Variant, prefixes: dict[str, str]) -> dict[str, Any]:
    per_repo = {}
    per_cat: dict[str, list[float]] = {}
    for repo, d in data.items():
        scores = []
        for q in d["queries"]:
            task = q["task"]
            ranked_list = variant(task["query"], q["lists"])[:K]
            results = [(prefixes[repo] + c.payload["context"]["file_path"], c.payload["line_from"],
                        c.payload["line_to"]) for c in ranked_list]
            targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
            score = ndcg_at_k(results, targets, [tuple(x) for x in d["indexed"]])
            if score is not None:
                scores.append(score)
                per_cat.setdefault(task["category"], []).append(score)
        per_repo[repo] = statistics.fmean(scores)
    return {"macro": statistics.fmean(per_repo.values()), "repos": per_repo,
            "cats": {c: statistics.fmean(v) for c, v in sorted(per_cat.items())}}


def evaluate_csn(data: dict[str, list[dict[str, Any]]], variant: Variant) -> dict[str, float]:
    """MRR@10 per language of the CodeSearchNet-style pairs."""
    out = {}
    for language, pairs in data.items():
        ranks: list[int | None] = []
        for pair in pairs:
            ids = [c.id for c in variant(pair["query"], pair["lists"])[:10]]
            ranks.append(ids.index(pair["target"]) + 1 if pair["target"] in ids else None)
        out[language] = mrr_at_10(ranks)
    return out


def variants() -> dict[str, Variant]:
    """Cumulative steps to the product's ranking, then the product with one thing changed."""
    fusion = {"text": 1.0, "code": 0.5}
    bare = {"names": False, "per_file": None, "file_decay": None, "prose": 1.0, "tests": False, "path_boost": 0.0}
    product = score_fusion(fusion, 0.15)
    return {
        "1 text vector only (the tutorial)": rrf({"text": 1.0}),
        "  code vector only": rrf({"code": 1.0}),
        "  lexical vector only": rrf({"lex": 1.0}),
        "2 RRF text + code": rrf({"text": 1.0, "code": 1.0}),
        "3 RRF text + code + lexical": rrf({"text": 1.0, "code": 1.0, "lex": 1.0}),
        "4 score fusion: cos text + 0.5 cos code + 0.15 BM25/best": product,
        "5 + identifier's definition first": ranked(product, **{**bare, "names": True}),
        "6 + soft file diversity (x0.8 per better hit in the file)": ranked(
            product, **{**bare, "names": True, "file_decay": 0.8}),
        "7 + prose x0.8": ranked(product, **{**bare, "names": True, "file_decay": 0.8, "prose": 0.8}),
        "8 + tests x0.8": ranked(product, path_boost=0.0),
        "9 + query words in the path x1.2 each = product": ranked(product),
        "  product, hard diversity: one hit per file in the top 10": ranked(product, per_file=1, file_decay=None),
        "  product, no diversity": ranked(product, file_decay=None),
        "  product, diversity x0.7": ranked(product, file_decay=0.7),
        "  product, diversity x0.9": ranked(product, file_decay=0.9),
        "  product, Qdrant RRF 1/1/1 instead of score fusion": ranked(rrf({"text": 1.0, "code": 1.0, "lex": 1.0})),
        "  product, Qdrant RRF 1/0.5/1": ranked(rrf({"text": 1.0, "code": 0.5, "lex": 1.0})),
        "  product, Qdrant DBSF": ranked(dbsf(("text", "code", "lex"))),
        "  product, missing dense scores as 0 (no floors)": ranked(score_fusion(fusion, 0.15, floors=False)),
        "  product, code weight 1.0": ranked(score_fusion({"text": 1.0, "code": 1.0}, 0.15)),
        "  product, code weight 0.3": ranked(score_fusion({"text": 1.0, "code": 0.3}, 0.15)),
        "  product, lexical weight 0.3": ranked(score_fusion(fusion, 0.3)),
        "  product, lexical weight 0.1": ranked(score_fusion(fusion, 0.1)),
        "  product, no identifier signal": ranked(product, names=False),
        "  product, path-term boost 0.1": ranked(product, path_boost=0.1),
        "  product, path-term boost 0.3": ranked(product, path_boost=0.3),
        "  product + file mass 0.05": ranked(product, file_mass=0.05),
    }


def load(data_dir: Path) -> tuple[dict[str, Any], dict[str, str], dict[str, list[dict[str, Any]]]]:
    """Candidate lists of the development set (per repository) and of the CSN-style pairs (per language)."""
    manifest = json.loads((data_dir / "manifest.json").read_text())
    data = {e["name"]: candidates(e, data_dir) for e in manifest}
    prefixes = {e["name"]: e["benchmark_root"] + "/" for e in manifest}
    return data, prefixes, {language: csn_candidates(language) for language in SOURCES}


def print_table(rows: dict[str, Variant], data: dict[str, Any], prefixes: dict[str, str],
                csn: dict[str, list[dict[str, Any]]]) -> None:
    repos = list(data)
    print("| variant | macro | " + " | ".join(repos) + " | architecture | semantic | symbol | "
          + " | ".join(f"CSN {language}" for language in csn) + " |")
    print("|---|---|" + "---|" * (len(repos) + 3 + len(csn)))
    for name, variant in rows.items():
        r = evaluate(data, variant, prefixes)
        mrr = evaluate_csn(csn, variant)
        cats = [f"{r['cats'].get(c, 0):.3f}" for c in ("architecture", "semantic", "symbol")]
        print(f"| {name} | {r['macro']:.3f} | " + " | ".join(f"{r['repos'][x]:.3f}" for x in repos)
              + " | " + " | ".join(cats) + " | " + " | ".join(f"{mrr[x]:.3f}" for x in csn) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", default="", help="Variant names, separated by ';'.")
    args = parser.parse_args()
    data, prefixes, csn = load(args.data)
    wanted = {v.strip() for v in args.only.split(";") if v.strip()}
    print_table({k: v for k, v in variants().items() if not wanted or k.strip() in wanted}, data, prefixes, csn)


if __name__ == "__main__":
    main()
