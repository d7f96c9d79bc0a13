"""Ranking variants scored on the nine and on the mined corpus's held-aside packages, per language and fold.

A rule chosen on the nine is a coin toss elsewhere (issue 24): this prints, for the
product and for any of bench/ablation.py's variants, NDCG@10 on the nine per language and
on every mined package whose store exists (bench/corpus.py index, or corpus_eval.py with
`--stores stores`), per language and per fold, as the change against the product. Retrieval
is recomputed offline from the stores (offline.py), so a variant costs seconds a package.

    .venv/bin/python bench/corpus.py fetch --folds 0 && .venv/bin/python bench/corpus.py queries --folds 0
    .venv/bin/python bench/corpus.py index --folds 0       # or --only <ids>; see bench/CORPUS.md
    .venv/bin/python bench/heldout.py --only "product, lexical weight 0.3;product + 0.3 cos(file vector)"
    .venv/bin/python bench/heldout.py --list                  # the variants' names
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from ablation import OFFLINE, Repo, Variant, evaluate, load_repos, product, variants
from corpus_fetch import Package, load_packages
from corpus_queries import read_queries
from offline import Corpus, QueryScores, embed_queries, pool, read_corpus
from sources import DEFAULT_DATA, WORK

from semsearch.query import related, split_words
from semsearch.ranking import Candidate, rerank, with_options
from semsearch.search import CODE_WEIGHT, LEXICAL_WEIGHT, TEXT_WEIGHT

CORPUS = WORK / "corpus"


def name_words(weight: float) -> Variant:
    """Tried in session 11, not in the product: a prose query's words in a structure's name lift it,
    x (1 + weight x share of the query's words), before the re-ranking."""
    def run(corpus: Corpus, qs: QueryScores) -> list[Candidate]:
        found = pool(corpus, qs)
        words = list(qs.query.words)
        if words and qs.query.kind != "identifier":
            for c in found:
                names = split_words(c.payload.get("name") or "")
                hit = sum(any(related(w, n) for n in names) for w in words)
                c.score *= 1 + weight * hit / len(words) ** 0.5
        return rerank(qs.query, found, with_options())
    return run


EXTRA: dict[str, Variant] = {f"product, query words in a structure's name x(1 + {w} share)": name_words(w)
                             for w in (0.1, 0.2)}
# The fusion weights' neighbours (text 1.0, code 0.5, lexical 0.15 in the product).
EXTRA |= {"product, code weight 0.3": product(with_options(), weights=(TEXT_WEIGHT, 0.3, LEXICAL_WEIGHT)),
          "product, code weight 0.7": product(with_options(), weights=(TEXT_WEIGHT, 0.7, LEXICAL_WEIGHT)),
          "product, text weight 1.2": product(with_options(), weights=(1.2, CODE_WEIGHT, LEXICAL_WEIGHT))}
# Tried in session 11, not in the product: more lexical weight for topic queries, whose mined
# form (a doc sentence) is all the corpus has.
EXTRA["product, lexical weight 0.3 for topic queries"] = product(
    with_options(), weights=lambda q: (TEXT_WEIGHT, CODE_WEIGHT, 0.3 if q.kind == "topic" else LEXICAL_WEIGHT))


def load_mined(stores: str) -> list[Repo]:
    """Every mined package with a finished store and queries, as the ablation's Repo."""
    repos = []
    for package in load_packages():
        store = CORPUS / stores / package.id
        if not (store.is_dir() and (CORPUS / "indexed" / f"{package.id}.json").is_file()):
            continue
        tasks = read_queries(package.id)
        if tasks:
            repos.append(package_repo(package, store, OFFLINE / "corpus" / package.id, tasks,
                                      OFFLINE / "corpus-queries.json"))
    return repos


def package_repo(package: Package, store: Path, cache: Path, tasks: list[dict[str, Any]], vector_cache: Path) -> Repo:
    """A mined package's store and queries, as the ablation's Repo (paths relative to the package's root)."""
    corpus = read_corpus(store, "code", cache)
    indexed = [(p["context"]["file_path"], p["line_from"], p["line_to"]) for p in corpus.payloads]
    vectors = embed_queries([t["query"] for t in tasks], vector_cache)
    entry = {"name": package.id, "language": package.language, "benchmark_root": "", "fold": package.fold}
    return Repo(entry, corpus, tasks, vectors, indexed)


def table(title: str, columns: list[str], rows: dict[str, dict[str, float]], base: str) -> None:
    """Rows of figures; every row but the base one as its change against the base."""
    print(f"\n{title}\n\n| variant | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
    for name, values in rows.items():
        cells = [f"{values[c]:.3f}" if name == base else f"{values[c] - rows[base][c]:+.3f}" for c in columns]
        print(f"| {name.strip()} | " + " | ".join(cells) + " |")


def compare(chosen: dict[str, Variant], nine: list[Repo], mined: list[Repo]) -> None:
    """Print each variant's NDCG@10 per language (nine and mined) and per fold, against the first."""
    base = next(iter(chosen))
    print(f"the nine, and {len(mined)} mined packages "
          f"({sum(len(r.tasks) for r in mined)} queries; folds {sorted({r.entry['fold'] for r in mined})})")
    by_language: dict[str, dict[str, float]] = {}
    by_fold: dict[str, dict[str, float]] = {}
    for name, variant in chosen.items():
        ours = evaluate(variant, nine, {})
        row = {f"nine {k}": v for k, v in ours.languages.items()} | {"nine": ours.macro}
        by_language[name] = row
        if not mined:  # no mined store built yet: the nine alone
            continue
        theirs = evaluate(variant, mined, {})
        row |= {k: v for k, v in sorted(theirs.languages.items())} | {"mined": theirs.macro}
        folds: dict[str, list[float]] = defaultdict(list)
        for repo in mined:
            folds[f"fold {repo.entry['fold']}"].append(theirs.repos[repo.entry["name"]])
        by_fold[name] = {k: statistics.fmean(v) for k, v in sorted(folds.items())} | {"mined": theirs.macro}
    table("NDCG@10 per language (nine: mean of its repositories; mined: mean of packages)",
          list(by_language[base]), by_language, base)
    if mined:
        table("Mined packages per fold", list(by_fold[base]), by_fold, base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="Variant names from bench/ablation.py, separated by ';'.")
    parser.add_argument("--list", action="store_true", help="Print the variants' names and stop.")
    parser.add_argument("--stores", default="stores", help="Folder under bench/.work/corpus holding the stores.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    every = variants() | EXTRA
    if args.list:
        print("\n".join(name.strip() for name in every))
        return
    wanted = [v.strip() for v in args.only.split(";") if v.strip()]
    chosen: dict[str, Variant] = {"product": product(with_options())}
    chosen.update({name.strip(): v for name, v in every.items() if name.strip() in wanted})
    missing = set(wanted) - set(chosen)
    if missing:
        raise SystemExit(f"no such variant: {'; '.join(sorted(missing))} (see --list)")
    compare(chosen, load_repos(args.data), load_mined(args.stores))


if __name__ == "__main__":
    main()
