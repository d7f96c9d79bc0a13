"""Sparse BM25 vectors from Qdrant's own BM25, one tokenizer per kind of text.

For code, Qdrant's `Code` tokenizer keeps an identifier whole *and* splits it on camel and
snake case (`HTTPException` → httpexception, http, exception), lower-cases and stems, so a
bare identifier query and a plain-English query both meet the same document. Records use
the plain `Word` tokenizer. Documents carry term frequencies only; the collection's IDF
modifier supplies document frequencies at query time, so they stay right as the index
changes. The same vectors are sent to a Qdrant server, so both backends score alike.
"""

from __future__ import annotations

from functools import cached_property

import qdrant_edge as qe

from semsearch.store import SparseVector
from semsearch.structures import Structure


class Lexical:
    """One BM25 configuration: `name` is recorded with the collections it builds."""

    def __init__(self, name: str, tokenizer: qe.TokenizerType, avg_len: float) -> None:
        self.name = name
        self._config = (tokenizer, avg_len)

    @cached_property
    def _model(self) -> qe.Bm25:
        tokenizer, avg_len = self._config
        return qe.Bm25(qe.Bm25Config(tokenizer=tokenizer, language="english", avg_len=avg_len))

    def document(self, text: str) -> SparseVector:
        vector = self._model.embed_document(text)
        return SparseVector(list(vector.indices), list(vector.values))

    def query(self, text: str) -> SparseVector:
        vector = self._model.embed_query(text)
        return SparseVector(list(vector.indices), list(vector.values))


# Average lengths are those of the documents: one structure with its names and path; a record's text.
CODE = Lexical("bm25-code", qe.TokenizerType.Code, avg_len=120.0)
WORDS = Lexical("bm25-words", qe.TokenizerType.Word, avg_len=40.0)
NAME = CODE.name


def lexical_text(structure: Structure) -> str:
    """What the code lexical vector sees: names, path and enclosing names, docs and the code."""
    ctx = structure.context
    return "\n".join(part for part in (
        structure.name, ctx.struct_name or "", ctx.file_path, structure.signature,
        structure.docstring or "", ctx.snippet,
    ) if part)


def embed_document(text: str) -> SparseVector:
    return CODE.document(text)


def embed_query(text: str) -> SparseVector:
    return CODE.query(text)
