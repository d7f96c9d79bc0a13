"""Indexing speed: the compute ceiling, each backend's cold index, re-index and search start-up.

    .venv/bin/python bench/indexing.py                 # everything below
    .venv/bin/python bench/indexing.py --only ceiling  # or: backends, tree, search

ceiling   times all-MiniLM-L6-v2's own matrix shapes (4096 tokens × 384 → 384, 384 → 1536,
          1536 → 384) and turns the best GFLOP/s into the tokens/s no implementation of the
          model can beat on this machine.
backends  cold-indexes a fixed slice of the CPython standard library with each backend
          (vector cache off) and reports structures/s, tokens/s and the share of the
          ceiling reached while embedding.
tree      the whole standard library (~2,300 files, a copy under bench/.work): a cold index
          with the default backend in a child process (wall, peak RSS), then a no-op
          re-index and a one-file edit, each the median of 5 whole `semsearch index` runs.
search    a whole `semsearch search "…"` process on that index, median of 10.
first     seconds from the start of a cold index to the first answer, from another process and
          from `serve --index` (the stdlib copy, or `--tree DIR`); then the cold run's wall.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np

from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM
from semsearch.indexer import Indexer
from semsearch.onnx import OnnxEncoder
from semsearch.store.edge import EdgeStore
from semsearch.textify import textify
from semsearch.vector_cache import VectorCache
from semsearch.walk import walk

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "indexing"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SLICE = ["asyncio", "email", "json", "http", "logging", "concurrent", "importlib", "urllib", "xml"]
HIDDEN, FFN, LAYERS = 384, 1536, 6
FLOP_PER_TOKEN = LAYERS * 2 * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)  # multiply-add = 2
SEMSEARCH = [sys.executable, "-m", "semsearch.cli"]


def attention_flop(length: int) -> int:
    """Per token of a sequence of `length`: scores (q·k) and the weighted sum of values."""
    return LAYERS * 2 * 2 * length * HIDDEN


def sequence_flop(length: int) -> int:
    return length * (FLOP_PER_TOKEN + attention_flop(length))


def gflops() -> tuple[float, str]:
    """The best fp32 GFLOP/s of the model's matrix shapes, by numpy, torch and onnxruntime."""
    tokens = 4096
    shapes = [(tokens, HIDDEN, HIDDEN, 4), (tokens, HIDDEN, FFN, 1), (tokens, FFN, HIDDEN, 1)]  # ×weight in a layer
    flop = sum(2 * m * k * n * w for m, k, n, w in shapes)
    rng = np.random.default_rng(0)
    operands = [(rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32), w)
                for m, k, n, w in shapes]
    results = {}

    def best(run) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(7):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return flop / min(times[2:]) / 1e9

    results["numpy"] = best(lambda: [a @ b for a, b, w in operands for _ in range(w)])
    import torch

    tensors = [(torch.from_numpy(a), torch.from_numpy(b), w) for a, b, w in operands]
    with torch.inference_mode():
        results["torch"] = best(lambda: [a @ b for a, b, w in tensors for _ in range(w)])
    results["onnxruntime"] = best(_onnx_layer(operands))
    name = max(results, key=results.get)
    return results[name], " · ".join(f"{k} {v:.0f}" for k, v in results.items())


def _onnx_layer(operands):  # type: ignore[no-untyped-def]
    """The same products as one onnxruntime graph (its MLAS kernels are what the onnx backend runs)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    inputs, nodes, outputs, feeds, weights = [], [], [], {}, []
    for n, (a, b, count) in enumerate(operands):
        inputs.append(helper.make_tensor_value_info(f"a{n}", TensorProto.FLOAT, list(a.shape)))
        feeds[f"a{n}"] = a
        for w in range(count):  # distinct weights: identical products could be merged by the optimiser
            weights.append(numpy_helper.from_array(b + np.float32(w), f"b{n}_{w}"))
            nodes.append(helper.make_node("MatMul", [f"a{n}", f"b{n}_{w}"], [f"y{n}_{w}"]))
            outputs.append(helper.make_tensor_value_info(f"y{n}_{w}", TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "layer", inputs, outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what this onnxruntime reads
    options = ort.SessionOptions()
    options.intra_op_num_threads = min(4, os.cpu_count() or 1)
    session = ort.InferenceSession(onnx.shape_inference.infer_shapes(model).SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return lambda: session.run(None, feeds)


def slice_sources() -> list:
    return list(walk(_slice_tree()))


def backends(ceiling_gflops: float, which: list[str]) -> None:
    sources = slice_sources()
    structures = [s for f in sources for s in chunk_source(f.path, f.text)]
    texts = [textify(s) for s in structures] + [s.context.snippet for s in structures]
    lengths = OnnxEncoder(MINILM).token_counts(texts)
    flop = sum(sequence_flop(n) for n in lengths)
    tokens = sum(lengths)
    print(f"slice: {len(sources)} files, {len(structures):,} structures, {tokens:,} tokens in 2 texts each "
          f"(mean {tokens / len(texts):.0f}); ceiling for this work: {flop / ceiling_gflops / 1e9:.1f} s")
    print("| backend | cold index s | structures/s | model s | tokens/s (model) | share of ceiling |")
    print("|---|---|---|---|---|---|")
    for backend in which:
        target = WORK / f"slice-{backend}"
        shutil.rmtree(target, ignore_errors=True)
        with EdgeStore(target) as store:
            tree = _slice_tree()
            indexer = Indexer(store, "code", backend=backend, cache=VectorCache(None))
            indexer._prepare(False, {"root": str(tree)})
            indexer._encoder(MINILM).encode(["warm up"])
            started = time.perf_counter()
            summary = indexer.index_tree(tree)
            wall = time.perf_counter() - started
        model_s = summary.embedding_seconds
        print(f"| {backend} | {wall:.1f} | {summary.structures_embedded / wall:.1f} | {model_s:.1f} | "
              f"{tokens / model_s:,.0f} | {flop / ceiling_gflops / 1e9 / model_s:.0%} |", flush=True)


def _slice_tree() -> Path:
    """The slice as its own tree (symlink-free copy), so one index_tree call covers it."""
    tree = WORK / "slice-src"
    if not tree.is_dir():
        for name in SLICE:
            shutil.copytree(STDLIB / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def _stdlib_copy() -> Path:
    tree = WORK / "stdlib"
    if not tree.is_dir():
        shutil.copytree(STDLIB, tree, ignore=shutil.ignore_patterns("__pycache__", "site-packages"), symlinks=True)
    return tree


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*SEMSEARCH, *args], capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - started, done.stderr.strip().splitlines()[0] if done.stderr.strip() else ""


def tree_runs() -> Path:
    tree = _stdlib_copy()
    store = WORK / "stdlib-store"
    cache = WORK / "stdlib-vectors.sqlite"
    env = {**os.environ, "SEMSEARCH_VECTOR_CACHE": str(cache)}
    if not store.exists():
        for leftover in WORK.glob("stdlib-vectors.sqlite*"):
            leftover.unlink()
        wall, line = _run("index", str(tree), "--store", str(store), "-q", env=env)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"cold index, default backend: {wall:.0f} s wall, peak RSS {rss:,.0f} MiB\n  {line}")
    noop = [_run("index", str(tree), "--store", str(store), "-q", env=env) for _ in range(5)]
    print(f"no-op re-index: median {statistics.median(w for w, _ in noop):.2f} s wall (whole process)\n  {noop[0][1]}")
    edited = tree / "json" / "encoder.py"
    original = edited.read_text()
    one = []
    try:
        for n in range(5):
            edited.write_text(original + f"\n\ndef added_{n}(value):\n    return value * {n}\n")
            one.append(_run("index", str(tree), "--store", str(store), "-q", env=env))
    finally:
        edited.write_text(original)
        _run("index", str(tree), "--store", str(store), "-q", env=env)
    print(f"one file edited: median {statistics.median(w for w, _ in one):.2f} s wall (whole process)\n  {one[0][1]}")
    return store


def first_answer(tree: Path | None = None, port: int = 18799) -> None:
    """Seconds from the start of a cold index of the stdlib copy to the first answer: from a separate
    `semsearch search` process, and from /api/search under `serve --index`; then the cold run's whole wall."""
    import httpx

    tree = tree or _stdlib_copy()
    query = "read a json file"
    for how in ("search process", "serve --index"):
        store = WORK / f"first-{how.split()[0]}-store"
        shutil.rmtree(store, ignore_errors=True)
        cache = WORK / f"first-{how.split()[0]}-vectors.sqlite"
        for leftover in WORK.glob(cache.name + "*"):
            leftover.unlink()
        env = {**os.environ, "SEMSEARCH_VECTOR_CACHE": str(cache)}
        started = time.perf_counter()
        if how == "search process":
            job = subprocess.Popen([*SEMSEARCH, "index", str(tree), "--store", str(store), "-q"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        else:
            job = subprocess.Popen([*SEMSEARCH, "serve", "--index", str(tree), "--store", str(store), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        first = None
        while first is None and job.poll() is None:
            if how == "search process":
                done = subprocess.run([*SEMSEARCH, "search", query, "--store", str(store), "--json", "-k", "3"],
                                      capture_output=True, text=True, env=env)
                if done.returncode == 0 and json.loads(done.stdout.splitlines()[0])["hits"]:
                    first = time.perf_counter() - started
            else:
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/api/search", params={"q": query}, timeout=30)
                    if response.status_code == 200 and response.json()["result"]:
                        first = time.perf_counter() - started
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        print(f"first answer, {how}: {first:.1f} s after the cold index started", flush=True)
        if how == "search process":
            job.wait()
            print(f"  the whole cold index (both passes): {time.perf_counter() - started:.0f} s wall", flush=True)
        else:
            job.terminate()
            job.wait(timeout=60)


def search_runs(store: Path) -> None:
    queries = ["parse an email address", "read a json file", "retry a failed http request", "HTTPConnection",
               "format a log record", "create a temporary directory", "decode base64", "run coroutines concurrently",
               "compare two version strings", "walk a directory tree"]
    walls = [_run("search", query, "--store", str(store), "-k", "5")[0] for query in queries]
    print(f"`semsearch search` process: median {statistics.median(walls):.2f} s, max {max(walls):.2f} s "
          f"(10 queries, whole process: start-up, model load, query, output)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["ceiling", "backends", "tree", "search", "first"])
    parser.add_argument("--backends", default="torch,onnx,onnx-int8")
    parser.add_argument("--tree", type=Path, help="For --only first: another tree than the stdlib copy.")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rate, detail = gflops()
    mean_tokens = 100
    print(f"compute: {rate:.0f} GFLOP/s fp32 in the model's matrix shapes ({detail}); "
          f"{FLOP_PER_TOKEN / 1e6:.1f} MFLOP/token + attention → ceiling ≈ "
          f"{rate * 1e9 / (FLOP_PER_TOKEN + attention_flop(mean_tokens)):,.0f} tokens/s at {mean_tokens} tokens")
    if args.only in (None, "backends"):
        backends(rate, args.backends.split(","))
    if args.only in (None, "first"):
        first_answer(args.tree)
    if args.only in (None, "tree", "search"):
        store = tree_runs() if args.only != "search" else WORK / "stdlib-store"
        if args.only in (None, "search"):
            search_runs(store)


if __name__ == "__main__":
    main()
