"""Real structures for the scale benchmarks: public packages fetched by script and chunked once.

The packages are the mined corpus's pinned list (`bench/corpus_packages.json`: PyPI, npm and
Debian, 18 languages), fetched by `bench/corpus_fetch.py`. Each package is walked and chunked
by semsearch's own walker and chunker, and each structure gets the payload the indexer writes
(`to_dict()` plus `file_key` and `dirs`), a `repo` field (the package id) and its BM25 vector
from `semsearch.lexical`. The result is cached as JSON lines under `bench/.work/scale/`, so
the load benchmarks read it in seconds; they replicate it across repositories to reach a
million (`bench/million.py`).

    .venv/bin/python bench/scale_corpus.py [--sources pypi,npm,deb] [--max-packages N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SCALE = HERE / ".work" / "scale"
CORPUS_FILE = SCALE / "structures.jsonl"


def chunk_package(root: Path, repo: str) -> Iterator[dict[str, Any]]:
    """The indexer's pass-1 rows for one tree: payload and BM25 vector, as `index` writes them."""
    from semsearch import lexical
    from semsearch.chunking import chunk_source
    from semsearch.indexer import file_hash
    from semsearch.structures import folders
    from semsearch.walk import walk

    for source in walk(root):
        try:
            structures = chunk_source(source.path, source.text)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the corpus
            print(f"  {repo}/{source.path}: not chunked ({type(exc).__name__})", file=sys.stderr)
            continue
        digest = file_hash(source.text, source.generated)
        for structure in structures:
            if source.generated:
                structure.extra["generated"] = True
            payload = {**structure.to_dict(), "file_key": f"{digest}:{len(structures)}:{source.path}",
                       "dirs": folders(source.path), "repo": repo}
            lex = lexical.embed_document(lexical.lexical_text(structure))
            yield {"id": structure.point_id(), "payload": payload, "lex": [lex.indices, lex.values]}


def build(sources: set[str], max_packages: int | None) -> dict[str, Any]:
    """Fetch and chunk the packages once; a package already in the file is not redone."""
    from corpus_fetch import load_packages, top_folder

    SCALE.mkdir(parents=True, exist_ok=True)
    done = set()
    if CORPUS_FILE.exists():
        with CORPUS_FILE.open() as f:
            done = {json.loads(line)["payload"]["repo"] for line in f}
    packages = [p for p in load_packages() if p.source in sources][:max_packages]
    started = time.perf_counter()
    with CORPUS_FILE.open("a") as out:
        for number, package in enumerate(packages, 1):
            if package.id in done:
                continue
            try:
                top = top_folder(package)
            except Exception as exc:  # noqa: BLE001 - a registry hiccup skips one package
                print(f"skip {package.id}: {exc}", file=sys.stderr)
                continue
            root = top / package.root if package.root else top
            rows = 0
            for row in chunk_package(root, package.id):
                out.write(json.dumps(row, separators=(",", ":")) + "\n")
                rows += 1
            out.flush()
            print(f"[{number}/{len(packages)}] {package.id}: {rows} structures "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return summary()


def summary() -> dict[str, Any]:
    repos: dict[str, int] = {}
    languages: dict[str, int] = {}
    with CORPUS_FILE.open() as f:
        for line in f:
            payload = json.loads(line)["payload"]
            repos[payload["repo"]] = repos.get(payload["repo"], 0) + 1
            language = payload.get("language") or "text"
            languages[language] = languages.get(language, 0) + 1
    return {"structures": sum(repos.values()), "packages": len(repos), "languages": languages,
            "bytes": CORPUS_FILE.stat().st_size}


def read_corpus(path: Path = CORPUS_FILE) -> list[dict[str, Any]]:
    if not path.exists():
        raise SystemExit(f"no corpus at {path}: run bench/scale_corpus.py first")
    with path.open() as f:
        return [json.loads(line) for line in f]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default="pypi,npm,deb", help="registries to take packages from")
    parser.add_argument("--max-packages", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(build(set(args.sources.split(",")), args.max_packages), indent=1))


if __name__ == "__main__":
    main()
