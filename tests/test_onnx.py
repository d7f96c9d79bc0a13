"""The ONNX query encoder gives the torch encoder's vectors, and searches answer the same."""

from pathlib import Path

import numpy as np
import pytest

from semsearch.embedding import MINILM, encoder, query_encoder
from semsearch.onnx import OnnxEncoder, onnx_path

TEXTS = ["how are routes registered", "HTTPException", "a much longer question about reading "
         "configuration files and merging them with command line options in a web service", ""]


@pytest.fixture(scope="module")
def onnx_encoder() -> OnnxEncoder:
    return OnnxEncoder(MINILM)  # exports into SEMSEARCH_CACHE (tests/.cache) on first use


def test_same_vectors_as_torch(onnx_encoder: OnnxEncoder) -> None:
    assert onnx_path(MINILM).is_file()
    fast = onnx_encoder.encode(TEXTS)
    reference = encoder(MINILM).encode(TEXTS)
    cosine = (fast * reference).sum(axis=1)
    assert cosine.min() > 0.9999, cosine
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


def test_queries_use_onnx_unless_told_otherwise(monkeypatch, onnx_encoder: OnnxEncoder) -> None:
    query_encoder.cache_clear()
    assert isinstance(query_encoder(MINILM), OnnxEncoder)
    query_encoder.cache_clear()
    monkeypatch.setenv("SEMSEARCH_QUERY_BACKEND", "torch")
    assert not isinstance(query_encoder(MINILM), OnnxEncoder)
    query_encoder.cache_clear()


def test_export_is_cached(onnx_encoder: OnnxEncoder) -> None:
    path = onnx_path(MINILM)
    before = path.stat().st_mtime_ns
    OnnxEncoder(MINILM)
    assert Path(path).stat().st_mtime_ns == before
