"""The query read by the text model in the documents' own sentence form (tried in session 13, not kept).

Every structure's text vector embeds a sentence that starts with its kind ("Function await
ready for timeout that does …"); a query is embedded as written. Does the sentence model
match better when the query is put in the same form ("Function request logging middleware"),
or as the mean of several such forms? Identifier queries keep the product's spelt form. Scored
offline (offline.py) on the nine, on every mined package with a store (per fold), and on the
CSN-style pairs, each row against the same pools and ranking as the product.

    .venv/bin/python bench/query_forms.py        # ~10 minutes; the nine, bench/.work/corpus/stores, CSN
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ablation import OFFLINE, evaluate, load_csn, load_repos, product
from heldout import load_mined
from offline import Corpus, QueryScores, embed_queries, scores, text_vector
from sources import DEFAULT_DATA

from semsearch import lexical
from semsearch.query import analyse
from semsearch.ranking import with_options

CACHE = OFFLINE / "query-forms.json"
FORMS: dict[str, Callable[[str], str]] = {
    "Function {q}": lambda q: f"Function {q}",
    "Class {q}": lambda q: f"Class {q}",
    "Method {q}": lambda q: f"Method {q}",
    "File {q}": lambda q: f"File {q}",
    "Function that does {q}": lambda q: f"Function that does {q}",
}
# Each row: the forms whose vectors are averaged (None: the query as the product embeds it).
ROWS: dict[str, list[str | None]] = {
    "product": [None],
    **{form: [form] for form in FORMS},
    "mean(q, Function {q})": [None, "Function {q}"],
    "mean(Function, Class)": ["Function {q}", "Class {q}"],
    "mean(q, Function, Class)": [None, "Function {q}", "Class {q}"],
    "mean(Function, Class, Method, File)": ["Function {q}", "Class {q}", "Method {q}", "File {q}"],
    "mean(q, Function, Class, Method, File)": [None, "Function {q}", "Class {q}", "Method {q}", "File {q}"],
}


def scorer(forms: list[str | None], vectors: dict[str, np.ndarray]) -> Callable[[Corpus, str, Any], QueryScores]:
    def run(corpus: Corpus, query: str, vector: Any) -> QueryScores:
        if forms == [None]:
            return scores(corpus, query, vector)
        analysed = analyse(query)
        text = text_vector(analysed, vector)
        if analysed.kind != "identifier":
            text = sum(text if f is None else vectors[FORMS[f](analysed.spelt)] for f in forms)
            text = text / np.linalg.norm(text)
        return QueryScores(analysed, corpus.text @ text, corpus.code @ vector,
                           corpus.bm25(lexical.embed_query(query)), None)
    return run


def main() -> None:
    nine, mined, csn = load_repos(DEFAULT_DATA), load_mined("stores"), load_csn()
    queries = [t["query"] for r in nine + mined for t in r.tasks] + [q for lang in csn.values() for q, _ in lang.pairs]
    spelt = [analyse(q).spelt for q in queries if analyse(q).kind != "identifier"]
    vectors = embed_queries([form(s) for form in FORMS.values() for s in spelt], Path(CACHE))
    variant = product(with_options())
    print("| form | nine | " + " | ".join(f"nine {lang}" for lang in sorted({r.entry['language'] for r in nine}))
          + " | mined | folds | CSN python | CSN javascript | CSN go | CSN rust | mined per language |")
    for name, forms in ROWS.items():
        run = scorer(forms, vectors)
        ours, theirs = evaluate(variant, nine, csn, run), evaluate(variant, mined, {}, run)
        folds: dict[int, list[float]] = defaultdict(list)
        for repo in mined:
            folds[repo.entry["fold"]].append(theirs.repos[repo.entry["name"]])
        print(f"| {name} | {ours.macro:.3f} | " + " | ".join(f"{v:.3f}" for _, v in sorted(ours.languages.items()))
              + f" | {theirs.macro:.3f} | " + " / ".join(f"{statistics.fmean(v):.3f}" for _, v in sorted(folds.items()))
              + " | " + " | ".join(f"{ours.csn[lang]:.3f}" for lang in ("python", "javascript", "go", "rust"))
              + " | " + " ".join(f"{k} {v:.3f}" for k, v in sorted(theirs.languages.items())) + " |", flush=True)


if __name__ == "__main__":
    main()
