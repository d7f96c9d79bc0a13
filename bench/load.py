"""Load: `semsearch serve` on loopback under 10,000 requests from 32 concurrent clients.

Uses the 100k-chunk store that http_latency.py builds (run that first). Bounded: a fixed
number of requests, each with a timeout; it stops by itself. Prints errors, throughput,
p50 and p99.

    .venv/bin/python bench/load.py [--requests 10000] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

import httpx
from code_search import DEFAULT_DATA, WORK


async def drive(base: str, queries: list[str], total: int, clients: int) -> tuple[list[float], int]:
    times: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for i in counter:
            mode = ("hybrid", "text", "lexical")[i % 3]
            started = time.perf_counter()
            try:
                response = await client.get("/api/search", params={"q": queries[i % len(queries)], "mode": mode})
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            times.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return times, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--port", type=int, default=18766)
    args = parser.parse_args()
    store = WORK / "http-store"
    if not store.is_dir():
        raise SystemExit("run bench/http_latency.py first: it builds the 100k-chunk store")
    queries = [t["query"] for f in sorted((DEFAULT_DATA / "annotations").glob("*.json"))
               for t in json.loads(f.read_text())]
    server = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "serve", "--store", str(store),
                               "--port", str(args.port)], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        started = time.perf_counter()
        times, errors = asyncio.run(drive(base, queries, args.requests, args.clients))
        seconds = time.perf_counter() - started
        times.sort()
        print(f"{len(times):,} requests from {args.clients} clients in {seconds:.1f} s "
              f"({len(times) / seconds:,.0f} req/s): {errors} errors, p50 {statistics.median(times):.1f} ms, "
              f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms (modes hybrid/text/lexical in turn)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
