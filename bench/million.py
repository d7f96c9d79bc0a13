"""A million structures on one Qdrant server (issue 23, item 5): load, disk, memory, search latency.

Starts the pinned Qdrant 1.16.3 (`bench/qdrant_nodes.py`) under `nice -n 19`, creates the
product's server layout (`bench/scale_points.py`), uploads `--structures` points (real chunked
structures from `bench/scale_corpus.py` copied under synthetic repositories, synthetic dense
vectors), lets the server build its HNSW graphs, then times the product's hybrid search batch
with and without a `repo` filter, and the queries per second that 1, 2, 4 and 8 clients searching
at once get (`--clients`). Prints a table; the figures also go to
`bench/.work/scale/million-<N>.json`.

    .venv/bin/python bench/scale_corpus.py                  # once: the real structures
    .venv/bin/python bench/million.py --structures 1000000  # the full run
    .venv/bin/python bench/million.py --structures 100000   # a quick one
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from qdrant_client import QdrantClient
from qdrant_nodes import Node, remove, start_single
from scale_corpus import CORPUS_FILE, SCALE, read_corpus
from scale_points import (
    Replicas,
    candidates,
    create_collection,
    hybrid_requests,
    indexed,
    percentiles,
    repo_filter,
    start_indexing,
    wait_green,
)

COLLECTION = "scale"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(node: Node, replicas: Replicas, args: argparse.Namespace) -> dict[str, Any]:
    """Upload over gRPC in parallel batches, then wait until every vector is in an HNSW graph."""
    client = QdrantClient(url=node.url, grpc_port=node.grpc, prefer_grpc=True, timeout=600,
                          check_compatibility=False)
    create_collection(client, COLLECTION, defer_index=not args.index_during_load, on_disk_vectors=args.on_disk)
    started = time.perf_counter()
    client.upload_points(COLLECTION, replicas.points(), batch_size=args.batch, parallel=args.parallel,
                         max_retries=5, wait=False)
    uploaded = time.perf_counter() - started
    log(f"uploaded {replicas.total:,} points in {uploaded:.0f} s; server RSS {node.rss_mib():,.0f} MiB")
    if not args.index_during_load:
        start_indexing(client, COLLECTION)
    indexing = wait_green(client, COLLECTION, log)
    total = time.perf_counter() - started
    count = client.count(COLLECTION, exact=True).count
    state = indexed(client, COLLECTION)
    client.close()
    return {"upload_s": uploaded, "upload_points_s": replicas.total / uploaded, "index_s": indexing,
            "total_s": total, "count": count, **state}


def search(node: Node, replicas: Replicas, count: int) -> dict[str, Any]:
    """The product's search calls over REST, as ServerStore makes them, one at a time."""
    client = QdrantClient(url=node.url, timeout=120, check_compatibility=False)
    queries = replicas.queries(count)
    for q in queries[:10]:  # warm the connection and the caches a first request pays
        client.query_batch_points(COLLECTION, hybrid_requests(q, None))
    out: dict[str, Any] = {}
    for label, filtered in (("all", False), ("repo", True)):
        batch, full, dense, empty = [], [], [], 0
        for q in queries:
            flt = repo_filter(q["repo"]) if filtered else None
            t0 = time.perf_counter()
            responses = client.query_batch_points(COLLECTION, hybrid_requests(q, flt))
            t1 = time.perf_counter()
            ids = candidates(responses)
            client.retrieve(COLLECTION, ids, with_payload=True)
            t2 = time.perf_counter()
            hits = client.query_points(COLLECTION, q["text"], using="text", limit=10, query_filter=flt,
                                       with_payload=True).points
            t3 = time.perf_counter()
            batch.append((t1 - t0) * 1000)
            full.append((t2 - t0) * 1000)
            dense.append((t3 - t2) * 1000)
            empty += not hits
            if filtered and hits and any(h.payload.get("repo") != q["repo"] for h in hits):
                raise RuntimeError(f"a repo filter let another repository through for {q['repo']}")
        out[label] = {"hybrid_batch": percentiles(batch), "hybrid_and_retrieve": percentiles(full),
                      "dense_top10": percentiles(dense), "no_hits": empty}
    client.close()
    return out


def throughput(node: Node, replicas: Replicas, clients: int, seconds: float) -> dict[str, Any]:
    """Queries per second with `clients` searching at once, each a hybrid batch and its retrieve (as
    one product search makes them), with a repo filter on every other query, for `seconds`."""
    queries = replicas.queries(200)
    stop = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]

    def client_loop(n: int) -> None:
        client = QdrantClient(url=node.url, timeout=120, check_compatibility=False)
        i = n
        while time.perf_counter() < stop:
            q = queries[i % len(queries)]
            t0 = time.perf_counter()
            flt = repo_filter(q["repo"]) if i % 2 else None
            responses = client.query_batch_points(COLLECTION, hybrid_requests(q, flt))
            client.retrieve(COLLECTION, candidates(responses), with_payload=True)
            latencies[n].append((time.perf_counter() - t0) * 1000)
            i += clients
        client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client_loop, range(clients)))
    elapsed = time.perf_counter() - started
    done = [x for per in latencies for x in per]
    return {"clients": clients, "queries": len(done), "qps": len(done) / elapsed, **percentiles(done)}


def table(result: dict[str, Any]) -> str:
    load_, s = result["load"], result["search"]
    rows = [
        ("structures (points)", f"{result['structures']:,} ({load_['count']:,} counted)"),
        ("repositories", (f"{result['repositories']:,} ({result['corpus_structures']:,} real structures from "
                         f"{result['corpus_packages']} packages, x{result['copies']})")),
        ("upload", f"{load_['upload_s']:,.0f} s, {load_['upload_points_s']:,.0f} points/s"),
        ("HNSW build after upload", (f"{load_['index_s']:,.0f} s ({load_['indexed_vectors']:,} vectors in "
                                    f"graphs, {load_['segments']} segments)")),
        ("load total, until green", (f"{load_['total_s']:,.0f} s ({result['structures'] / load_['total_s']:,.0f} "
                                    "points/s)")),
        ("disk (storage folder)", (f"{result['disk_mb']:,.0f} MB ({result['disk_mb'] * 1e5 / result['structures']:,.0f}"
                                  " MB per 100k)")),
        ("server RSS after load / restart / searches", (f"{result['rss_loaded']:,.0f} / {result['rss_restarted']:,.0f}"
                                                       f" / {result['rss_searched']:,.0f} MiB")),
    ]
    for label, name in (("all", "no filter"), ("repo", "repo filter")):
        for key, what in (("hybrid_batch", "hybrid batch (3 x 100)"), ("hybrid_and_retrieve", "+ retrieve 100"),
                          ("dense_top10", "one dense top 10")):
            p = s[label][key]
            rows.append((f"{what}, {name}", f"p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms (n={p['n']})"))
    for t in result.get("throughput", []):
        rows.append((f"{t['clients']} clients at once (search + retrieve)",
                     f"{t['qps']:.0f} queries/s, p50 {t['p50']:.1f} ms, p99 {t['p99']:.1f} ms (n={t['queries']})"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structures", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--batch", type=int, default=256, help="points per upload request")
    parser.add_argument("--parallel", type=int, default=2, help="upload processes")
    parser.add_argument("--index-during-load", action="store_true",
                        help="let the server build HNSW while points arrive (default: after the upload)")
    parser.add_argument("--on-disk", action="store_true", help="dense vectors on disk (memory-mapped)")
    parser.add_argument("--corpus", type=Path, default=CORPUS_FILE, help="scale_corpus.py's structures")
    parser.add_argument("--work", type=Path, default=SCALE / "million")
    parser.add_argument("--keep", action="store_true", help="keep the server's storage afterwards")
    parser.add_argument("--clients", default="1,2,4,8", help="concurrent searchers for the throughput rows")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each throughput row runs")
    args = parser.parse_args()

    corpus = read_corpus(args.corpus)
    replicas = Replicas(corpus, args.structures)
    remove(args.work)
    node = start_single(args.work)
    try:
        rss_empty = node.rss_mib()
        log(f"server up at {node.url} (RSS {rss_empty:.0f} MiB); loading {args.structures:,} points "
            f"({len(corpus):,} real structures x {replicas.copies})")
        loaded = load(node, replicas, args)
        result: dict[str, Any] = {
            "structures": args.structures, "corpus_structures": len(corpus),
            "corpus_packages": len({r["payload"]["repo"] for r in corpus}), "copies": replicas.copies,
            "repositories": len(replicas.repos()), "load": loaded, "rss_empty": rss_empty,
            "rss_loaded": node.rss_mib(), "disk_mb": node.disk_mb(),
            "layout": {"vectors": "text+code 384-d cosine float16" + (" on disk" if args.on_disk else ""),
                       "sparse": "lex IDF", "payload": "on disk", "defer_index": not args.index_during_load}}
        node.stop()
        node.start(wait=600)
        client = QdrantClient(url=node.url, check_compatibility=False)
        wait_green(client, COLLECTION)
        client.close()
        result["rss_restarted"] = node.rss_mib()
        log("searching")
        result["search"] = search(node, replicas, args.queries)
        result["throughput"] = [throughput(node, replicas, int(n), args.seconds)
                                for n in args.clients.split(",") if n]
        result["rss_searched"] = node.rss_mib()
        result["disk_mb_after"] = node.disk_mb()
    finally:
        node.stop()
        if not args.keep:
            remove(args.work)
    out = SCALE / f"million-{args.structures}.json"
    out.write_text(json.dumps(result, indent=1))
    print(table(result))
    print(f"(figures in {out})")


if __name__ == "__main__":
    main()
