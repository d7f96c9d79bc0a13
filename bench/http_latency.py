"""HTTP query latency of `semsearch serve` over a 100k-chunk code collection.

Builds (once) a collection of 100,000 structures — the development repositories' real
structures repeated under distinct paths, with real lexical vectors and random unit dense
vectors (latency depends on the count and the index, not on what the vectors mean) —
starts `semsearch serve` on loopback and sends the benchmark's queries one at a time,
query embedding included. Prints p50/p99 per mode, then the hybrid p50 in process.

    .venv/bin/python bench/http_latency.py [--points 100000] [--requests 500]
    .venv/bin/python bench/http_latency.py --ab bench/.work/learn/ranker.json   # in process: learned trees against the rules, interleaved
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
from serve import dev_queries, serving
from sources import WORK, benchmark_root, manifest

from semsearch import lexical
from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM
from semsearch.indexer import KEYWORD_FIELDS
from semsearch.structures import folders
from semsearch.models import LEXICAL
from semsearch.learned import load as load_ranker
from semsearch.search import Searcher
from semsearch.store import CollectionSpec, DenseVector, Point
from semsearch.store.edge import EdgeStore
from semsearch.walk import walk


def build(path: Path, points: int) -> None:
    with EdgeStore(path) as store:
        if store.exists("code") and store.count("code") == points:
            return
        if store.exists("code"):
            store.drop("code")
        structures = []
        for entry in manifest():
            root = benchmark_root(entry)
            structures += [s for f in walk(root) for s in chunk_source(f"{entry['name']}/{f.path}", f.text)]
        spec = CollectionSpec(vectors={"text": DenseVector(384, MINILM), "code": DenseVector(384, MINILM)},
                              sparse={LEXICAL: lexical.NAME}, keyword_fields=KEYWORD_FIELDS,
                              metadata={"kind": "code", "root": None})
        store.create("code", spec)
        rng = np.random.default_rng(0)
        lex = [lexical.embed_document(lexical.lexical_text(s)) for s in structures]
        batch: list[Point] = []
        for i in range(points):
            s = structures[i % len(structures)]
            copy = i // len(structures)
            path_ = f"copy{copy}/{s.file_path}" if copy else s.file_path
            payload = {**s.to_dict(), "dirs": folders(path_)}
            payload["context"] = {**payload["context"], "file_path": path_}
            vectors = rng.normal(size=(2, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            batch.append(Point(f"{i:08x}-0000-4000-8000-000000000000", {"text": vectors[0].tolist(),
                               "code": vectors[1].tolist(), LEXICAL: lex[i % len(structures)]}, payload))
            if len(batch) == 2000:
                store.upsert("code", batch)
                batch = []
        store.upsert("code", batch)
        started = time.perf_counter()
        store.optimize("code")
        print(f"built {points:,} points; HNSW build {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--ab", type=Path, metavar="RANKER",
                        help="Only the in-process A/B of these learned trees (bench/learn.py export) and the rules.")
    args = parser.parse_args()
    store = WORK / "http-store"
    build(store, args.points)
    queries = dev_queries()
    if args.ab:
        p50 = interleaved(store, queries, args.requests, args.ab)
        print("in process, hybrid p50, interleaved query by query: "
              + ", ".join(f"{name} {value:.1f} ms" for name, value in p50.items()))
        return
    with serving(store, args.port) as base, httpx.Client(base_url=base, timeout=30) as client:
        print("| mode | requests | errors | p50 ms | p99 ms | server-side p50 ms |")
        print("|---|---|---|---|---|---|")
        for mode in ("hybrid", "text", "lexical"):
            for q in queries[:10]:
                client.get("/api/search", params={"q": q, "mode": mode})
            times, inside, errors = [], [], 0
            for i in range(args.requests):
                started = time.perf_counter()
                response = client.get("/api/search", params={"q": queries[i % len(queries)], "mode": mode})
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors += 1
                    continue
                inside.append(response.json()["latency_ms"])
            times.sort()
            print(f"| {mode} | {args.requests} | {errors} | {statistics.median(times):.1f} | "
                  f"{times[int(len(times) * 0.99) - 1]:.1f} | {statistics.median(inside):.1f} |", flush=True)
    print(f"in process, hybrid: p50 {in_process(store, queries, args.requests):.1f} ms (the issue's measure: no HTTP)")


def in_process(store: Path, queries: list[str], requests: int) -> float:
    """Hybrid p50 of Searcher.search in this process, query embedding included, after a warm-up."""
    with EdgeStore(store) as edge:
        searcher = Searcher(edge, "code")
        for q in queries[:10]:
            searcher.search(q, limit=10)
        times = []
        for i in range(requests):
            started = time.perf_counter()
            searcher.search(queries[i % len(queries)], limit=10)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def interleaved(store: Path, queries: list[str], requests: int, ranker: Path) -> dict[str, float]:
    """Hybrid p50 per ranking over the same store, the rankings taking turns query by query, so a
    machine that slows down meanwhile slows both alike."""
    with EdgeStore(store) as edge:
        searchers = {"learned": Searcher(edge, "code", ranker=load_ranker(ranker)), "rules": Searcher(edge, "code")}
        for q in queries[:10]:
            for searcher in searchers.values():
                searcher.search(q, limit=10)
        times: dict[str, list[float]] = {name: [] for name in searchers}
        for i in range(requests):
            for name, searcher in searchers.items():
                started = time.perf_counter()
                searcher.search(queries[i % len(queries)], limit=10)
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


if __name__ == "__main__":
    main()
