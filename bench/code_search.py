"""Code-search quality benchmark: NDCG@10 on the development set in shared/bench/code-search.

Nine repositories in six languages: PyPI sdists and the archives beside the set's manifest
(bench/sources.py). Indexes each benchmark root into an embedded store, runs the annotated
queries and scores them with the exact metric of the set's README. Prints per-repository
NDCG@10, per category, index time, structures, query p50, then the mean per language and
the macro average over repositories.

    .venv/bin/python bench/code_search.py [--mode both|text|code] [--repos fastapi,serde] [--backend onnx-int8]
    .venv/bin/python bench/code_search.py --lexical-only   # no model: the index before its dense pass
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from semsearch.indexer import Indexer
from semsearch.search import Searcher
from semsearch.store.edge import EdgeStore
from sources import DEFAULT_DATA, WORK, benchmark_root, manifest, prefix, tasks

K = 10


@dataclass
class Target:
    path: str
    start: int | None = None
    end: int | None = None

    @classmethod
    def parse(cls, item: Any) -> Target:
        if isinstance(item, str):
            return cls(item)
        return cls(item["path"], item.get("start_line"), item.get("end_line"))

    def covered_by(self, path: str, line_from: int, line_to: int) -> bool:
        if not (path == self.path or path.endswith("/" + self.path)):
            return False
        if self.start is None or self.end is None:
            return True
        return line_from <= self.end and self.start <= line_to


def ndcg_at_k(results: list[tuple[str, int, int]], targets: list[Target],
              indexed: list[tuple[str, int, int]]) -> float:
    """The README's NDCG@10. A query whose targets no indexed chunk covers scores 0, as for the peers."""
    n = sum(any(t.covered_by(*chunk) for chunk in indexed) for t in targets)
    if n == 0:
        return 0.0
    ranks = []
    for target in targets:
        for rank, result in enumerate(results[:K], start=1):
            if target.covered_by(*result):
                ranks.append(rank)
                break
    dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= K)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(K, n) + 1))
    return dcg / ideal


def run_repo(entry: dict[str, Any], data: Path, mode: str, reindex: bool, backend: str | None = None,
             lexical_only: bool = False, ranker: Path | None = None) -> dict[str, Any]:
    root = benchmark_root(entry, data)
    head = prefix(entry)
    store_dir = WORK / ("stores-lexical" if lexical_only else "stores") / entry["name"]
    with EdgeStore(store_dir) as store:
        summary = Indexer(store, "code", backend=backend).index_tree(root, recreate=reindex, lexical_only=lexical_only)
        indexed = [(head + h.payload["context"]["file_path"], h.payload["line_from"], h.payload["line_to"])
                   for h in store.scroll("code", ["context", "line_from", "line_to"])]
        searcher = Searcher(store, "code", ranker=_learned(ranker) if ranker else None)
        searcher.search("warm up the model", mode=mode, limit=K)
        scores: dict[str, list[float]] = {}
        latencies = []
        unscorable = 0
        for task in tasks(entry, data):
            targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
            started = time.perf_counter()
            hits = searcher.search(task["query"], mode=mode, limit=K)
            latencies.append((time.perf_counter() - started) * 1000)
            results = [(head + h.path, h.line_from, h.line_to) for h in hits]
            score = ndcg_at_k(results, targets, indexed)
            unscorable += not any(t.covered_by(*chunk) for t in targets for chunk in indexed)
            scores.setdefault(task["category"], []).append(score)
            scores.setdefault("all", []).append(score)
    return {
        "repo": entry["name"], "language": entry["language"], "ndcg": statistics.fmean(scores["all"]),
        "categories": {c: statistics.fmean(v) for c, v in scores.items() if c != "all"},
        "index_s": summary.seconds, "structures": summary.points, "files": summary.walk.files,
        "p50_ms": statistics.median(latencies), "queries": len(latencies), "unscorable": unscorable,
    }


def _learned(path: Path):  # type: ignore[no-untyped-def]
    from semsearch.learned import load  # only when asked: older checkouts (corpus_eval.py's "before") lack it

    return load(path)


def by_language(rows: list[dict[str, Any]], key: str = "ndcg") -> dict[str, float]:
    """Mean of a figure over each language's repositories (Python has four, the others one)."""
    languages: dict[str, list[float]] = {}
    for r in rows:
        languages.setdefault(r["language"], []).append(r[key])
    return {language: statistics.fmean(v) for language, v in languages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--repos", default="")
    parser.add_argument("--reuse", action="store_true", help="Reuse existing indexes (incremental update).")
    parser.add_argument("--backend", help="onnx (default), onnx-int8 or torch; time with SEMSEARCH_VECTOR_CACHE=off.")
    parser.add_argument("--lexical-only", action="store_true",
                        help="Index without dense vectors (what searches see before the dense pass).")
    parser.add_argument("--ranker", type=Path, help="Trees written by bench/learn.py export instead of the rules.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    wanted = {r for r in args.repos.split(",") if r}
    rows = []
    for entry in manifest(args.data, wanted):
        rows.append(run_repo(entry, args.data, args.mode, not args.reuse, args.backend, args.lexical_only,
                             args.ranker))
        print(f"{entry['name']}: {rows[-1]['ndcg']:.3f}", flush=True)
    categories = sorted({c for r in rows for c in r["categories"]})
    header = ["repo", "language", "NDCG@10", *categories, "files", "structures", "index s", "query p50 ms"]
    print(f"mode: {args.mode}, ranking: {args.ranker or 'rules'}, backend: {args.backend or 'default'}"
          + (", lexical only" if args.lexical_only else ""))
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        cats = [f"{r['categories'].get(c, float('nan')):.3f}" for c in categories]
        print(f"| {r['repo']} | {r['language']} | {r['ndcg']:.3f} | " + " | ".join(cats)
              + f" | {r['files']} | {r['structures']} | {r['index_s']:.1f} | {r['p50_ms']:.1f} |")
    macro = statistics.fmean(r["ndcg"] for r in rows)
    macro_cats = [statistics.fmean(r["categories"][c] for r in rows if c in r["categories"]) for c in categories]
    print(f"| **macro** | | **{macro:.3f}** | " + " | ".join(f"{v:.3f}" for v in macro_cats)
          + f" | | {sum(r['structures'] for r in rows)} | {sum(r['index_s'] for r in rows):.1f} | "
          + f"{statistics.median(r['p50_ms'] for r in rows):.1f} |")
    languages = by_language(rows)
    print("\n| " + " | ".join(languages) + " | macro |")
    print("|" + "---|" * (len(languages) + 1))
    print("| " + " | ".join(f"{v:.3f}" for v in languages.values()) + f" | {macro:.3f} |")
    skipped = sum(r["unscorable"] for r in rows)
    if skipped:
        print(f"({skipped} queries have no target in the index: they score 0, as for every method)")
    if args.json:
        args.json.write_text(json.dumps({"mode": args.mode, "rows": rows, "macro": macro}, indent=2))


if __name__ == "__main__":
    main()
