"""Ablation of retrieval and ranking choices, on nine repositories in six languages.

Every row is scored on the code-search development set (NDCG@10, exactly as
code_search.py: per repository, the mean per language, the macro over repositories, per
category) and on the CodeSearchNet-style pairs of csn.py (MRR@10 per language: a ranking
that helps file-level questions must not sink function-level search). Retrieval is
recomputed offline and exactly from the product's own stores (offline.py), so a row costs
seconds. Numbered rows add one signal at a time up to the product; indented rows change
one thing in the product. The peer's own pipeline (semble, bench/peer.py, in its own
environment) is scored in the same run from the same queries.

    .venv/bin/python bench/code_search.py && .venv/bin/python bench/csn.py --modes hybrid   # build the stores
    .venv/bin/python bench/ablation.py [--only "name;name"] [--repos] [--no-peer]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from code_search import K, Target, ndcg_at_k
from csn import MAX_PAIRS, SOURCES, mrr_at_10, pairs_for, store_for
from offline import FILE_WEIGHT, Corpus, QueryScores, embed_queries, lexical_pool, pool, read_corpus, scores
from sources import DEFAULT_DATA, WORK, benchmark_root, manifest, prefix, tasks

from semsearch.ranking import LEXICAL_ONLY, Candidate, Ranking, rerank, with_options

OFFLINE = WORK / "offline"
PEER_VENV = WORK / "peer-venv" / "bin" / "python"
LANGUAGES = ("python", "rust", "go", "java", "typescript", "ruby")
CATEGORIES = ("architecture", "semantic", "symbol")
SESSION3 = "b79831a"  # the last commit with session 3's ranking
QUERY_MAP = WORK / "qmap" / "query_map.npz"  # written by bench/query_map.py train (tried, not in the product)

# A variant ranks one query's candidates: (corpus, the query's exact scores) -> best first.
Variant = Callable[[Corpus, QueryScores], list[Candidate]]


@dataclass
class Repo:
    entry: dict[str, Any]
    corpus: Corpus
    tasks: list[dict[str, Any]]
    vectors: dict[str, Any]
    indexed: list[tuple[str, int, int]]


@dataclass
class Language:
    corpus: Corpus
    pairs: list[tuple[str, str]]
    vectors: dict[str, Any]


def load_repos(data: Path) -> list[Repo]:
    repos = []
    for entry in manifest(data):
        store = WORK / "stores" / entry["name"]
        if not store.is_dir():
            raise SystemExit(f"no store for {entry['name']}: run bench/code_search.py first")
        corpus = read_corpus(store, "code", OFFLINE / entry["name"])
        head = prefix(entry)
        indexed = [(head + p["context"]["file_path"], p["line_from"], p["line_to"]) for p in corpus.payloads]
        repo_tasks = tasks(entry, data)
        vectors = embed_queries([t["query"] for t in repo_tasks], OFFLINE / "queries.json")
        repos.append(Repo(entry, corpus, repo_tasks, vectors, indexed))
    return repos


def load_csn() -> dict[str, Language]:
    out = {}
    for language in SOURCES:
        corpus_structures, pairs = pairs_for(language, MAX_PAIRS)
        corpus = read_corpus(store_for(language, corpus_structures), "csn", OFFLINE / f"csn-{language}")
        vectors = embed_queries([q for q, _ in pairs], OFFLINE / f"csn-{language}-queries.json")
        out[language] = Language(corpus, pairs, vectors)
    return out


# -- variants ----------------------------------------------------------------------------

def product(ranking: Ranking | None = None, **pool_options: Any) -> Variant:
    """The product's pool (optionally changed), re-ranked with `ranking` (None: fused order only)."""
    def run(corpus: Corpus, qs: QueryScores) -> list[Candidate]:
        found = pool(corpus, qs, **pool_options)
        if ranking is None:
            return found
        return rerank(qs.query, found, ranking)
    return run


def lexical_only(ranking: Ranking = LEXICAL_ONLY) -> Variant:
    def run(corpus: Corpus, qs: QueryScores) -> list[Candidate]:
        return rerank(qs.query, lexical_pool(corpus, qs), ranking)
    return run


def fused_rankings(k: float = 60.0, lexical: float = 1.0, by: str = "rank") -> Variant:
    """The product's final list and the lexical-only one, fused: by reciprocal rank (k) or by
    final score, each scaled to its best; an identifier's definition tier still comes first."""
    from semsearch.ranking import _name_tier
    from semsearch.roles import role

    def run(corpus: Corpus, qs: QueryScores) -> list[Candidate]:
        ranking = with_options()
        lists = [rerank(qs.query, pool(corpus, qs), ranking), rerank(qs.query, lexical_pool(corpus, qs), ranking)]
        fused: dict[str, float] = {}
        first: dict[str, Candidate] = {}
        for weight, found in zip((1.0, lexical), lists):
            best = max((c.score for c in found), default=1.0) or 1.0
            for rank, c in enumerate(found, 1):
                first.setdefault(c.id, c)
                gain = 1 / (k + rank) if by == "rank" else max(c.score, 0.0) / best
                fused[c.id] = fused.get(c.id, 0.0) + weight * gain
        symbol = qs.query.identifier
        tier = {i: _name_tier(symbol, c, True, role(c.path, c.payload)) if symbol else 0 for i, c in first.items()}
        return sorted(first.values(), key=lambda c: (-tier[c.id], -fused[c.id]))
    return run


def without_marks(*keys: str) -> Variant:
    """The product without some of the chunker's per-structure marks (`test`, `deprecated`)."""
    def run(corpus: Corpus, qs: QueryScores) -> list[Candidate]:
        found = pool(corpus, qs)
        for c in found:
            if any(c.payload.get(k) for k in keys):
                c.payload = {k: v for k, v in c.payload.items() if k not in keys}
        return rerank(qs.query, found, with_options())
    return run


def session3() -> Variant:
    """Session 3's product ranking, read from git (b79831a), over the pool it had."""
    import sys
    import types

    source = subprocess.run(["git", "show", f"{SESSION3}:src/semsearch/ranking.py"], check=True,
                            capture_output=True, text=True, cwd=Path(__file__).parent).stdout
    module = sys.modules["ranking_session3"] = types.ModuleType("ranking_session3")
    exec(compile(source, "ranking_session3.py", "exec"), module.__dict__)

    def run(corpus: Corpus, qs: QueryScores) -> list[Candidate]:
        return module.rerank(qs.query.text, pool(corpus, qs, embedded_names=False))
    return run


def variants() -> dict[str, Variant]:
    """Cumulative steps to the product's ranking, then the product with one thing changed."""
    off = {"definition_first": False, "named_file": False, "embedded": 0.0, "compared": 1.0, "stem": 0.0,
           "folder": 0.0, "file_evidence": 0.0, "question_file_evidence": 0.0, "versions": False, "question_own_evidence": 1.0, "copies_tier": False, "question_sharpness": with_options().evidence_sharpness, "file_decay": 1.0,
           "question_file_decay": 1.0, "v1_copies": False,
           "factors": {k: 1.0 for k in with_options().factors}}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("+ identifier's definition first", {"definition_first": True}),
        ("+ soft file diversity", {"file_decay": with_options().file_decay, "question_file_decay": with_options().file_decay}),
        ("+ tests, examples, benchmarks demoted", {"factors": {"test": 0.5, "example": 0.5, "bench": 0.5}}),
        ("+ compat, re-export, stub, generated, prose, config demoted",
         {"factors": {k: v for k, v in with_options().factors.items() if k != "internal"}}),
        ("+ query words in the file stem and folder", {"stem": with_options().stem, "folder": with_options().folder}),
        ("+ file evidence lifts a file's best hit",
         {"file_evidence": with_options().file_evidence, "question_file_evidence": with_options().file_evidence}),
        ("+ the definition in the file named after it", {"named_file": True}),
        ("+ identifiers inside prose queries", {"embedded": with_options().embedded}),
        ("+ questions: weaker hits count as file evidence", {"question_sharpness": with_options().question_sharpness}),
        ("+ an older versioned tree (v3/ beside v4/) counts as compat", {"versions": True}),
        ("+ questions: only a file's other hits lift its best hit",
         {"question_own_evidence": with_options().question_own_evidence}),
        ("+ the definition of an identifier the query compares against after the rest",
         {"compared": with_options().compared}),
        ("+ an identifier's definition in a copy (older tree, compat, stub) leaves the definitions' tier",
         {"copies_tier": True}),
        ("+ questions: a file's further hits count less (x0.4 each, not x0.8)",
         {"question_file_decay": with_options().question_file_decay}),
        ("+ a v1/ folder repeating its parent's files counts as an older copy", {"v1_copies": True}),
        ("+ internal code (internal/, _internal/, private/, detail/) demoted", {"factors": {"internal": 0.75}}),
        ("+ questions: file evidence lifts more (0.5, not 0.3)",
         {"question_file_evidence": with_options().question_file_evidence}),
    ]
    rows: dict[str, Variant] = {"session 3 product (its ranking, from git)": session3(),
                                "0 score fusion, no re-ranking": product(None)}
    options = dict(off)
    for n, (name, change) in enumerate(steps, start=1):
        options = {**options, **change, "factors": {**options["factors"], **change.get("factors", {})}}
        rows[f"{n} {name}"] = product(with_options(**options))
    rows["  = product"] = product(with_options())
    one = {
        "no definition tier": {"definition_first": False},
        "no file evidence": {"file_evidence": 0.0, "question_file_evidence": 0.0},
        "file evidence 0.15 (other queries)": {"file_evidence": 0.15},
        "file evidence 0.5 (other queries)": {"file_evidence": 0.5},
        "questions: file evidence 0.3, as other queries": {"question_file_evidence": 0.3},
        "questions: file evidence 0.4": {"question_file_evidence": 0.4},
        "questions: file evidence 0.7": {"question_file_evidence": 0.7},
        "evidence sharpness 0.1 (other queries)": {"evidence_sharpness": 0.1},
        "evidence sharpness 0.02 (other queries)": {"evidence_sharpness": 0.02},
        "evidence sharpness 0.1 for every query": {"evidence_sharpness": 0.1, "question_sharpness": 0.1},
        "question sharpness 0.1": {"question_sharpness": 0.1},
        "question sharpness 0.3": {"question_sharpness": 0.3},
        "no stem words": {"stem": 0.0},
        "stem words 0.6": {"stem": 0.6},
        "stem share / words (not / sqrt(words))": {"share_power": 1.0},
        "stem share not normalised": {"share_power": 0.0},
        "stem words weighted by 1 / files holding them": {"spread": 1.0},
        "no folder words": {"folder": 0.0},
        "folder words 0.5": {"folder": 0.5},
        "no file diversity": {"file_decay": 1.0},
        "file decay 0.7": {"file_decay": 0.7},
        "every part of a split structure a hit (one part: off)": {"one_part": False},
        "a deeper copy of a file ranked as code (mirrors: off)": {"mirrors": False},
        "a deprecated definition ranked as code (deprecated: off)": {"deprecated": False},
        "a deprecated definition x0.6, as a copy": {"deprecated_factor": 0.6},
        "a deprecated definition x0.8": {"deprecated_factor": 0.8},
        "a deprecated definition x0.9": {"deprecated_factor": 0.9},
        "a deprecated definition x1 (out of the definitions' tier only)": {"deprecated_factor": 1.0},
        "run-together path words split (compounds: on)": {"compounds": True},
        "a structure found by its name alone scores 0 (named inherit: off)": {"named_inherit": 0.0},
        "a companion object beside its class (companions: off)": {"companions": False},
        "file decay 0.6": {"file_decay": 0.6},
        "file decay 0.5": {"file_decay": 0.5},
        "file decay 0.3": {"file_decay": 0.3},
        "questions: file decay 0.8, as other queries": {"question_file_decay": 0.8},
        "questions: file decay 0.6": {"question_file_decay": 0.6},
        "questions: one hit a file (file decay 0)": {"question_file_decay": 0.0},
        "every query: file decay 0.4": {"file_decay": 0.4},
        "internal code x0.6": {"factors": {"internal": 0.6}},
        "internal code x0.85": {"factors": {"internal": 0.85}},
        "tests etc. x0.8": {"factors": {"test": 0.8, "example": 0.8, "bench": 0.8}},
        "tests etc. x0.3": {"factors": {"test": 0.3, "example": 0.3, "bench": 0.3}},
        "no embedded identifiers": {"embedded": 0.0},
        "no version rule": {"versions": False},
        "a definition in a copy (older tree, compat, stub) keeps the definitions' tier": {"copies_tier": False},
        "questions count the best hit's own evidence too": {"question_own_evidence": 1.0},
        "every query: only a file's other hits lift it": {"own_evidence": 0.0},
        "every query: only other hits, evidence sharpness 0.03": {"own_evidence": 0.0, "evidence_sharpness": 0.03},
        "other queries: half the best hit's own evidence, sharpness 0.03": {"own_evidence": 0.5,
                                                                             "evidence_sharpness": 0.03},
        "no compared-identifier demotion": {"compared": 1.0},
        "compared identifier x0.5": {"compared": 0.5},
        "compared identifier x0.85": {"compared": 0.85},
        "embedded identifiers 0.6": {"embedded": 0.6},
    }
    for name, change in one.items():
        rows[f"  product, {name}"] = product(with_options(**change))
    rows["  product, tests known by their path only (no #[cfg(test)] / #[test] marks)"] = without_marks("test")
    # the file vector (sessions 5 and 7): tried, not in the product
    rows["  product + 0.3 cos(file vector)"] = product(with_options(), file_weight=FILE_WEIGHT, file_hits=0)
    for hits in (3, 5, 10):
        rows[f"  product + 0.3 cos(file vector), the {hits} nearest files bring their best structure"] = product(
            with_options(), file_weight=FILE_WEIGHT, file_hits=hits)
    for weight in (0.2, 0.25, 0.4):
        rows[f"  product + {weight} cos(file vector), the 5 nearest files join"] = product(with_options(), file_weight=weight)
    for file_min in (5, 10):
        rows[f"  product + 0.3 cos(file vector) for files of {file_min}+ structures only, the 5 nearest join"] = product(
            with_options(), file_weight=FILE_WEIGHT, file_min=file_min)
    rows["  product, lexical weight 0.3"] = product(with_options(), weights=(1.0, 0.5, 0.3))
    rows["  product, code weight 1.0"] = product(with_options(), weights=(1.0, 1.0, 0.15))
    rows["  product, 200 candidates per vector"] = product(with_options(), fetch=200)
    rows["  lexical only (--lexical-only, or before the dense pass): BM25 + names + the ranking"] = lexical_only()
    rows["  lexical only, questions: file evidence 0.5, as the hybrid's"] = lexical_only(
        replace(LEXICAL_ONLY, question_file_evidence=0.5))
    rows["  lexical only, questions: file decay 0.8, as other queries"] = lexical_only(
        replace(LEXICAL_ONLY, question_file_decay=0.8))
    rows["  lexical only, with the hybrid's evidence sharpness (0.05, questions 0.15)"] = lexical_only(with_options())
    rows["  lexical only, evidence sharpness 0.3, questions 0.9"] = lexical_only(
        with_options(evidence_sharpness=0.3, question_sharpness=0.9))
    rows["  product, lexical weight 0.5"] = product(with_options(), weights=(1.0, 0.5, 0.5))
    rows["  product and lexical-only lists fused, RRF k=60"] = fused_rankings(60, 1.0)
    rows["  product + 0.25 x lexical-only final score"] = fused_rankings(lexical=0.25, by="score")
    rows["  product, lexical 0.3 for identifier queries and queries naming one"] = product(
        with_options(), weights=lambda q: (1.0, 0.5, 0.3 if q.names else 0.15))
    return rows


# -- scoring -----------------------------------------------------------------------------

@dataclass
class Scores:
    repos: dict[str, float]
    languages: dict[str, float]
    categories: dict[str, float]
    csn: dict[str, float]

    @property
    def macro(self) -> float:
        return statistics.fmean(self.repos.values())


def score_results(repos: list[Repo], results: dict[str, list[list[tuple[str, int, int]]]]) -> Scores:
    """NDCG@10 per repository, language and category, from each query's top results (annotation paths)."""
    per_repo: dict[str, float] = {}
    per_cat: dict[str, list[float]] = {}  # each repository's mean per category, as code_search.py
    per_language: dict[str, list[float]] = {}
    for repo in repos:
        values = []
        categories: dict[str, list[float]] = {}
        for task, top in zip(repo.tasks, results[repo.entry["name"]]):
            targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
            value = ndcg_at_k(top[:K], targets, repo.indexed)
            values.append(value)
            categories.setdefault(task["category"], []).append(value)
        for category, v in categories.items():
            per_cat.setdefault(category, []).append(statistics.fmean(v))
        per_repo[repo.entry["name"]] = statistics.fmean(values)
        per_language.setdefault(repo.entry["language"], []).append(per_repo[repo.entry["name"]])
    return Scores(per_repo, {k: statistics.fmean(v) for k, v in per_language.items()},
                  {k: statistics.fmean(v) for k, v in per_cat.items()}, {})


Scorer = Callable[[Corpus, str, Any], QueryScores]


def evaluate(variant: Variant, repos: list[Repo], csn: dict[str, Language], scorer: Scorer = scores) -> Scores:
    """The variant's scores; `scorer` gives a query's scores against a corpus (representations.py swaps it)."""
    results = {}
    for repo in repos:
        head = prefix(repo.entry)
        results[repo.entry["name"]] = [
            [(head + c.path, c.payload["line_from"], c.payload["line_to"])
             for c in variant(repo.corpus, scorer(repo.corpus, t["query"], repo.vectors[t["query"]]))[:K]]
            for t in repo.tasks]
    out = score_results(repos, results)
    for language, lang in csn.items():
        ranks: list[int | None] = []
        for query, target in lang.pairs:
            ids = [c.id for c in variant(lang.corpus, scorer(lang.corpus, query, lang.vectors[query]))[:10]]
            ranks.append(ids.index(target) + 1 if target in ids else None)
        out.csn[language] = mrr_at_10(ranks)
    return out


def peer_scores(repos: list[Repo], data: Path) -> dict[str, Scores]:
    """The peer's pipeline on the same queries (its own venv; results cached by repository set)."""
    cache = OFFLINE / "peer.json"
    names = [r.entry["name"] for r in repos]
    if not cache.is_file() or sorted(json.loads(cache.read_text())["results"]) != sorted(names):
        if not PEER_VENV.is_file():
            print(f"(peer rows left out: no {PEER_VENV}; see bench/README.md to set it up)")
            return {}
        roots = {r.entry["name"]: {"root": str(benchmark_root(r.entry, data)),
                                   "queries": [t["query"] for t in r.tasks]} for r in repos}
        job = OFFLINE / "peer-roots.json"
        job.write_text(json.dumps(roots))
        subprocess.run([str(PEER_VENV), str(Path(__file__).with_name("peer.py")), str(job), str(cache)],
                       check=True, stdout=subprocess.DEVNULL)
    saved = json.loads(cache.read_text())
    out = {}
    variants_ = next(iter(saved["results"].values())).keys()
    for variant in variants_:
        results = {name: [[(prefix(r.entry) + p, a, b) for p, a, b in top] for top in saved["results"][name][variant]]
                   for name, r in zip(names, repos)}
        out[f"peer (semble 0.7.0): {variant}"] = score_results(repos, results)
    return out


def print_header(repos: list[Repo], csn: dict[str, Language], per_repo: bool) -> None:
    columns = ["variant", "macro", *LANGUAGES, *CATEGORIES, *(f"CSN {x}" for x in csn)]
    if per_repo:
        columns += [r.entry["name"] for r in repos]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def print_row(name: str, s: Scores, repos: list[Repo], csn: dict[str, Language], per_repo: bool) -> None:
    cells = [f"{s.macro:.3f}", *(f"{s.languages.get(x, 0):.3f}" for x in LANGUAGES),
             *(f"{s.categories.get(x, 0):.3f}" for x in CATEGORIES),
             *(f"{s.csn[x]:.3f}" if x in s.csn else "–" for x in csn)]
    if per_repo:
        cells += [f"{s.repos[r.entry['name']]:.3f}" for r in repos]
    print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", default="", help="Variant names, separated by ';'.")
    parser.add_argument("--repos", action="store_true", help="Also a column per repository.")
    parser.add_argument("--no-csn", action="store_true", help="Leave the CSN-style pairs out (faster).")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    repos = load_repos(args.data)
    csn = {} if args.no_csn else load_csn()
    wanted = {v.strip() for v in args.only.split(";") if v.strip()}
    print_header(repos, csn, args.repos)
    if not args.no_peer:
        for name, s in peer_scores(repos, args.data).items():
            print_row(name, s, repos, csn, args.repos)
    for name, variant in variants().items():
        if not wanted or name.strip() in wanted:
            print_row(name, evaluate(variant, repos, csn), repos, csn, args.repos)
    scored: dict[str, Scorer] = {"  product, a query that is one identifier read as written by the text model too":
                                 identifiers_as_written}
    if QUERY_MAP.is_file():
        scored.update({f"  product, query map x{share:g}": mapped_queries(share) for share in (0.5, 1.0)})
    for name, scorer in scored.items():
        if not wanted or name.strip() in wanted:
            print_row(name, evaluate(product(with_options()), repos, csn, scorer), repos, csn, args.repos)


def identifiers_as_written(corpus: Corpus, query: str, vector: Any) -> QueryScores:
    """The text model's query vector as written (`ZodError`), not spelt as names are ("zod error")."""
    qs = scores(corpus, query, vector)
    qs.text = corpus.text @ vector
    return qs


def mapped_queries(share: float) -> Scorer:
    """Both dense query vectors through bench/query_map.py's maps (W = I + share x A); not in the product."""
    from query_map import apply

    with np.load(QUERY_MAP) as saved:
        maps = {k: saved[k].astype(np.float32) for k in ("text", "code")}

    def scorer(corpus: Corpus, query: str, vector: Any) -> QueryScores:
        qs = scores(corpus, query, vector)
        qs.text = corpus.text @ apply(vector, maps["text"], share)
        qs.code = corpus.code @ apply(vector, maps["code"], share)
        return qs
    return scorer


if __name__ == "__main__":
    main()
