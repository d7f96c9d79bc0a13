"""Which models (and which precision) made a collection's vectors.

A collection can only be searched and extended with what built it; this is read from the
collection's metadata by both the indexer and the searcher (which must not pay for the
indexing stack's imports on a search).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from semsearch.embedding import BACKENDS, ModelUnavailable, backend_for, canonical, check_backend, default_model
from semsearch.store import StoreError

VECTORS = ("text", "code")
LEXICAL = "lex"  # the sparse BM25 vector of code and record collections alike (see lexical.py)


def recorded_precision(metadata: dict[str, Any]) -> str:
    """fp32 or int8: what a collection's dense vectors were made with (fp32 before it was recorded)."""
    return metadata["vectors"]["text"].get("precision", "fp32")


class ModelMismatch(StoreError):
    pass


@dataclass
class Models:
    text: str
    code: str
    precision: str = "fp32"  # of the weights that make both vectors (embedding.BACKENDS)

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "code": self.code}


def resolve_models(metadata: dict[str, Any] | None, text: str | None = None,
                   code: str | None = None, backend: str | None = None) -> Models:
    """The models for a collection: those it was built with, unless the caller asks for others.

    A collection can only be searched and extended with the models (and the precision)
    that built it, so an explicit request for a different one is refused with both names.
    """
    wanted = {"text": canonical(text) if text else None, "code": canonical(code) if code else None}
    if metadata is None:
        return Models(text=wanted["text"] or default_model("text"), code=wanted["code"] or default_model("code"),
                      precision=BACKENDS[check_backend(backend)])
    recorded = {k: v.get("model") for k, v in metadata.get("vectors", {}).items()}
    for vector in VECTORS:
        if vector not in recorded:
            raise ModelMismatch(f"this collection has no '{vector}' vector; it was not made by `semsearch index`")
        if wanted[vector] and wanted[vector] != recorded[vector]:
            raise ModelMismatch(
                f"the collection was built with {vector} model {recorded[vector]!r}, not {wanted[vector]!r}: "
                f"use the same model, or rebuild with `semsearch index --recreate`")
    precision = recorded_precision(metadata)
    try:
        backend_for(precision, backend)
    except ModelUnavailable as exc:
        raise ModelMismatch(str(exc)) from None
    return Models(text=recorded["text"], code=recorded["code"], precision=precision)
