"""The ONNX backends: fp32 gives the torch encoder's vectors, int8 stays close, and the
length-sorted batching hands every text its own vector back in order."""

from pathlib import Path

import numpy as np
import pytest

from semsearch.embedding import (MINILM, ModelUnavailable, TorchEncoder, backend_for, check_backend, encoder,
                                 query_encoder)
from semsearch.onnx import OnnxEncoder, onnx_path

TEXTS = ["how are routes registered", "HTTPException", "a much longer question about reading "
         "configuration files and merging them with command line options in a web service", "",
         "def read(path):\n    with open(path) as handle:\n        return handle.read()\n" * 20]


@pytest.fixture(scope="module")
def onnx_encoder() -> OnnxEncoder:
    return OnnxEncoder(MINILM)  # exports into SEMSEARCH_CACHE (tests/.cache) on first use


@pytest.fixture(scope="module")
def int8_encoder() -> OnnxEncoder:
    return OnnxEncoder(MINILM, quantized=True)


def test_same_vectors_as_torch(onnx_encoder: OnnxEncoder) -> None:
    assert onnx_path(MINILM).is_file()
    fast = onnx_encoder.encode(TEXTS)
    reference = encoder(MINILM, "torch").encode(TEXTS)
    cosine = (fast * reference).sum(axis=1)
    assert cosine.min() > 0.9999, cosine
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


def test_batches_sorted_by_length_keep_the_callers_order(onnx_encoder: OnnxEncoder) -> None:
    texts = [f"{'word ' * (n * 7 % 60)} item {n}" for n in range(300)]  # several batches, mixed lengths
    together = onnx_encoder.encode(texts)
    for i in (0, 1, 57, 150, 299):
        alone = onnx_encoder.encode([texts[i]])[0]
        assert float(together[i] @ alone) > 0.9999


def test_int8_is_close_to_fp32_but_not_the_same(onnx_encoder: OnnxEncoder, int8_encoder: OnnxEncoder) -> None:
    assert onnx_path(MINILM, quantized=True).is_file()
    cosine = (onnx_encoder.encode(TEXTS) * int8_encoder.encode(TEXTS)).sum(axis=1)
    assert 0.97 < cosine.min() and cosine.max() < 0.99999, cosine


def test_backends_are_chosen_and_checked(monkeypatch) -> None:
    assert isinstance(encoder(MINILM), OnnxEncoder)
    assert isinstance(encoder(MINILM, "torch"), TorchEncoder)
    assert encoder(MINILM, "onnx-int8").quantized
    with pytest.raises(ModelUnavailable, match="unknown backend 'gpu'"):
        check_backend("gpu")
    monkeypatch.setenv("SEMSEARCH_BACKEND", "onnx-int8")
    assert check_backend(None) == "onnx-int8"
    assert backend_for("fp32") == "onnx"  # the collection's precision wins over the default
    with pytest.raises(ModelUnavailable, match="holds fp32 vectors"):
        backend_for("fp32", "onnx-int8")


def test_queries_use_onnx_unless_told_otherwise(monkeypatch) -> None:
    assert isinstance(query_encoder(MINILM), OnnxEncoder)
    assert query_encoder(MINILM, "int8").quantized
    monkeypatch.setenv("SEMSEARCH_QUERY_BACKEND", "torch")
    assert isinstance(query_encoder(MINILM), TorchEncoder)


def test_export_is_cached(onnx_encoder: OnnxEncoder) -> None:
    path = onnx_path(MINILM)
    before = path.stat().st_mtime_ns
    OnnxEncoder(MINILM)
    assert Path(path).stat().st_mtime_ns == before
