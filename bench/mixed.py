"""Ranking when repositories mix: the nine development repositories in one collection.

Each repository's annotated queries are searched three ways and scored with the set's exact
NDCG@10: alone (its own store, as bench/code_search.py builds it), in the shared collection
narrowed to it (`--repo NAME`), and in the shared collection unfiltered, where a hit from
another repository is simply wrong. The issue's bar: the unfiltered macro within 0.02 of
the filtered one. Also prints how many of the unfiltered top 10 came from other
repositories, and where the filtered and the alone figures differ (collection-wide BM25
statistics are the one thing a shared collection changes for a filtered query).

    .venv/bin/python bench/code_search.py    # the alone column (optional: skipped when absent)
    .venv/bin/python bench/mixed.py [--reuse] [--repos fastapi,serde]
    .venv/bin/python bench/mixed.py --reuse --unfiltered-only --prefer 0.4   # searched from inside each repository
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
from pathlib import Path
from typing import Any

from code_search import K, Target, by_language, ndcg_at_k
from sources import DEFAULT_DATA, WORK, benchmark_root, manifest, prefix, tasks

from semsearch import ranking, search
from semsearch.indexer import Indexer
from semsearch.search import CANDIDATES, Searcher
from semsearch.store import Match
from semsearch.store.edge import EdgeStore

MIXED = WORK / "stores-mixed"
ALONE = WORK / "stores"
OWN_DEPTH = CANDIDATES  # read this deep, the search ranks the same candidates as for its top ten


def build(entries: list[dict[str, Any]], data: Path, reuse: bool) -> None:
    """Every repository into one collection, each under its name (incremental with --reuse)."""
    with EdgeStore(MIXED) as store:
        for n, entry in enumerate(entries):
            indexer = Indexer(store, "code")
            summary = indexer.index_tree(benchmark_root(entry, data), repo=entry["name"],
                                         recreate=not reuse and n == 0)
            print(f"indexed {entry['name']}: {summary.points} structures in {summary.seconds:.0f} s", flush=True)


def score(searcher: Searcher, entry: dict[str, Any], data: Path, indexed: list[tuple[str, int, int]],
          repos: list[str] | None, mixed: bool, prefer: float | None = None, own_only: bool = False) -> tuple[float, float]:
    """(macro NDCG@10 over the repository's queries, share of its top-10 hits from other repositories).
    prefer: searched from inside this repository (ranking.home_first with this factor). own_only: the
    unfiltered ranking with other repositories' hits taken out, which tells a gap made by their hits
    from one made by the shared collection reordering the repository's own."""
    head, name = prefix(entry), entry["name"]
    scores, foreign, shown = [], 0, 0
    filters = [Match("repo", repos)] if repos else None
    for task in tasks(entry, data):
        targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
        hits = searcher.search(task["query"], limit=OWN_DEPTH if own_only else K, filters=filters)
        if own_only:
            hits = [h for h in hits if h.payload.get("repo") == name][:K]
        if prefer is not None:  # as CodeIndex.search(prefer=) does
            own = searcher.search(task["query"], limit=K, filters=[Match("repo", name)])
            hits = ranking.home_first(own, hits, name, prefer)[:K]
        results = []
        for h in hits:
            ours = not mixed or h.payload.get("repo") == name
            foreign += not ours
            results.append((head + h.path if ours else "\0elsewhere", h.line_from, h.line_to))
        shown += len(hits)
        scores.append(ndcg_at_k(results, targets, indexed))
    return statistics.fmean(scores), foreign / max(shown, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repos", default="")
    parser.add_argument("--reuse", action="store_true", help="Update the shared collection instead of rebuilding it.")
    parser.add_argument("--unfiltered-only", action="store_true", help="Only the unfiltered column (to try a variant).")
    parser.add_argument("--prefer", type=float, action="append", default=[], metavar="FACTOR",
                        help="Also score each repository's queries searched from inside it (ranking.home_first: "
                             f"another's hit at rank r placed at r / FACTOR; the product's is {ranking.HOME_FACTOR}).")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="A ranking constant for this run (ranking.Ranking), e.g. --set repo_evidence=1")
    args = parser.parse_args()
    if args.set:
        options = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
        search.rerank = functools.partial(ranking.rerank, ranking=ranking.with_options(**options))
    entries = list(manifest(args.data, {r for r in args.repos.split(",") if r}))
    build(entries, args.data, args.reuse)
    rows = []
    with EdgeStore(MIXED) as store:
        searcher = Searcher(store, "code")
        searcher.search("warm up the model", limit=K)
        for entry in entries:
            head, name = prefix(entry), entry["name"]
            indexed = [(head + h.payload["context"]["file_path"], h.payload["line_from"], h.payload["line_to"])
                       for h in store.scroll("code", ["context", "line_from", "line_to", "repo"])
                       if h.payload.get("repo") == name]
            unfiltered, foreign = score(searcher, entry, args.data, indexed, None, mixed=True)
            own_only, _ = score(searcher, entry, args.data, indexed, None, mixed=True, own_only=True)
            for factor in args.prefer:
                preferred, moved = score(searcher, entry, args.data, indexed, None, mixed=True, prefer=factor)
                print(f"{name}: prefer x{factor}: {preferred:.3f} ({moved:.0%} foreign)", flush=True)
            filtered, alone = float("nan"), None
            if not args.unfiltered_only:
                filtered, _ = score(searcher, entry, args.data, indexed, [name], mixed=True)
            if (ALONE / name).is_dir() and not args.unfiltered_only:
                with EdgeStore(ALONE / name) as own:
                    alone, _ = score(Searcher(own, "code"), entry, args.data, indexed, None, mixed=False)
            rows.append({"repo": name, "language": entry["language"], "alone": alone, "filtered": filtered,
                         "unfiltered": unfiltered, "own_only": own_only, "foreign": foreign})
            print(f"{name}: alone {alone if alone is None else round(alone, 3)}, filtered {filtered:.3f}, "
                  f"unfiltered {unfiltered:.3f}", flush=True)
    print("\n| repo | language | alone | filtered (--repo) | unfiltered | unfiltered − filtered | "
          "top-10 hits from other repositories | unfiltered, its own hits only |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        alone = "–" if r["alone"] is None else f"{r['alone']:.3f}"
        print(f"| {r['repo']} | {r['language']} | {alone} | {r['filtered']:.3f} | {r['unfiltered']:.3f} | "
              f"{r['unfiltered'] - r['filtered']:+.3f} | {r['foreign']:.0%} | {r['own_only']:.3f} |")
    macro = {k: statistics.fmean(r[k] for r in rows) for k in ("filtered", "unfiltered", "own_only")}
    alone_macro = statistics.fmean(r["alone"] for r in rows) if all(r["alone"] is not None for r in rows) else None
    print(f"| **macro** | | {'–' if alone_macro is None else f'{alone_macro:.3f}'} | {macro['filtered']:.3f} | "
          f"{macro['unfiltered']:.3f} | {macro['unfiltered'] - macro['filtered']:+.3f} | "
          f"{statistics.fmean(r['foreign'] for r in rows):.0%} | {macro['own_only']:.3f} |")
    for key in ("filtered", "unfiltered"):
        languages = by_language(rows, key)
        print(f"{key} per language: " + ", ".join(f"{lang} {v:.3f}" for lang, v in languages.items()))
    gap = macro["filtered"] - macro["unfiltered"]
    print(f"unfiltered within 0.02 of filtered: {'yes' if gap <= 0.02 else 'no'} ({gap:+.3f})")


if __name__ == "__main__":
    main()
