"""Sparse BM25 vectors for code, from Qdrant's own BM25 with its code tokenizer.

Qdrant's `Code` tokenizer keeps an identifier whole *and* splits it on camel and snake
case (`HTTPException` → httpexception, http, exception), lower-cases and stems, so a bare
identifier query and a plain-English query both meet the same document. Documents carry
term frequencies only; the collection's IDF modifier supplies document frequencies at
query time, so they stay right as the index changes. The same vectors are sent to a
Qdrant server, so both backends score alike.
"""

from __future__ import annotations

from functools import lru_cache

import qdrant_edge as qe

from semsearch.store import SparseVector
from semsearch.structures import Structure

NAME = "bm25-code"  # recorded with the collection: what made its sparse vectors
# Our documents are shorter than BM25's default 256 tokens: one structure, its names, its path.
AVG_LEN = 120.0


@lru_cache(maxsize=1)
def _model() -> qe.Bm25:
    return qe.Bm25(qe.Bm25Config(tokenizer=qe.TokenizerType.Code, language="english", avg_len=AVG_LEN))


def lexical_text(structure: Structure) -> str:
    """What the lexical vector sees: names, path and enclosing names, docs and the code."""
    ctx = structure.context
    return "\n".join(part for part in (
        structure.name, ctx.struct_name or "", ctx.file_path, structure.signature,
        structure.docstring or "", ctx.snippet,
    ) if part)


def embed_document(text: str) -> SparseVector:
    vector = _model().embed_document(text)
    return SparseVector(list(vector.indices), list(vector.values))


def embed_query(text: str) -> SparseVector:
    vector = _model().embed_query(text)
    return SparseVector(list(vector.indices), list(vector.values))
