"""The scale benchmark on a 3-node cluster (issue 23, item 5): sharded by repository, replicated twice.

Starts `--nodes` pinned Qdrant 1.16.3 servers on loopback (`bench/qdrant_nodes.py`), creates the
product's layout (`bench/scale_points.py`) with `sharding_method=custom`, one shard per shard
key and `replication_factor=2`, a shard key per repository (or per group of repositories:
`--shard-keys N` hashes repositories into N keys), loads `--structures` points with each
point sent to its repository's key, and waits until every HNSW graph is built. Then a steady
query load runs in a thread (the product's hybrid batch, alternately scoped to one repository
by its shard key plus a `repo` filter, and over every shard), one node is SIGKILLed, more
points are written while it is down, it is restarted, and the run waits until every replica
is Active again. Checks: every query answered (failures counted, not hidden), the exact point
count, every shard's two replicas holding the same count, a sample of points retrievable
through the restarted node.

    .venv/bin/python bench/cluster_load.py --structures 200000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from qdrant_client import QdrantClient, models
from qdrant_nodes import Node, get, remove, start_cluster, stop_all
from scale_corpus import CORPUS_FILE, SCALE, read_corpus
from scale_points import (
    Replicas,
    create_collection,
    hybrid_requests,
    percentiles,
    repo_filter,
    start_indexing,
    wait_green,
)

COLLECTION = "scale"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Keys:
    """Repository → shard key: the repository itself, or one of N groups by a stable hash."""

    def __init__(self, repos: list[str], groups: int) -> None:
        self.groups = groups
        self.names = repos if groups <= 0 else [f"group-{g:03d}" for g in range(groups)]

    def of(self, repo: str) -> str:
        return repo if self.groups <= 0 else f"group-{zlib.crc32(repo.encode()) % self.groups:03d}"


def upload(client: QdrantClient, replicas: Replicas, keys: Keys, start: int, stop: int, batch: int,
           parallel: int) -> None:
    """Points start..stop, each batch to one shard key, `parallel` requests in flight."""
    pending: dict[str, list[models.PointStruct]] = {}
    with ThreadPoolExecutor(parallel) as pool:
        futures = []

        def send(key: str, points: list[models.PointStruct]) -> None:
            futures.append(pool.submit(client.upsert, COLLECTION, points, wait=True, shard_key_selector=key))
            while sum(not f.done() for f in futures) > 2 * parallel:
                time.sleep(0.005)

        for point in replicas.points(start, stop):
            key = keys.of(point.payload["repo"])
            pending.setdefault(key, []).append(point)
            if len(pending[key]) >= batch:
                send(key, pending.pop(key))
        for key, points in pending.items():
            send(key, points)
        for f in futures:
            f.result()


class QueryLoad(threading.Thread):
    """Queries one after another until stopped; each outcome is recorded with the phase it fell in."""

    def __init__(self, url: str, queries: list[dict[str, Any]], keys: Keys, timeout: int) -> None:
        super().__init__(daemon=True)
        self.client = QdrantClient(url=url, timeout=timeout, check_compatibility=False)
        self.queries, self.keys = queries, keys
        self.phase = "before"
        self.records: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        number = 0
        while not self.halt.is_set():
            q = self.queries[number % len(self.queries)]
            scoped = number % 2 == 0
            phase = self.phase
            t0 = time.perf_counter()
            try:
                if scoped:
                    responses = self.client.query_batch_points(
                        COLLECTION, [r.model_copy(update={"shard_key": self.keys.of(q["repo"])})
                                     for r in hybrid_requests(q, repo_filter(q["repo"]))])
                else:
                    responses = self.client.query_batch_points(COLLECTION, hybrid_requests(q, None))
                ok = all(len(r.points) > 0 for r in responses[:2])
                error = "" if ok else "empty"
            except Exception as exc:  # noqa: BLE001 - a failed query is a figure
                ok, error = False, f"{type(exc).__name__}: {str(exc)[:200]}"
            self.records.append({"phase": phase, "scoped": scoped, "ok": ok, "error": error,
                                 "ms": (time.perf_counter() - t0) * 1000})
            number += 1

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for phase in dict.fromkeys(r["phase"] for r in self.records):
            for scoped in (True, False):
                rows = [r for r in self.records if r["phase"] == phase and r["scoped"] == scoped]
                ok = [r["ms"] for r in rows if r["ok"]]
                out[f"{phase}/{'repo' if scoped else 'all'}"] = {
                    "sent": len(rows), "answered": len(ok), "failed": len(rows) - len(ok),
                    "errors": sorted({r["error"] for r in rows if not r["ok"]})[:3], **percentiles(ok)}
        return out


def shard_states(node: Node) -> list[tuple[int, str, str]]:
    """(shard id, peer, state) of every replica, as one node's collection cluster info lists them."""
    info = get(f"{node.url}/collections/{COLLECTION}/cluster")["result"]
    rows = [(s["shard_id"], str(info["peer_id"]), s["state"]) for s in info["local_shards"]]
    rows += [(s["shard_id"], str(s["peer_id"]), s["state"]) for s in info["remote_shards"]]
    return sorted(rows)


def replica_counts(nodes: list[Node]) -> dict[int, list[int]]:
    """Each shard's point count on every node holding a replica of it."""
    counts: dict[int, list[int]] = {}
    for node in nodes:
        for s in get(f"{node.url}/collections/{COLLECTION}/cluster")["result"]["local_shards"]:
            counts.setdefault(s["shard_id"], []).append(s["points_count"])
    return counts


def wait_active(node: Node, replicas_per_shard: int, deadline_s: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        try:
            states = shard_states(node)
            shards = {s for s, _, _ in states}
            if states and all(st == "Active" for _, _, st in states) and len(states) == replicas_per_shard * len(shards):
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"replicas not all Active after {deadline_s:.0f} s: {shard_states(node)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structures", type=int, default=200_000)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--shard-keys", type=int, default=0, help="repository groups; 0: a key per repository")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--down-seconds", type=float, default=60, help="how long the node stays dead")
    parser.add_argument("--writes-while-down", type=int, default=2000, help="points added while a node is dead")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=30, help="a query's client timeout, s")
    parser.add_argument("--corpus", type=Path, default=CORPUS_FILE, help="scale_corpus.py's structures")
    parser.add_argument("--work", type=Path, default=SCALE / "cluster")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    corpus = read_corpus(args.corpus)
    total = args.structures + args.writes_while_down
    replicas = Replicas(corpus, total)
    repos = replicas.repos()
    keys = Keys(repos, args.shard_keys)
    remove(args.work)
    nodes = start_cluster(args.work, args.nodes)
    result: dict[str, Any] = {"structures": args.structures, "nodes": args.nodes, "replicas": args.replicas,
                              "repositories": len(repos), "shard_keys": len(keys.names)}
    try:
        first, victim = nodes[0], nodes[-1]
        client = QdrantClient(url=first.url, grpc_port=first.grpc, prefer_grpc=True, timeout=600,
                              check_compatibility=False)
        t0 = time.perf_counter()
        create_collection(client, COLLECTION, defer_index=True, sharding={
            "sharding_method": models.ShardingMethod.CUSTOM, "shard_number": 1,
            "replication_factor": args.replicas}, shard_keys=keys.names)
        result["create_s"] = time.perf_counter() - t0
        log(f"collection with {len(keys.names)} shard keys x {args.replicas} replicas in {result['create_s']:.0f} s; "
            f"loading {args.structures:,} points")
        t0 = time.perf_counter()
        upload(client, replicas, keys, 0, args.structures, args.batch, args.parallel)
        result["upload_s"] = time.perf_counter() - t0
        start_indexing(client, COLLECTION)
        result["index_s"] = wait_green(client, COLLECTION, log)
        result["load_total_s"] = time.perf_counter() - t0
        result["count_loaded"] = client.count(COLLECTION, exact=True).count
        result["disk_mb"] = [round(n.disk_mb()) for n in nodes]
        result["rss_mib"] = [round(n.rss_mib()) for n in nodes]
        log(f"loaded in {result['load_total_s']:.0f} s ({result['upload_s']:.0f} s upload), "
            f"{result['count_loaded']:,} points; RSS {result['rss_mib']} MiB; disk {result['disk_mb']} MB")

        load = QueryLoad(first.url, replicas.queries(args.queries, upto=args.structures), keys, args.timeout)
        load.start()
        time.sleep(20)
        log(f"killing node {victim.home.name} (SIGKILL) under the query load")
        load.phase = "down"
        victim.kill()
        t0 = time.perf_counter()
        upload(client, replicas, keys, args.structures, total, args.batch, 1)
        result["writes_while_down_s"] = time.perf_counter() - t0
        states = shard_states(first)
        result["replicas_while_down"] = {st: sum(1 for *_, x in states if x == st) for st in {x for *_, x in states}}
        log(f"replica states seen by {first.home.name} while {victim.home.name} is down: "
            f"{result['replicas_while_down']}")
        time.sleep(max(0.0, args.down_seconds - (time.perf_counter() - t0)))
        log("restarting it")
        load.phase = "recovering"
        t0 = time.perf_counter()
        victim.start(wait=600)
        result["recover_s"] = max(wait_active(first, args.replicas, 1800), wait_active(victim, args.replicas, 1800))
        result["restart_s"] = time.perf_counter() - t0
        load.phase = "after"
        time.sleep(20)
        load.halt.set()
        load.join()
        result["queries"] = load.summary()

        result["count_after"] = client.count(COLLECTION, exact=True).count
        result["expected_after"] = total
        counts = replica_counts(nodes)
        result["replicas_equal"] = all(len(set(c)) == 1 and len(c) == args.replicas for c in counts.values())
        result["replica_counts"] = {str(k): v for k, v in counts.items()} if not result["replicas_equal"] else "equal"
        via_victim = QdrantClient(url=victim.url, timeout=60, check_compatibility=False)
        sample = random.Random(3).sample(range(total), 1000)
        found = via_victim.retrieve(COLLECTION, [replicas.point_id(n) for n in sample], with_payload=["repo"])
        result["sample_retrieved"] = f"{len(found)} of {len(sample)}"
        result["count_via_restarted"] = via_victim.count(COLLECTION, exact=True).count
        via_victim.close()
        result["rss_mib_end"] = [round(n.rss_mib()) for n in nodes]
        client.close()
    finally:
        stop_all(nodes)
        if not args.keep:
            remove(args.work)
    out = SCALE / f"cluster-{args.structures}.json"
    out.write_text(json.dumps(result, indent=1))
    print(table(result))
    print(f"(figures in {out})")


def table(r: dict[str, Any]) -> str:
    rows = [
        ("points loaded", (f"{r['structures']:,} in {r['repositories']:,} repositories, {r['shard_keys']} shard keys "
                          f"x {r['replicas']} replicas on {r['nodes']} nodes")),
        ("collection + shard keys created", f"{r['create_s']:.0f} s"),
        ("upload / until green", (f"{r['upload_s']:.0f} s ({r['structures'] / r['upload_s']:,.0f} points/s) / "
                                 f"{r['load_total_s']:.0f} s")),
        ("disk per node", " / ".join(f"{d:,} MB" for d in r["disk_mb"])),
        ("RSS per node after load / at the end", " / ".join(f"{a:,}" for a in r["rss_mib"]) + " / "
                                                + " / ".join(f"{a:,}" for a in r["rss_mib_end"]) + " MiB"),
        ("points written while a node was down", (f"{r['expected_after'] - r['structures']:,} in "
                                                 f"{r['writes_while_down_s']:.1f} s")),
        ("replica states while down (first node's view)", ", ".join(f"{k} {v}" for k, v in
                                                                 sorted(r["replicas_while_down"].items()))),
        ("restarted node: up + replicas Active after", f"{r['restart_s']:.0f} s"),
        ("count after (expected)", (f"{r['count_after']:,} ({r['expected_after']:,}); via the restarted node "
                                   f"{r['count_via_restarted']:,}")),
        ("each shard's replicas equal", str(r["replicas_equal"])),
        ("sample retrieved via restarted node", r["sample_retrieved"]),
    ]
    for label, q in r["queries"].items():
        rows.append((f"queries {label}", f"{q['answered']}/{q['sent']} answered, p50 {q['p50']:.1f} ms, "
                                         f"p99 {q['p99']:.1f} ms" + (f"; {q['errors']}" if q["failed"] else "")))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)


if __name__ == "__main__":
    main()
