"""What a coding agent gets from `semsearch mcp`: round-trip latency and the tokens it reads.

1. Round trip: a real MCP client session (the official SDK, stdio) with `semsearch mcp` on
   the 100k-chunk store of http_latency.py, warm; `search` p50/p99 over the development
   queries, protocol and query embedding included.
2. Tokens to the answer: for every development query, the tokens of semsearch's top-5
   compact answer (exactly what the `search` tool returns) against the lines that
   `grep -rniE` over the query's words prints on the same tree, and whether the annotated
   file is among them. Tokens are estimated as characters / 4 for both sides.

    .venv/bin/python bench/mcp_agent.py [--calls 500] [--only latency|tokens]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from http_latency import build
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from serve import dev_queries
from sources import WORK, benchmark_root, manifest, prefix, tasks

from semsearch.code_index import CodeIndex
from semsearch.mcp_server import compact, hit_model
from semsearch.query import query_words
from semsearch.store.edge import EdgeStore

SEMSEARCH = Path(sys.executable).with_name("semsearch")


def tokens(text: str) -> int:
    return (len(text) + 3) // 4


def latency(calls: int) -> None:
    store = WORK / "http-store"
    build(store, 100_000)
    queries = dev_queries()
    params = StdioServerParameters(command=str(SEMSEARCH), args=["mcp", str(store)])

    async def session() -> list[float]:
        async with Client(params) as client:
            for q in queries[:10]:
                await client.call_tool("search", {"query": q, "limit": 10})
            times = []
            for i in range(calls):
                started = time.perf_counter()
                result = await client.call_tool("search", {"query": queries[i % len(queries)], "limit": 10})
                times.append((time.perf_counter() - started) * 1000)
                assert not result.is_error, result.content
            return times

    times = sorted(anyio.run(session))
    print(f"MCP search round trip, 100k chunks, {calls} calls: p50 {statistics.median(times):.1f} ms, "
          f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms")


def grep(root: Path, query: str) -> tuple[str, set[str]]:
    words = query_words(query)
    if not words:
        return "", set()
    out = subprocess.run(["grep", "-rniE", "|".join(words), "."], cwd=root, capture_output=True, text=True,
                         errors="replace").stdout
    files = {line.split(":", 1)[0].removeprefix("./") for line in out.splitlines() if ":" in line}
    return out, files


def token_table() -> None:
    print("| repo | queries | semsearch tokens (median) | grep tokens (median) | semsearch / grep (total) "
          "| annotated file in semsearch top 5 | in grep's output |")
    print("|---|---|---|---|---|---|---|")
    all_ours, all_grep, found_ours, found_grep, count = 0, 0, 0, 0, 0
    for entry in manifest():
        root, head = benchmark_root(entry), prefix(entry)
        ours_t, grep_t, ours_found, grep_found = [], [], 0, 0
        with EdgeStore(WORK / "stores" / entry["name"]) as store:
            index = CodeIndex(store, "code", root, owns_store=False)
            for task in tasks(entry):
                wanted = {(t if isinstance(t, str) else t["path"]).removeprefix(head) for t in task["relevant"]}
                hits = index.search(task["query"], limit=5)
                answer = compact([hit_model(h) for h in hits], None)
                printed, files = grep(root, task["query"])
                ours_t.append(tokens(answer))
                grep_t.append(tokens(printed))
                ours_found += bool(wanted & {h.path for h in hits})
                grep_found += bool(wanted & files)
        n = len(ours_t)
        print(f"| {entry['name']} | {n} | {statistics.median(ours_t):,.0f} | {statistics.median(grep_t):,.0f} | "
              f"{sum(ours_t) / max(1, sum(grep_t)):.3f} | {ours_found / n:.2f} | {grep_found / n:.2f} |", flush=True)
        all_ours, all_grep = all_ours + sum(ours_t), all_grep + sum(grep_t)
        found_ours, found_grep, count = found_ours + ours_found, found_grep + grep_found, count + n
    print(f"| **all** | {count} | | | {all_ours / all_grep:.3f} ({100 * (1 - all_ours / all_grep):.1f}% fewer) | "
          f"{found_ours / count:.2f} | {found_grep / count:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--only", choices=["latency", "tokens"])
    args = parser.parse_args()
    if args.only != "tokens":
        latency(args.calls)
    if args.only != "latency":
        token_table()


if __name__ == "__main__":
    main()
