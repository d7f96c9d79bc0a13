"""Repositories mixed in one collection, on held-aside mined packages rather than the nine.

bench/mixed.py chose `ranking.home_first`'s factor on the nine, the one set whose queries were
written for repositories that share a collection. This checks the choice on packages nobody
tuned on: every mined package of the chosen folds that has queries (bench/corpus.py) is indexed
into one collection under its own name, and its queries are scored with the set's NDCG@10
three ways: narrowed to it (`repos=[id]`), unfiltered (another package's hit counts as wrong),
and searched from inside it (`prefer=id`) for each factor asked; "own hits only" is the
unfiltered ranking with other packages' hits taken out (what the shared statistics alone do); "elsewhere" is the share of
the top 10 from other packages at the product's factor.

    .venv/bin/python bench/corpus.py fetch --folds 0 && .venv/bin/python bench/corpus.py queries --folds 0
    .venv/bin/python bench/mixed_corpus.py --folds 0 --prefer 0.5 --prefer 0.4 --prefer 0.3

Vectors come from the vector cache, so a package indexed before costs no model time.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from code_search import K, Target, ndcg_at_k
from corpus_fetch import load_packages
from corpus_queries import read_queries
from sources import WORK

from semsearch import ranking
from semsearch.indexer import Indexer
from semsearch.search import CANDIDATES, Searcher
from semsearch.store import Match
from semsearch.store.edge import EdgeStore

CORPUS = WORK / "corpus"
OWN_DEPTH = CANDIDATES  # read this deep, the search ranks the same candidates as for its top ten


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", default="0", help="comma-separated folds of the mined corpus")
    parser.add_argument("--prefer", type=float, action="append", default=[], metavar="FACTOR")
    parser.add_argument("--stores", default="stores-mixed", help="folder under bench/.work/corpus")
    args = parser.parse_args()
    folds = {int(f) for f in args.folds.split(",")}
    packages = [p for p in load_packages() if p.fold in folds and read_queries(p.id)]
    with EdgeStore(CORPUS / args.stores) as store:
        for package in packages:
            summary = Indexer(store, "code").index_tree(CORPUS / "repos" / package.id, repo=package.id)
            print(f"indexed {package.id}: {summary.points} structures", flush=True)
        searcher = Searcher(store, "code")
        by_repo: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for h in store.scroll("code", ["context.file_path", "line_from", "line_to", "repo"]):
            by_repo[h.payload["repo"]].append((h.payload["context"]["file_path"], h.payload["line_from"],
                                               h.payload["line_to"]))
        columns = ["filtered", "unfiltered", "own hits only", *(f"prefer {f}" for f in args.prefer), "elsewhere"]
        rows = []
        for package in packages:
            scores: dict[str, list[float]] = defaultdict(list)
            for task in read_queries(package.id):
                targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
                narrowed = searcher.search(task["query"], limit=K, filters=[Match("repo", package.id)])
                everywhere = searcher.search(task["query"], limit=K)
                deep = searcher.search(task["query"], limit=OWN_DEPTH)
                own = [h for h in deep if h.payload.get("repo") == package.id][:K]
                answers = {"filtered": narrowed, "unfiltered": everywhere, "own hits only": own}
                for factor in args.prefer:  # as CodeIndex.search(prefer=) does
                    answers[f"prefer {factor}"] = ranking.home_first(narrowed, everywhere, package.id, factor)[:K]
                shown = ranking.home_first(narrowed, everywhere, package.id)[:K]  # the product's factor
                scores["elsewhere"].append(sum(h.payload.get("repo") != package.id for h in shown) / max(len(shown), 1))
                for column, hits in answers.items():
                    found = [(h.path if h.payload.get("repo") == package.id else "\0elsewhere", h.line_from,
                              h.line_to) for h in hits]
                    scores[column].append(ndcg_at_k(found, targets, by_repo[package.id]))
            rows.append({"package": package.id, "language": package.language,
                         **{c: statistics.fmean(scores[c]) for c in columns}})
            print(package.id, " ".join(f"{c} {rows[-1][c]:.3f}" for c in columns), flush=True)
    languages: dict[str, list[dict[str, float]]] = defaultdict(list)
    for row in rows:
        languages[row["language"]].append(row)
    print("\n| language | packages | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for language, group in sorted(languages.items()):
        print(f"| {language} | {len(group)} | " + " | ".join(f"{statistics.fmean(r[c] for r in group):.3f}"
                                                          for c in columns) + " |")
    macro = {c: statistics.fmean(r[c] for r in rows) for c in columns}
    print(f"| **all** | {len(rows)} | " + " | ".join(f"{macro[c]:.3f}" for c in columns) + " |")
    for column in columns[1:-1]:
        print(f"{column} − filtered: {macro[column] - macro['filtered']:+.3f}")


if __name__ == "__main__":
    main()
