"""Load: `semsearch serve` on loopback under 10,000 requests from 32 concurrent clients.

Uses the 100k-chunk store that http_latency.py builds (run that first). Bounded: a fixed
number of requests, each with a timeout; it stops by itself. Prints errors, throughput,
p50 and p99.

    .venv/bin/python bench/load.py [--requests 10000] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from code_search import WORK
from serve import dev_queries, serving


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
    queries = dev_queries()
    with serving(store, args.port) as base:
        started = time.perf_counter()
        times, errors = asyncio.run(drive(base, queries, args.requests, args.clients))
        seconds = time.perf_counter() - started
        times.sort()
        print(f"{len(times):,} requests from {args.clients} clients in {seconds:.1f} s "
              f"({len(times) / seconds:,.0f} req/s): {errors} errors, p50 {statistics.median(times):.1f} ms, "
              f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms (modes hybrid/text/lexical in turn)")


if __name__ == "__main__":
    main()
