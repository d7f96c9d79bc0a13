"""Other texts to embed for a structure, scored exactly against the product's ranking.

ablation.py varies fusion and ranking over the candidates the product's two texts find.
This asks the question before that: would MiniLM find the right code more often from a
different text? Each representation below is embedded for every structure of the
development repositories and of the CSN-style corpora (cached as .npy under
bench/.work/ablation/representations), ranked by exact cosine, and put beside the product's
own lists, so each row is the product with one input changed.

    .venv/bin/python bench/representations.py     # ~1 min of embedding per representation, first run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ablation import FETCH, Variant, _slim, load, print_table, ranked, score_fusion
from code_search import DEFAULT_DATA, WORK
from csn import MAX_PAIRS, SOURCES, pairs_for
from sdist import fetch_sdist

from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM, encoder
from semsearch.ranking import Candidate, _terms
from semsearch.structures import Structure
from semsearch.textify import _NON_WORD, humanize, textify
from semsearch.walk import walk

CACHE = WORK / "ablation" / "representations"
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


def corpora(data_dir: Path) -> dict[str, list[Structure]]:
    manifest = json.loads((data_dir / "manifest.json").read_text())
    out = {}
    for entry in manifest:
        root = fetch_sdist(entry["sdist"], WORK / "src") / entry["benchmark_root"]
        out[f"dev:{entry['name']}"] = [s for f in walk(root) for s in chunk_source(f.path, f.text)]
    for language in SOURCES:
        out[f"csn:{language}"] = pairs_for(language, MAX_PAIRS)[0]
    return out


def _embed(texts: list[str]) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (hashlib.sha1("\0".join(texts).encode()).hexdigest()[:20] + ".npy")
    if path.is_file():
        return np.load(path)
    vectors = np.asarray(encoder(MINILM).encode(texts), dtype=np.float32)
    np.save(path, vectors)
    return vectors


def add_lists(name: str, represent: Callable[[Structure], str], structures: dict[str, list[Structure]],
              data: dict[str, Any], csn: dict[str, list[dict[str, Any]]]) -> None:
    """Every query's top FETCH structures by cosine to `represent(structure)`, as lists[name]."""
    for corpus, items in structures.items():
        kind, key = corpus.split(":")
        queries = data[key]["queries"] if kind == "dev" else csn[key]
        texts = [q["task"]["query"] for q in queries] if kind == "dev" else [q["query"] for q in queries]
        scores = _embed(texts) @ _embed([represent(s) for s in items]).T
        ids, payloads = [s.point_id() for s in items], [_slim(s.to_dict()) for s in items]
        for query, row in zip(queries, scores):
            top = np.argsort(-row)[:FETCH]
            query["lists"][name] = [{"id": ids[i], "score": float(row[i]), "payload": payloads[i]} for i in top]


def name_words(base: Variant, boost: float) -> Variant:
    """The fused score x (1 + boost per query word in the structure's name), then the product's ranking."""
    def fused(query: str, lists: dict[str, list[dict[str, Any]]]) -> list[Candidate]:
        words = _terms(query)
        found = base(query, lists)
        for c in found:
            c.score *= 1 + boost * len(words & _terms(str(c.payload["name"])))
        return sorted(found, key=lambda c: -c.score)
    return ranked(fused)


def variants() -> dict[str, Variant]:
    text, code = {"text": 1.0}, {"code": 0.5}
    return {
        "product": ranked(score_fusion({**text, **code}, 0.15)),
        "  text only": ranked(score_fusion(text, 0.0)),
        "  body sentence only": ranked(score_fusion({"body": 1.0}, 0.0)),
        "  text := body sentence": ranked(score_fusion({"body": 1.0, **code}, 0.15)),
        "  + 0.5 body sentence": ranked(score_fusion({**text, **code, "body": 0.5}, 0.15)),
        "  text := lean sentence": ranked(score_fusion({"lean": 1.0, **code}, 0.15)),
        "  + 0.5 lean sentence": ranked(score_fusion({**text, **code, "lean": 0.5}, 0.15)),
        "  code only": ranked(score_fusion({"code": 1.0}, 0.0)),
        "  code words only": ranked(score_fusion({"code-words": 1.0}, 0.0)),
        "  code := code words": ranked(score_fusion({**text, "code-words": 0.5}, 0.15)),
        "  + 0.5 code words": ranked(score_fusion({**text, **code, "code-words": 0.5}, 0.15)),
        "  name words x1.05 each": name_words(score_fusion({**text, **code}, 0.15), 0.05),
        "  name words x1.1 each": name_words(score_fusion({**text, **code}, 0.15), 0.1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    data, prefixes, csn = load(args.data)
    structures = corpora(args.data)
    for name, represent in REPRESENTATIONS.items():
        add_lists(name, represent, structures, data, csn)
    print_table(variants(), data, prefixes, csn)


if __name__ == "__main__":
    main()
