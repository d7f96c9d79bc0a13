"""A query corpus of our own, mined at scale: pinned packages in many languages, queries by rule.

The development set has nine repositories; ranking must be validated (and fitted) on many.
Each package in `bench/corpus_packages.json` is fetched from PyPI, npm or Debian at a pinned
version, its documentation is turned into queries by four rules (bench/corpus_queries.py),
the doc text behind each query is blanked in the copy that is indexed, and that copy is
indexed with the product's own indexer. Packages carry a fold (0-4, stratified by
language), so a rule can be fitted on some folds and scored on the others.

    .venv/bin/python bench/corpus.py fetch       # download and unpack (bench/.work/corpus/src)
    .venv/bin/python bench/corpus.py queries     # write queries/<id>.jsonl and the stripped repos/<id>
    .venv/bin/python bench/corpus.py index       # one product store per package (stores/<id>)
    .venv/bin/python bench/corpus.py manifest    # bench/corpus_manifest.json
    .venv/bin/python bench/corpus.py sample 40   # read queries and their targets by eye
    .venv/bin/python bench/corpus.py all         # fetch, folds, queries, index, manifest

`--only id,id` limits a step to some packages, `--folds 0` (or 0,1) to some folds: fold 0 alone
(44 packages) is fetched, mined and indexed in about half an hour. See bench/CORPUS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from corpus_fetch import (
    CORPUS,
    HERE,
    Package,
    forbidden_by_name,
    load_packages,
    save_packages,
    top_folder,
)
from corpus_queries import QUERIES, REPOS, read_queries, write_queries

from semsearch.indexer import Indexer
from semsearch.store.edge import EdgeStore

STORES = CORPUS / "stores"
INDEXED = CORPUS / "indexed"  # <id>.json: files, structures and seconds of a finished store
MANIFEST = HERE / "corpus_manifest.json"
FOLDS = 5


def allowed(packages: list[Package]) -> list[Package]:
    """The packages that name no forbidden project; the others are printed and left out."""
    out = []
    for p in packages:
        project = forbidden_by_name(p)
        if project:
            print(f"refused {p.id} ({p.spec}): names {project}", flush=True)
        else:
            out.append(p)
    return out


def fetch(packages: list[Package]) -> None:
    for p in packages:
        try:
            top = top_folder(p)
        except (subprocess.CalledProcessError, StopIteration) as exc:
            print(f"{p.id}: not available ({exc})", flush=True)
            continue
        root = top / p.root if p.root else top
        print(f"{p.id}: {root}" + ("" if root.is_dir() else "  (root missing!)"), flush=True)


def assign_folds(packages: list[Package]) -> list[Package]:
    """Within each language, packages in id order take folds 0, 1, 2, 3, 4, 0, …"""
    by_language: dict[str, list[Package]] = defaultdict(list)
    for p in packages:
        by_language[p.language].append(p)
    folds = {p.id: i % FOLDS for group in by_language.values() for i, p in enumerate(sorted(group, key=lambda p: p.id))}
    return [replace(p, fold=folds[p.id]) for p in packages]


def queries(packages: list[Package]) -> None:
    for p in packages:
        started = time.perf_counter()
        stats = write_queries(p)
        counts = ", ".join(f"{rule} {n}" for rule, n in sorted(stats["queries"].items()))
        print(f"{p.id}: {stats['files']} files, {stats['structures']} structures; {counts}"
              f" ({time.perf_counter() - started:.1f} s)", flush=True)
        for line in stats["vendored"]:
            print(f"  {line}", flush=True)


def index(packages: list[Package]) -> None:
    """Each stripped copy indexed exactly as bench/code_search.py indexes a repository.

    Fold by fold, so a run stopped half way leaves whole folds in every language, not whole
    languages."""
    INDEXED.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for p in sorted(packages, key=lambda p: (p.fold, p.language, p.id)):
        done = INDEXED / f"{p.id}.json"
        before = json.loads(done.read_text()) if done.exists() else {}
        if before.get("tree") == _tree_stamp(p):
            continue
        with EdgeStore(STORES / p.id) as store:
            summary = Indexer(store, "code").index_tree(REPOS / p.id)
        # seconds and embedded add up over runs: an incremental update adds to the store's cost
        row = {"files": summary.walk.files, "structures": summary.points,
               "seconds": round(before.get("seconds", 0) + summary.seconds, 1),
               "embedded": before.get("embedded", 0) + summary.structures_embedded, "tree": _tree_stamp(p)}
        done.write_text(json.dumps(row))
        total += summary.seconds
        print(f"{p.id}: {row['files']} files, {row['structures']} structures, {summary.seconds:.1f} s", flush=True)
    print(f"indexed in {total:.0f} s", flush=True)


def _tree_stamp(p: Package) -> str:
    """What the store was built from: the queries file's time (the stripped copy is written with it)."""
    path = QUERIES / f"{p.id}.jsonl"
    return str(path.stat().st_mtime_ns) if path.exists() else ""


def manifest(packages: list[Package]) -> None:
    rows: dict[str, Any] = {}
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for p in packages:
        found = read_queries(p.id)
        indexed_file = INDEXED / f"{p.id}.json"
        indexed = json.loads(indexed_file.read_text()) if indexed_file.exists() else {}
        by_category = Counter(q["category"] for q in found)
        by_rule = Counter(q["rule"] for q in found)
        rows[p.id] = {"language": p.language, "fold": p.fold, "spec": p.spec, "files": indexed.get("files"),
                      "structures": indexed.get("structures"), "index_seconds": indexed.get("seconds"),
                      "queries": dict(sorted(by_category.items())), "rules": dict(sorted(by_rule.items()))}
        total = totals[p.language]
        total.update({"packages": 1, "structures": indexed.get("structures") or 0, "queries": len(found)})
        total.update({f"{k}": v for k, v in by_category.items()})
        total.update({f"rule {k}": v for k, v in by_rule.items()})
    everything: Counter[str] = sum(totals.values(), Counter())
    out = {"packages": rows, "languages": {k: dict(sorted(v.items())) for k, v in sorted(totals.items())},
           "total": dict(sorted(everything.items()))}
    MANIFEST.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(rows)} packages, {everything['queries']} queries, {everything['structures']} structures "
          f"-> {MANIFEST.relative_to(HERE.parent)}")


def sample(packages: list[Package], n: int, seed: int) -> None:
    """N random queries with their targets' first lines, to read by eye."""
    pool = [(p, q) for p in packages for q in read_queries(p.id)]
    for p, q in random.Random(seed).sample(pool, min(n, len(pool))):
        print(f"[{p.id} {q['rule']}] {q['query']}")
        for target in q["relevant"][:3]:
            path = target if isinstance(target, str) else target["path"]
            line = 1 if isinstance(target, str) else target["start_line"]
            text = (REPOS / p.id / path).read_text(errors="replace").split("\n")
            shown = next((t.strip() for t in text[line - 1:line + 30] if t.strip()), "")
            span = "" if isinstance(target, str) else f":{target['start_line']}-{target['end_line']}"
            print(f"    -> {path}{span}  {shown[:100]}")
        print(f"    from {q['from']['path']}:{q['from']['line']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["fetch", "folds", "queries", "index", "manifest", "sample", "all"])
    parser.add_argument("n", nargs="?", type=int, default=40, help="sample: how many queries")
    parser.add_argument("--only", default="", help="comma-separated package ids")
    parser.add_argument("--folds", default="", help="comma-separated folds (0-4)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    every = load_packages()
    wanted = {i for i in args.only.split(",") if i}
    folds = {int(f) for f in args.folds.split(",") if f}

    def chosen(p: Package) -> bool:
        return (not wanted or p.id in wanted) and (not folds or p.fold in folds)

    packages = [p for p in allowed(every) if chosen(p)]
    if args.step in ("folds", "all"):
        save_packages(assign_folds(every))
        packages = [p for p in allowed(load_packages()) if chosen(p)]
    if args.step in ("fetch", "all"):
        fetch(packages)
    if args.step in ("queries", "all"):
        REPOS.mkdir(parents=True, exist_ok=True)
        queries(packages)
    if args.step in ("index", "all"):
        index(packages)
    if args.step in ("manifest", "all"):
        if wanted or folds:  # the manifest in git counts every package: a subset would overwrite it
            print("manifest: left as it is (it covers every package; run `manifest` without --only/--folds)")
        else:
            manifest(packages)
    if args.step == "sample":
        sample(packages, args.n, args.seed)


if __name__ == "__main__":
    main()
