"""Other texts to embed for a structure, scored exactly against the product's ranking.

ablation.py varies fusion and ranking over the candidates the product's two texts find.
This asks the question before that: would MiniLM find the right code more often from a
different text? Each representation below is embedded for every structure of the nine
development repositories and of the CSN-style corpora (cached as .npy under
bench/.work/offline/representations) and swapped into the product's retrieval (offline.py)
in place of, or beside, one of its two dense vectors: each row is the product with one input
changed, same fusion, same ranking.

    .venv/bin/python bench/representations.py     # a few minutes of embedding per representation, first run
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ablation import OFFLINE, Language, Repo, evaluate, load_csn, load_repos, print_header, print_row, product
from csn import MAX_PAIRS, pairs_for
from offline import Corpus, QueryScores, scores
from sources import DEFAULT_DATA, benchmark_root

from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM, encoder
from semsearch.ranking import with_options
from semsearch.structures import Structure
from semsearch.textify import _NON_WORD, humanize, textify
from semsearch.walk import walk

CACHE = OFFLINE / "representations"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def lean(s: Structure) -> str:
    """The sentence without signature, module and file: only kind, name, docs, enclosing type."""
    if s.code_type == "Block" and s.extra.get("defines") is not None:
        return textify(s)
    parts = [s.code_type, humanize(s.name)]
    if s.docstring:
        parts.append(f"that does {s.docstring}")
    if s.context.struct_name:
        parts.append(f"defined in struct {humanize(s.context.struct_name)}")
    return " ".join(t for t in _NON_WORD.split(" ".join(parts)) if t)


def code_words(s: Structure) -> str:
    """The snippet with every identifier spelled as words (`is_f64` → `is f64`), for a prose model."""
    return _IDENTIFIER.sub(lambda m: humanize(m.group(0)).lower() if len(m.group(0)) > 1 else m.group(0),
                           s.context.snippet)


REPRESENTATIONS: dict[str, Callable[[Structure], str]] = {
    "body": lambda s: textify(s, with_body=True),  # the sentence + up to 40 identifiers of the body
    "lean": lean,
    "code-words": code_words,
}


def structures_of(repos: list[Repo], csn: dict[str, Language]) -> dict[int, list[Structure]]:
    """Each corpus's structures in the order of its points (by point id), keyed by id(corpus)."""
    out = {}
    for repo in repos:
        root = benchmark_root(repo.entry)
        by_id = {s.point_id(): s for f in walk(root) for s in chunk_source(f.path, f.text)}
        out[id(repo.corpus)] = [by_id[i] for i in repo.corpus.ids]
    for language, lang in csn.items():
        by_id = {s.point_id(): s for s in pairs_for(language, MAX_PAIRS)[0]}
        out[id(lang.corpus)] = [by_id[i] for i in lang.corpus.ids]
    return out


def _embed(texts: list[str]) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (hashlib.sha1("\0".join(texts).encode()).hexdigest()[:20] + ".npy")
    if path.is_file():
        return np.load(path)
    vectors = np.asarray(encoder(MINILM).encode(texts), dtype=np.float32)
    np.save(path, vectors)
    return vectors


Swap = Callable[[Corpus, QueryScores, dict[str, np.ndarray]], QueryScores]


def scorer(arrays: dict[int, dict[str, np.ndarray]], swap: Swap | None) -> Callable[[Corpus, str, np.ndarray], QueryScores]:
    """The product's scores with one input changed by `swap` (which sees the representations' arrays)."""
    def run(corpus: Corpus, query: str, vector: np.ndarray) -> QueryScores:
        qs = scores(corpus, query, vector)
        if swap is None:
            return qs
        alt = {name: matrix @ vector for name, matrix in arrays[id(corpus)].items()}
        return swap(corpus, qs, alt)
    return run


def rows() -> dict[str, Swap | None]:
    def text_is(name: str, beside: float = 0.0) -> Swap:
        """The text vector's cosine replaced by the representation's, or `beside` x it added."""
        def swap(corpus: Corpus, qs: QueryScores, alt: dict[str, np.ndarray]) -> QueryScores:
            text = qs.text + beside * alt[name] if beside else alt[name]
            return QueryScores(qs.query, text, qs.code, qs.lex, qs.file)
        return swap

    def code_is(name: str, beside: float = 0.0) -> Swap:
        def swap(corpus: Corpus, qs: QueryScores, alt: dict[str, np.ndarray]) -> QueryScores:
            code = qs.code + beside * alt[name] if beside else alt[name]
            return QueryScores(qs.query, qs.text, code, qs.lex, qs.file)
        return swap

    return {
        "product": None,
        "  text := body sentence": text_is("body"),
        "  text + 0.5 body sentence": text_is("body", 0.5),
        "  text := lean sentence": text_is("lean"),
        "  text + 0.5 lean sentence": text_is("lean", 0.5),
        "  code := code words": code_is("code-words"),
        "  code + 0.5 code words": code_is("code-words", 0.5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-csn", action="store_true")
    args = parser.parse_args()
    repos = load_repos(args.data)
    csn = {} if args.no_csn else load_csn()
    structures = structures_of(repos, csn)
    arrays = {key: {name: _embed([represent(s) for s in items]) for name, represent in REPRESENTATIONS.items()}
              for key, items in structures.items()}
    print_header(repos, csn, False)
    for name, swap in rows().items():
        print_row(name, evaluate(product(with_options()), repos, csn, scorer(arrays, swap)), repos, csn, False)


if __name__ == "__main__":
    main()
