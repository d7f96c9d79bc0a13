"""Record collections: ingest speed and memory, query latency, and a quality check.

    .venv/bin/python bench/records.py                 # the ~15k PyPI packages in shared/data
    .venv/bin/python bench/records.py --million       # 1M records built from packages/pypi.tsv

For the 1M run the memory bound is checked the hard way: run it inside a cgroup limited
to 4 GiB (see the README's Records section); if it finishes, it never needed more.

Quality: bench/pypi_queries.json holds hand-written queries with the packages a Python user
would expect; recall@10 is the share of those packages in the top 10, averaged over
queries. A test of sense, not a tuning target.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import threading
import time
from pathlib import Path

from code_search import WORK

from semsearch.records.loader import RecordLoader
from semsearch.records.search import RECORD_MODES, RecordSearcher
from semsearch.store.edge import EdgeStore

HERE = Path(__file__).resolve().parent
PYPI = HERE.parent.parent / "shared" / "data" / "pypi-packages.jsonl"
PYPI_TSV = Path("/work/.library/env/packages/pypi.tsv")


def peak_rss_mib() -> float:
    """Peak resident set: anonymous memory plus the memory-mapped store pages the kernel kept."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class AnonPeak:
    """Peak anonymous (not file-backed) resident memory, sampled: what the kernel cannot give back."""

    def __init__(self) -> None:
        self.kib = 0
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("RssAnon:"):
                        self.kib = max(self.kib, int(line.split()[1]))
            time.sleep(0.25)


def build_million(target: Path, count: int = 1_000_000) -> Path:
    """1M JSONL records from the full PyPI list (name, summary, month), repeated with a suffix to reach count."""
    if target.is_file():
        return target
    rows = []
    with PYPI_TSV.open(encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 5 and parts[4].strip():
                rows.append({"name": parts[0], "summary": parts[4].strip(), "released": parts[2]})
    with target.open("w") as out:
        for i in range(count):
            row = rows[i % len(rows)]
            if i >= len(rows):
                row = {**row, "name": f"{row['name']}-mirror-{i // len(rows)}"}
            out.write(json.dumps(row) + "\n")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    source = args.file or (build_million(WORK / "pypi-1m.jsonl") if args.million else PYPI)
    store_dir = WORK / "records-store" / source.stem
    anon = AnonPeak()
    with EdgeStore(store_dir) as store:
        started = time.perf_counter()
        summary = RecordLoader(store, "pypi").load(source, text_fields=["name", "summary"], id_field="name",
                                                    index_fields=["released"], recreate=True)
        seconds = time.perf_counter() - started
        print(f"ingest {source.name}: {summary.loaded:,} records in {seconds:.1f} s = "
              f"{summary.loaded / seconds:,.0f} records/s (incl. model load and HNSW build); "
              f"peak RSS {peak_rss_mib():,.0f} MiB (anonymous {anon.kib / 1024:,.0f} MiB)")
        searcher = RecordSearcher(store, "pypi")
        tasks = json.loads((HERE / "pypi_queries.json").read_text())
        searcher.search("warm up", mode="neural")
        month = searcher.filters([("released", "2026-10")])
        print("| mode | recall@10 | any expected in top 10 | query p50 ms | filtered p50 ms |")
        print("|---|---|---|---|---|")
        for mode in RECORD_MODES:
            recalls, anyhit, times, filtered = [], [], [], []
            for task in tasks:
                t = time.perf_counter()
                hits = searcher.search(task["query"], mode=mode, limit=10)
                times.append((time.perf_counter() - t) * 1000)
                got = {h.payload["name"].lower() for h in hits}
                expected = {e.lower() for e in task["expected"]}
                recalls.append(len(got & expected) / len(expected))
                anyhit.append(bool(got & expected))
                t = time.perf_counter()
                searcher.search(task["query"], mode=mode, limit=10, filter=month)
                filtered.append((time.perf_counter() - t) * 1000)
            print(f"| {mode} | {statistics.fmean(recalls):.3f} | {statistics.fmean(anyhit):.3f} | "
                  f"{statistics.median(times):.1f} | {statistics.median(filtered):.1f} |")


if __name__ == "__main__":
    main()
