"""Store size: disk and resident memory of an index, embedded (Qdrant Edge) and on a Qdrant server.

For each tree — the nine development repositories in one collection (hard links of their
benchmark roots under one folder) and a large tree (the Django 5.1.4 sdist) — indexes into
a fresh store and prints:
  - the source bytes indexed (the files the walk yields) and the structures;
  - the store on disk in allocated blocks (st_blocks × 512, as `du`), split into the
    write-ahead log, the segments and the rest, and its ratio to the source;
  - the resident memory (VmRSS) of a fresh process that opens the store and runs the
    development set's 179 queries, less the same process before it opened the store (the
    query model and the imports), so the store's own share shows;
  - with --server, the same on the test suite's pinned Qdrant server: its storage folder
    and the server process's RSS after a restart and the same queries (less its RSS empty).
Disk and the store's RSS are also given per 100k structures.

    .venv/bin/python bench/store_size.py                     # embedded store, both trees
    .venv/bin/python bench/store_size.py --server            # and the Qdrant server
    .venv/bin/python bench/store_size.py --trees nine --label after-wal

Vectors come through the vector cache (SEMSEARCH_CACHE), so only a first run pays model time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdist import fetch_sdist
from serve import dev_queries
from sources import WORK, benchmark_root, manifest

HERE = Path(__file__).resolve().parent
OUT = WORK / "store-size"
LARGE = "Django==5.1.4"
QDRANT = HERE.parent / "tests" / ".cache" / "qdrant" / "package" / "bin" / "qdrant"  # tests/conftest.py fetches it
MB = 1e6


@dataclass
class Disk:
    wal: int = 0
    segments: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.wal + self.segments + self.other


def disk(path: Path) -> Disk:
    """Allocated bytes under path, by part: a `wal` folder, a `segments` folder, the rest."""
    out = Disk()
    for folder, _, files in os.walk(path):
        parts = Path(folder).relative_to(path).parts
        for name in files:
            used = os.lstat(os.path.join(folder, name)).st_blocks * 512
            if "wal" in parts:
                out.wal += used
            elif "segments" in parts:
                out.segments += used
            else:
                out.other += used
    return out


def source_bytes(root: Path) -> tuple[int, int]:
    """(bytes, files) the walk indexes under root."""
    from semsearch.walk import walk

    files = list(walk(root))
    return sum(f.abspath.stat().st_size for f in files), len(files)


def nine_tree() -> Path:
    """The nine benchmark roots side by side under one folder (hard links: no copy)."""
    tree = OUT / "trees" / "nine"
    if not tree.is_dir():
        partial = tree.with_name("nine.partial")
        shutil.rmtree(partial, ignore_errors=True)
        for entry in manifest():
            shutil.copytree(benchmark_root(entry), partial / entry["name"], copy_function=os.link, symlinks=True)
        partial.rename(tree)
    return tree


def large_tree() -> Path:
    return fetch_sdist(LARGE, WORK / "src")


TREES = {"nine": nine_tree, "django": large_tree}


# -- resident memory -------------------------------------------------------------------------
def status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS, RssAnon, RssFile, VmHWM of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def mapped(pid: int | str, under: Path) -> int:
    """Resident bytes of the file mappings of a process whose files lie under a folder."""
    total, inside = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5:  # a mapping's header line
            inside = len(head) >= 6 and head[5].startswith(str(under))
        elif inside and head and head[0] == "Rss:":
            total += int(head[1]) * 1024
    return total


def rss_child(store: str, queries_file: str) -> None:
    """In a fresh process: the query model alone, then the store opened and every query run."""
    from semsearch.embedding import query_encoder
    from semsearch.models import resolve_models
    from semsearch.search import Searcher
    from semsearch.store import open_store

    queries = json.loads(Path(queries_file).read_text())
    url = store if store.startswith("http") else None
    opened = open_store(None if url else Path(store), url=url)
    models = resolve_models(opened.metadata("code"), None, None)
    query_encoder(models.text, models.precision, None).encode(queries[:8])  # the model, loaded and used
    before = status()
    searcher = Searcher(opened, "code")
    started = time.perf_counter()
    for query in queries:
        searcher.search(query, limit=10)
    seconds = time.perf_counter() - started
    after = status()
    files = 0 if url else mapped("self", Path(store).resolve())
    opened.close()
    print(json.dumps({"before": before, "after": after, "store_files": files,
                      "query_ms": 1000 * seconds / len(queries)}))


def measure_rss(store: str) -> dict[str, Any]:
    queries = OUT / "queries.json"
    wanted = dev_queries()
    if not wanted:
        raise SystemExit("no development-set queries found (../shared/bench/code-search)")
    queries.write_text(json.dumps(wanted))
    done = subprocess.run([sys.executable, __file__, "--rss-child", store, str(queries)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the Qdrant server -----------------------------------------------------------------------
class Server:
    """The pinned Qdrant binary on loopback with its storage in `folder`."""

    def __init__(self, folder: Path, port: int = 16433) -> None:
        if not QDRANT.is_file():
            raise SystemExit(f"no Qdrant binary at {QDRANT}: run the test suite once (tests/conftest.py fetches it)")
        self.folder, self.port = folder, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import httpx

        env = {**os.environ, "QDRANT__SERVICE__HOST": "127.0.0.1", "QDRANT__SERVICE__HTTP_PORT": str(self.port),
               "QDRANT__SERVICE__GRPC_PORT": str(self.port + 1), "QDRANT__TELEMETRY_DISABLED": "true",
               "QDRANT__STORAGE__STORAGE_PATH": str(self.folder / "storage"),
               "QDRANT__STORAGE__SNAPSHOTS_PATH": str(self.folder / "snapshots")}
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "qdrant.log").open("ab")
        self.process = subprocess.Popen([str(QDRANT)], cwd=self.folder, env=env, stdout=log, stderr=log)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit(f"Qdrant did not start; see {self.folder / 'qdrant.log'}")

    def wait_optimized(self, collection: str) -> None:
        """Until the server's background optimizers are done with the collection (status green)."""
        import httpx

        deadline = time.time() + 1800
        while time.time() < deadline:
            result = httpx.get(f"{self.url}/collections/{collection}", timeout=10).json()["result"]
            if result["status"] == "green" and result.get("optimizer_status") == "ok":
                return
            time.sleep(1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None


# -- one row ---------------------------------------------------------------------------------
def index(store: Any, root: Path) -> int:
    from semsearch.indexer import Indexer

    summary = Indexer(store, "code").index_tree(root, recreate=True)
    if summary.without_vectors:
        raise SystemExit(f"{summary.without_vectors} points without vectors in {root}")
    return summary.points


def edge_row(name: str, root: Path, label: str) -> dict[str, Any]:
    from semsearch.store.edge import EdgeStore

    folder = OUT / label / "edge" / name
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    with EdgeStore(folder) as store:
        points = index(store, root)
    seconds = time.perf_counter() - started
    return {"store": "embedded", "points": points, "disk": disk(folder), "rss": measure_rss(str(folder)),
            "index_s": seconds}


def server_row(name: str, root: Path, label: str) -> dict[str, Any]:
    from semsearch.store.server import ServerStore

    folder = OUT / label / "server" / name
    shutil.rmtree(folder, ignore_errors=True)
    server = Server(folder)
    server.start()
    try:
        empty = status(server.process.pid)  # type: ignore[union-attr]
        store = ServerStore(url=server.url)
        started = time.perf_counter()
        points = index(store, root)
        server.wait_optimized("code")
        seconds = time.perf_counter() - started
        store.close()
        server.stop()  # a restart: the RSS of a server that serves the collection, not of one that just built it
        server.start()
        server.wait_optimized("code")
        rss = measure_rss(server.url)
        serving = status(server.process.pid)  # type: ignore[union-attr]
        files = mapped(server.process.pid, (folder / "storage").resolve())  # type: ignore[union-attr]
    finally:
        server.stop()
    return {"store": "server", "points": points, "disk": disk(folder / "storage" / "collections"),
            "rss": {"before": empty, "after": serving, "store_files": files, "query_ms": rss["query_ms"]},
            "index_s": seconds}


def print_rows(rows: list[dict[str, Any]]) -> None:
    print("\n| tree | store | structures | source MB | disk MB (WAL / segments / other) | × source "
          "| disk MB per 100k | RSS MiB (store's share; its files) | store RSS MiB per 100k | query ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        d: Disk = r["disk"]
        share = r["rss"]["after"]["VmRSS"] - r["rss"]["before"]["VmRSS"]
        per = 100_000 / r["points"]
        print(f"| {r['tree']} | {r['store']} | {r['points']:,} | {r['source'] / MB:.1f} | {d.total / MB:.1f} "
              f"({d.wal / MB:.1f} / {d.segments / MB:.1f} / {d.other / MB:.1f}) | {d.total / r['source']:.1f} "
              f"| {d.total / MB * per:,.0f} | {r['rss']['after']['VmRSS'] / 2**20:,.0f} ({share / 2**20:,.0f}; "
              f"{r['rss'].get('store_files', 0) / 2**20:,.0f}) "
              f"| {share / 2**20 * per:,.0f} | {r['rss']['query_ms']:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", default="nine,django", help="comma-separated: nine, django")
    parser.add_argument("--server", action="store_true", help="also measure the Qdrant server")
    parser.add_argument("--no-edge", action="store_true", help="only the server")
    parser.add_argument("--label", default="run", help=f"subfolder of {OUT} for this run's stores")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    rows = []
    for name in [t for t in args.trees.split(",") if t]:
        root = TREES[name]()
        source, files = source_bytes(root)
        print(f"{name}: {files:,} files, {source / MB:.1f} MB indexed from {root}", flush=True)
        kinds = ([] if args.no_edge else [edge_row]) + ([server_row] if args.server else [])
        for row in kinds:
            rows.append({"tree": name, "source": source, "files": files, **row(name, root, args.label)})
            print_rows(rows[-1:])
    print_rows(rows)
    if args.json:
        args.json.write_text(json.dumps([{**r, "disk": vars(r["disk"])} for r in rows], indent=2))


if __name__ == "__main__":
    main()
