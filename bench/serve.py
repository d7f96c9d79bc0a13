"""`semsearch serve` as a benchmark's subject: started on loopback, ready, stopped after."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from code_search import DEFAULT_DATA


def dev_queries() -> list[str]:
    """The development set's queries, all repositories, in a stable order."""
    return [t["query"] for f in sorted((DEFAULT_DATA / "annotations").glob("*.json"))
            for t in json.loads(f.read_text())]


@contextmanager
def serving(store: Path, port: int, timeout: float = 120.0) -> Iterator[str]:
    """Run `semsearch serve --store STORE` until the block ends; yields its base URL once healthy."""
    server = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "serve", "--store", str(store),
                               "--port", str(port)], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise SystemExit(f"server did not start: {server.stderr.read() if server.stderr else ''}")
            if time.time() > deadline:
                raise SystemExit(f"server not healthy after {timeout:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
