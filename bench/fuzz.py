"""Bad input never reaches a 500: ten thousand generated requests against a live `semsearch serve`.

A store with a code collection (the aiohttp benchmark repository) and a record collection
(the PyPI sample, or a small built-in one when it is not beside the checkout) is served on
loopback. Then:
  1. schemathesis generates requests for every operation of the server's own OpenAPI
     document and runs all its checks (status codes documented, bodies match their schemas,
     schema-valid requests accepted, invalid ones refused);
  2. a hostile-value sweep sends every value of a list of known troublemakers (injection
     strings, traversal, Unicode controls, huge numbers, empty and enormous strings) as every
     parameter of every operation.
Prints requests, server errors (5xx) and 4xx answers without a one-line `detail`.

    .venv/bin/python bench/fuzz.py [--examples 1200] [--port 18777]
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from serve import serving
from sources import WORK, benchmark_root, manifest

from semsearch.indexer import Indexer
from semsearch.records.loader import RecordLoader
from semsearch.store.edge import EdgeStore

PYPI = Path(__file__).resolve().parents[2] / "shared" / "data" / "pypi-packages.jsonl"
HOSTILE = ["", " ", "' OR 1=1 --", "${jndi:ldap://x}", "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd",
           "/etc/passwd", "C:\\Windows\\win.ini", "\u0000", "\u202e\u200b", "😀" * 50, "a" * 10_000, "-1", "0",
           "99999999999999999999999", "1e309", "NaN", "-Infinity", "true", "null", "[]", "{}", "<script>x</script>",
           "%00", "language", "language=", "=x", "context..module=x", "x" * 300 + "=y", "path:a\\b",
           "released:abc", "released:99999999999999999999", "city:Berlin", "dir:/", "name:pluralize",
           "00000000-0000-0000-0000-000000000000", "not-a-uuid", "hybrid", "neural", "psychic", "code", "records"]


def build(store_dir: Path) -> None:
    with EdgeStore(store_dir) as store:
        if store.exists("code") and store.exists("records"):
            return
        aiohttp = next(e for e in manifest() if e["name"] == "aiohttp")
        Indexer(store, "code").index_tree(benchmark_root(aiohttp))
        records = PYPI if PYPI.is_file() else _small_records(store_dir.parent / "records.jsonl")
        RecordLoader(store, "records").load(records, text_fields=["name", "summary"], id_field="name",
                                            index_fields=["released"] if PYPI.is_file() else ["city"])


def _small_records(path: Path) -> Path:
    path.write_text("\n".join(json.dumps({"name": f"r{i}", "summary": f"record {i} about chairs", "city": "Berlin"})
                              for i in range(200)))
    return path


def generated(base: str, examples: int) -> collections.Counter[str]:
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    outcome: collections.Counter[str] = collections.Counter()
    shown: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            outcome["requests"] += 1
            try:
                response = case.call_and_validate(base_url=base)
            except BaseException as exc:  # noqa: BLE001 - counted, then shown
                for failure in getattr(exc, "exceptions", [exc]):
                    outcome[f"check failed: {operation.label}: {str(failure).splitlines()[0][:120]}"] += 1
                    if len(shown) < 5:
                        shown.append(f"{operation.label} {case.query}: {str(failure)[:300]}")
                return
            _tally(outcome, response.status_code, response.text)

        run()
    for example in shown:
        print("failed check:", example.replace("\n", " | "))
    return outcome


def sweep(base: str) -> collections.Counter[str]:
    spec = httpx.get(base + "/openapi.json").json()
    outcome: collections.Counter[str] = collections.Counter()
    with httpx.Client(base_url=base, timeout=60) as client:
        for path, methods in spec["paths"].items():
            parameters = [p["name"] for p in methods.get("get", {}).get("parameters", [])]
            required = {p["name"]: "x" for p in methods.get("get", {}).get("parameters", []) if p.get("required")}
            if "line" in required:
                required["line"] = "1"
            for name in parameters:
                for value in HOSTILE:
                    response = client.get(path, params={**required, name: value})
                    outcome["requests"] += 1
                    _tally(outcome, response.status_code, response.text)
    return outcome


def _tally(outcome: collections.Counter[str], status: int, body: str) -> None:
    outcome[f"{status // 100}xx"] += 1
    if status >= 500:
        outcome[f"server error {status}: {body[:120]}"] += 1
    elif status >= 400:
        try:
            detail = json.loads(body).get("detail")
        except (ValueError, AttributeError):
            detail = None
        if not (isinstance(detail, str) and detail.strip() and "\n" not in detail):
            outcome[f"4xx without a one-line detail: {body[:120]}"] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2500, help="Generated requests per operation at most.")
    parser.add_argument("--port", type=int, default=18777)
    args = parser.parse_args()
    store = WORK / "fuzz-store"
    build(store)
    started = time.perf_counter()
    with serving(store, args.port) as base:
        total = generated(base, args.examples) + sweep(base)
    seconds = time.perf_counter() - started
    problems = {k: v for k, v in total.items() if not k.endswith("xx") and k != "requests"}
    server_errors = sum(v for k, v in total.items() if k.startswith("server error"))
    print(f"{total['requests']:,} requests in {seconds:.0f} s: " + ", ".join(
        f"{total[k]:,} {k}" for k in ("2xx", "4xx", "5xx") if total[k]) + f"; {server_errors} server errors")
    for what, count in sorted(problems.items(), key=lambda kv: -kv[1])[:40]:
        print(f"  {count:>6} {what}")


if __name__ == "__main__":
    main()
