"""CodeSearchNet-style retrieval in several languages: doc sentence → its function.

From real packages that can be had offline (PyPI sdists, npm tarballs, Debian packages that
ship sources), every documented function or method becomes a pair: the first sentence of
its docstring or doc comment is the query, the function with its docs removed is the
target. All of a language's functions (docs removed) are imported into one collection
through the product's import path, and each query is searched with the product's search.
Prints MRR@10 and recall@1/@10 per language and mode.

    .venv/bin/python bench/csn.py [--modes hybrid,text] [--max-pairs 1500] [--backend onnx-int8]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import tarfile
from dataclasses import replace
from pathlib import Path

from code_search import WORK
from sdist import fetch_sdist

from semsearch.chunking import chunk_source
from semsearch.chunking.languages import SPECS, detect_language
from semsearch.indexer import Indexer
from semsearch.roles import is_test_path
from semsearch.search import Searcher
from semsearch.store.edge import EdgeStore
from semsearch.structures import Structure
from semsearch.walk import walk

# language -> sources: ("pypi", spec) | ("npm", spec) | ("deb", package)
SOURCES: dict[str, list[tuple[str, str]]] = {
    "python": [("pypi", "click==8.1.8"), ("pypi", "requests==2.32.3"), ("pypi", "more-itertools==10.5.0")],
    "javascript": [("npm", "lodash-es@4.17.21")],
    "go": [("deb", "golang-github-spf13-cobra-dev"), ("deb", "golang-github-gorilla-mux-dev")],
    "rust": [("deb", "librust-regex-syntax-dev"), ("deb", "librust-serde-json-dev")],
}
CSN = WORK / "csn"
MAX_PAIRS = 1000


def fetch(kind: str, spec: str) -> Path:
    if kind == "pypi":
        return fetch_sdist(spec, CSN / "src" / "pypi")
    target = CSN / "src" / re.sub(r"[^\w.-]", "_", spec)
    unpacked = target / ("package" if kind == "npm" else "root")
    if unpacked.is_dir():
        return unpacked
    target.mkdir(parents=True, exist_ok=True)
    if kind == "npm":
        archive = subprocess.run(["npm", "pack", spec, "--silent"], cwd=target, check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(target / archive) as tar:
            tar.extractall(target, filter="data")
        return target / "package"
    subprocess.run(["apt-get", "download", "-q", spec], cwd=target, check=True, capture_output=True)
    deb = next(target.glob("*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(target / "root")], check=True)
    return target / "root"


def first_sentence(doc: str) -> str:
    """The doc's opening sentence, before any blank line or tag (`@param`, `:param`, `# Examples`)."""
    lines = []
    for line in doc.strip().splitlines():
        line = line.strip()
        if not line or line.startswith(("@", ":", "#", ">>>")):
            break
        lines.append(line)
    text = " ".join(lines)
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text).strip()


def without_docs(s: Structure) -> Structure:
    """The structure as CodeSearchNet shows it: docstring gone, from the snippet too."""
    snippet = s.context.snippet
    if s.language == "python" and s.docstring:
        snippet = re.sub(r'(\n[ \t]*)[rRuU]?("""|\'\'\')(.|\n)*?\2[ \t]*(?=\n)', "", snippet, count=1)
    return replace(s, docstring=None, context=replace(s.context, snippet=snippet))


def pairs_for(language: str, max_pairs: int) -> tuple[list[Structure], list[tuple[str, str]]]:
    corpus: list[Structure] = []
    pairs: list[tuple[str, str]] = []
    for kind, spec in SOURCES[language]:
        root = fetch(kind, spec)
        for source in walk(root, hidden=True):
            if detect_language(source.path, source.text) != language or is_test_path(source.path):
                continue
            if source.path.endswith(".pyi"):
                continue  # stubs repeat the implementation's signatures without bodies
            for s in chunk_source(f"{spec}/{source.path}", source.text):
                if s.code_type not in ("Function", "Method") or s.part not in (None, 1):
                    continue
                if s.name.lower().startswith("test"):
                    continue
                stripped = without_docs(s)
                corpus.append(stripped)
                query = first_sentence(s.docstring or "")
                if len(query.split()) >= 3:
                    pairs.append((query, stripped.point_id()))
    random.Random(0).shuffle(pairs)
    return corpus, pairs[:max_pairs]


def store_for(language: str, corpus: list[Structure], backend: str = "onnx") -> Path:
    """The language's corpus imported through the product's path (rebuilt when the corpus changed)."""
    path = (CSN / "stores" if backend != "onnx-int8" else CSN / "stores-int8") / language
    with EdgeStore(path) as store:
        ids = {s.point_id() for s in corpus}
        if not store.exists("csn") or store.count("csn") != len(ids) or \
                any(h.id not in ids for h in store.scroll("csn", [])):
            if store.exists("csn"):
                store.drop("csn")
            Indexer(store, "csn", backend=backend).import_structures(corpus)
    return path


def mrr_at_10(ranks: list[int | None]) -> float:
    return statistics.fmean(1 / r if r and r <= 10 else 0.0 for r in ranks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="hybrid,text,code,lexical")
    parser.add_argument("--languages", default=",".join(SOURCES))
    parser.add_argument("--max-pairs", type=int, default=MAX_PAIRS)
    parser.add_argument("--backend", default="onnx", help="onnx (default), onnx-int8 or torch")
    args = parser.parse_args()
    modes = args.modes.split(",")
    print("| language | functions | pairs | " + " | ".join(f"{m} MRR@10" for m in modes) + " | hybrid R@1 | hybrid R@10 |")
    print("|---|---|---|" + "---|" * (len(modes) + 2))
    for language in args.languages.split(","):
        assert language in SPECS
        corpus, pairs = pairs_for(language, args.max_pairs)
        with EdgeStore(store_for(language, corpus, args.backend)) as store:
            searcher = Searcher(store, "csn")
            row = {}
            recall = (0.0, 0.0)
            for mode in modes:
                ranks: list[int | None] = []
                for query, target in pairs:
                    ids = [h.id for h in searcher.search(query, mode=mode, limit=10)]
                    ranks.append(ids.index(target) + 1 if target in ids else None)
                row[mode] = mrr_at_10(ranks)
                if mode == "hybrid":
                    recall = (statistics.fmean(r == 1 for r in ranks),
                              statistics.fmean(r is not None for r in ranks))
        print(f"| {language} | {len(corpus)} | {len(pairs)} | " + " | ".join(f"{row[m]:.3f}" for m in modes)
              + f" | {recall[0]:.3f} | {recall[1]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
