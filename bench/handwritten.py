"""Hand-written queries over 50 packages in 19 languages (37 mined ones; two Zig libraries and eleven
large trees, Django, git, RuboCop, the TypeScript compiler, Hugo, Guava, etcd, Prometheus, Elixir,
Symfony and Scala, listed in bench/handwritten/packages.json): a held-aside check in the development set's own style.

The mined corpus's queries are doc sentences by rule, which the development set's
developer-style queries ("radix tree path matching", "how are routes registered", "Mux") are
not: a ranking fitted or chosen on one may not carry to the other (bench/README.md, the learned
ranker). These queries were written by annotators who read each package's code with shell
tools only, never running this project's search (the instructions: `bench/handwritten/README.md`),
16 a package (5 architecture, 7 semantic, 4 symbol), paths relative to the package's root.
The packages are indexed from their original trees (docs kept), not the mined corpus's
stripped copies.

    .venv/bin/python bench/corpus.py fetch --only py-jinja2,...   # the sources, once (network)
    .venv/bin/python bench/handwritten.py index                    # stores in bench/.work/handwritten
    .venv/bin/python bench/handwritten.py eval [--only "variant;variant"] [--per-package]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from ablation import OFFLINE, Repo, Variant, evaluate, product, variants
from corpus_fetch import Package, load_packages, top_folder
from heldout import EXTRA, package_repo
from sources import WORK

from semsearch.indexer import Indexer
from semsearch.ranking import with_options
from semsearch.store.edge import EdgeStore

QUERIES = Path(__file__).parent / "handwritten"
STORES = WORK / "handwritten" / "stores"


# Packages outside the mined corpus: for a language it lacks (Zig: Debian 12 has no Zig compiler, so
# no package of Zig sources; two libraries ship theirs on npm and in a wheel), and large trees whole
# (Django, git, RuboCop, TypeScript, Hugo, Guava, etcd, Prometheus, Elixir, Symfony, Scala: the
# mined packages are small, the repositories users search are not).
EXTRA_PACKAGES = QUERIES / "packages.json"


def every_package() -> list[Package]:
    """The mined packages and the extra list's, whether or not they have queries yet."""
    every = load_packages() + load_packages(EXTRA_PACKAGES)
    ids = [p.id for p in every]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:  # an extra named like a mined package would silently take the mined one's root
        raise SystemExit(f"{EXTRA_PACKAGES} reuses mined package ids: {', '.join(twice)}")
    return every


def packages() -> list[Package]:
    """The packages that have a hand-written query file."""
    ids = {p.stem for p in QUERIES.glob("*.json")}
    return [p for p in every_package() if p.id in ids]


def root(package: Package) -> Path:
    return top_folder(package) / package.root


def index(chosen: list[Package], recreate: bool) -> None:
    """Each package's original tree indexed as bench/code_search.py indexes a repository
    (`recreate`: every file chunked again, as after a chunking change; vectors come from the cache)."""
    for p in chosen:
        with EdgeStore(STORES / p.id) as store:
            summary = Indexer(store, "code").index_tree(root(p), recreate=recreate)
        print(f"{p.id}: {summary.walk.files} files, {summary.points} structures, {summary.seconds:.1f} s", flush=True)


def load(chosen: list[Package]) -> list[Repo]:
    repos = []
    for p in chosen:
        store = STORES / p.id
        if not store.is_dir():
            raise SystemExit(f"no store for {p.id}: run `bench/handwritten.py index` first")
        tasks = json.loads((QUERIES / f"{p.id}.json").read_text())
        repos.append(package_repo(p, store, OFFLINE / "handwritten" / p.id, tasks, OFFLINE / "handwritten-queries.json"))
    return repos


def report(chosen: dict[str, Variant], repos: list[Repo], per_package: bool) -> None:
    """NDCG@10 per language and per category; every variant after the first as its change."""
    base = next(iter(chosen))
    rows: dict[str, dict[str, float]] = {}
    for name, variant in chosen.items():
        s = evaluate(variant, repos, {})
        row = dict(sorted(s.languages.items())) | {f"[{k}]": v for k, v in sorted(s.categories.items())}
        row |= {"languages": statistics.fmean(s.languages.values()), "packages": s.macro}
        if per_package:
            row |= dict(sorted(s.repos.items()))
        rows[name] = row
    columns = list(rows[base])
    print(f"{len(repos)} packages, {sum(len(r.tasks) for r in repos)} hand-written queries\n")
    print("| variant | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
    for name, row in rows.items():
        cells = [f"{row[c]:.3f}" if name == base else f"{row[c] - rows[base][c]:+.3f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["index", "eval"])
    parser.add_argument("--packages", default="", help="Package ids, comma-separated (default: every one).")
    parser.add_argument("--only", default="", help="Variant names from bench/ablation.py or heldout.py, ';'-separated.")
    parser.add_argument("--per-package", action="store_true")
    parser.add_argument("--recreate", action="store_true", help="index: rebuild the stores from scratch.")
    args = parser.parse_args()
    wanted_ids = {i for i in args.packages.split(",") if i}
    pool = every_package() if wanted_ids else packages()
    chosen_packages = [p for p in pool if not wanted_ids or p.id in wanted_ids]
    if args.step == "index":
        index(chosen_packages, args.recreate)
        return
    every = variants() | EXTRA
    chosen: dict[str, Variant] = {"product": product(with_options())}
    for name in (v.strip() for v in args.only.split(";") if v.strip()):
        found = {k.strip(): v for k, v in every.items()}.get(name)
        if found is None:
            raise SystemExit(f"no such variant: {name} (see bench/heldout.py --list)")
        chosen[name] = found
    report(chosen, load(chosen_packages), args.per_package)


if __name__ == "__main__":
    main()
