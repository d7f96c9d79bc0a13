"""NDCG@10 of the product on some of the mined corpus's packages: per package, language and rule.

For a quick held-out check of a chunking or ranking change in languages the nine lack,
without the whole corpus's hours of indexing: each chosen package's stripped copy
(bench/corpus.py queries) is indexed into its own store under --stores with whatever
`semsearch` is importable, and its mined queries are searched and scored with the set's
metric (bench/code_search.py's Target and ndcg_at_k). To compare two versions of the
product, run it twice with another `semsearch` first on the path and another --stores
(the vector cache makes the second index cheap):

    .venv/bin/python bench/corpus.py fetch && .venv/bin/python bench/corpus.py queries --only hs-,lua-
    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before/src .venv/bin/python bench/corpus_eval.py --only hs-,lua- --stores stores-before
    .venv/bin/python bench/corpus_eval.py --only hs-,lua- --stores stores-after
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict

from code_search import K, Target, ndcg_at_k
from corpus_fetch import load_packages
from corpus_queries import read_queries

from semsearch.indexer import Indexer
from semsearch.search import Searcher
from semsearch.store.edge import EdgeStore
from sources import WORK

CORPUS = WORK / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", required=True, help="Package id prefixes, comma-separated (hs-,lua-).")
    parser.add_argument("--stores", default="stores-eval", help="Folder under bench/.work/corpus for the stores.")
    parser.add_argument("--json", help="Also write the per-package figures to this file.")
    args = parser.parse_args()
    prefixes = tuple(p for p in args.only.split(",") if p)
    rows = []
    for package in load_packages():
        tasks = read_queries(package.id) if package.id.startswith(prefixes) else []
        if not tasks:
            continue
        with EdgeStore(CORPUS / args.stores / package.id) as store:
            Indexer(store, "code").index_tree(CORPUS / "repos" / package.id)
            indexed = [(h.payload["context"]["file_path"], h.payload["line_from"], h.payload["line_to"])
                       for h in store.scroll("code", ["context", "line_from", "line_to"])]
            searcher = Searcher(store, "code")
            by_rule: dict[str, list[float]] = defaultdict(list)
            for task in tasks:
                targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
                hits = searcher.search(task["query"], limit=K)
                by_rule[task.get("rule", "?")].append(
                    ndcg_at_k([(h.path, h.line_from, h.line_to) for h in hits], targets, indexed))
        scores = [s for v in by_rule.values() for s in v]
        rows.append({"package": package.id, "language": package.language, "fold": package.fold,
                     "queries": len(scores), "ndcg": statistics.fmean(scores),
                     "rules": {r: statistics.fmean(v) for r, v in by_rule.items()}})
        print(f"{package.id}: {rows[-1]['ndcg']:.3f} ({len(scores)} queries)", flush=True)
    languages: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        languages[r["language"]].append(r["ndcg"])
    print("\n| language | packages | queries | NDCG@10 (mean of packages) |\n|---|---|---|---|")
    for language, values in sorted(languages.items()):
        queries = sum(r["queries"] for r in rows if r["language"] == language)
        print(f"| {language} | {len(values)} | {queries} | {statistics.fmean(values):.3f} |")
    if rows:
        print(f"| all | {len(rows)} | {sum(r['queries'] for r in rows)} | "
              f"{statistics.fmean(r['ndcg'] for r in rows):.3f} |")
    if args.json:
        (CORPUS / args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
