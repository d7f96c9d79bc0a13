"""Walk → chunk → embed → store, for a source tree or a file of ready-made structures.

Re-indexing is incremental per file: each point carries its file's content hash and the
number of structures the file produced, so an unchanged file is skipped without touching
the model, a changed file is replaced whole, and a file whose points were cut short by a
crash (fewer points than it should have) is redone. Deleted files lose their points.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semsearch import lexical
from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM, Encoder, canonical, default_model, encoder
from semsearch.store import CollectionSpec, DenseVector, Filter, Match, Point, Store, StoreError
from semsearch.structures import Structure
from semsearch.textify import textify
from semsearch.walk import DEFAULT_MAX_BYTES, WalkSummary, walk

CODE_COLLECTION = "code"
VECTORS = ("text", "code")
LEXICAL = "lex"  # the sparse BM25 vector (see lexical.py)
KEYWORD_FIELDS = ["language", "context.file_path", "context.module", "code_type",
                  "context.file_name", "context.struct_name", "name", "dirs"]
EMBED_BATCH = 256  # structures per embed+upsert round: the unit of progress and of crash loss


class ModelMismatch(StoreError):
    pass


@dataclass
class Models:
    text: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "code": self.code}


def resolve_models(metadata: dict[str, Any] | None, text: str | None = None,
                   code: str | None = None) -> Models:
    """The models for a collection: those it was built with, unless the caller asks for others.

    A collection can only be searched and extended with the models that built it, so an
    explicit request for a different one is refused with the names of both.
    """
    wanted = {"text": canonical(text) if text else None, "code": canonical(code) if code else None}
    if metadata is None:
        return Models(text=wanted["text"] or default_model("text"), code=wanted["code"] or default_model("code"))
    recorded = {k: v.get("model") for k, v in metadata.get("vectors", {}).items()}
    for vector in VECTORS:
        if vector not in recorded:
            raise ModelMismatch(f"this collection has no '{vector}' vector; it was not made by `semsearch index`")
        if wanted[vector] and wanted[vector] != recorded[vector]:
            raise ModelMismatch(
                f"the collection was built with {vector} model {recorded[vector]!r}, not {wanted[vector]!r}: "
                f"use the same model, or rebuild with `semsearch index --recreate`")
    return Models(text=recorded["text"], code=recorded["code"])


@dataclass
class IndexSummary:
    walk: WalkSummary = field(default_factory=WalkSummary)
    files_unchanged: int = 0
    files_indexed: int = 0
    files_removed: int = 0
    structures_embedded: int = 0
    points: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class Progress:
    """Counters handed to the caller's callback after each step."""

    phase: str = "scanning"
    files: int = 0
    to_embed: int = 0
    embedded: int = 0


ProgressCallback = Callable[[Progress], None]


def prepare_query_encoder(models: Models) -> None:
    """Export the query encoder now, while torch is loaded, so the first search starts fast."""
    if MINILM in models.as_dict().values():
        try:
            from semsearch.onnx import export

            export(MINILM)
        except Exception:  # noqa: BLE001 - searches fall back to torch
            pass


def folders(path: str) -> list[str]:
    """Every folder prefix of a path (`a/b/c.py` → a, a/b): a keyword filter on it is a path-prefix filter."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def file_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", errors="replace")).hexdigest()


class Indexer:
    def __init__(self, store: Store, collection: str = CODE_COLLECTION, *,
                 text_model: str | None = None, code_model: str | None = None,
                 device: str | None = None, on_progress: ProgressCallback | None = None) -> None:
        self.store = store
        self.collection = collection
        self._requested = (text_model, code_model)
        self.device = device
        self.on_progress = on_progress or (lambda progress: None)
        self.progress = Progress()

    # -- public --------------------------------------------------------------------
    def index_tree(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, recreate: bool = False,
                   hidden: bool = False) -> IndexSummary:
        started = time.perf_counter()
        summary = IndexSummary()
        models = self._prepare(recreate, {"root": str(root.resolve())})
        known = self._known_files()
        pending: list[tuple[str, str, list[Structure]]] = []  # (path, hash, structures)
        seen: set[str] = set()
        for source in walk(root, max_bytes=max_bytes, summary=summary.walk, hidden=hidden):
            seen.add(source.path)
            digest = file_hash(source.text)
            self.progress.files += 1
            if known.get(source.path) == (digest, True):
                summary.files_unchanged += 1
                continue
            try:
                structures = chunk_source(source.path, source.text)
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                summary.walk.skip("parse error", source.path)
                summary.errors.append(f"{source.path}: {exc}")
                continue
            pending.append((source.path, digest, structures))
            self.progress.to_embed += len(structures)
            self.on_progress(self.progress)
        self.progress.phase = "embedding"
        self.on_progress(self.progress)
        replaced = set(known)
        self._write(models, pending, replaced, summary)
        for path in sorted(set(known) - seen):
            self.store.delete(self.collection, Filter(must=[Match("context.file_path", path)]))
            summary.files_removed += 1
        if summary.files_indexed or summary.files_removed:
            self.progress.phase = "optimizing"
            self.on_progress(self.progress)
            self.store.optimize(self.collection)
        if summary.structures_embedded:
            prepare_query_encoder(models)
        summary.points = self.store.count(self.collection)
        summary.seconds = time.perf_counter() - started
        return summary

    def import_structures(self, structures: Iterable[Structure]) -> IndexSummary:
        """Add ready-made structures (the seed JSON format), grouped by their file."""
        started = time.perf_counter()
        summary = IndexSummary()
        models = self._prepare(False, {"root": None})
        by_file: dict[str, list[Structure]] = {}
        for structure in structures:
            by_file.setdefault(structure.file_path, []).append(structure)
            self.progress.to_embed += 1
        pending = [(path, "imported", items) for path, items in by_file.items()]
        self._write(models, pending, set(), summary)
        self.store.optimize(self.collection)
        summary.points = self.store.count(self.collection)
        summary.seconds = time.perf_counter() - started
        return summary

    # -- internals -----------------------------------------------------------------
    def _prepare(self, recreate: bool, extra: dict[str, Any]) -> Models:
        exists = self.store.exists(self.collection)
        if exists and recreate:
            self.store.drop(self.collection)
            exists = False
        metadata = self.store.metadata(self.collection) if exists else None
        if metadata is not None and metadata.get("kind", "code") != "code":
            raise StoreError(f"collection {self.collection!r} holds {metadata.get('kind')}, not code")
        models = resolve_models(metadata, *self._requested)
        if not exists:
            spec = CollectionSpec(
                vectors={v: DenseVector(size=self._encoder(m).dim, model=m) for v, m in models.as_dict().items()},
                sparse={LEXICAL: lexical.NAME},
                keyword_fields=KEYWORD_FIELDS,
                metadata={"kind": "code", **extra},
            )
            self.store.create(self.collection, spec)
        return models

    def _encoder(self, model: str) -> Encoder:
        return encoder(model, self.device)

    def _known_files(self) -> dict[str, tuple[str, bool]]:
        """path → (content hash, complete?) for every file already in the collection."""
        hashes: dict[str, str] = {}
        expected: dict[str, int] = {}
        counts: dict[str, int] = {}
        for hit in self.store.scroll(self.collection, ["context", "file_hash", "file_chunks"]):
            path = (hit.payload.get("context") or {}).get("file_path")
            if path is None:
                continue
            hashes[path] = hit.payload.get("file_hash", "")
            expected[path] = int(hit.payload.get("file_chunks") or 0)
            counts[path] = counts.get(path, 0) + 1
        return {p: (h, counts[p] == expected[p]) for p, h in hashes.items()}

    def _write(self, models: Models, pending: list[tuple[str, str, list[Structure]]],
               replaced: set[str], summary: IndexSummary) -> None:
        text_encoder = code_encoder = None
        batch: list[tuple[str, str, list[Structure]]] = []
        size = 0
        for item in [*pending, None]:
            if item is not None:
                batch.append(item)
                size += len(item[2])
                if size < EMBED_BATCH:
                    continue
            if not batch:
                break
            structures = [s for _, _, items in batch for s in items]
            if structures and text_encoder is None:
                text_encoder, code_encoder = self._encoder(models.text), self._encoder(models.code)
            text_vectors = text_encoder.encode([textify(s) for s in structures]) if structures else []
            code_vectors = code_encoder.encode([s.context.snippet for s in structures]) if structures else []
            points = []
            row = 0
            for path, digest, items in batch:
                if path in replaced:
                    self.store.delete(self.collection, Filter(must=[Match("context.file_path", path)]))
                for structure in items:
                    payload = {**structure.to_dict(), "file_hash": digest, "file_chunks": len(items),
                               "dirs": folders(path)}
                    vectors = {"text": text_vectors[row].tolist(), "code": code_vectors[row].tolist(),
                               LEXICAL: lexical.embed_document(lexical.lexical_text(structure))}
                    points.append(Point(structure.point_id(), vectors, payload))
                    row += 1
                summary.files_indexed += 1
            self.store.upsert(self.collection, points)
            summary.structures_embedded += len(structures)
            self.progress.embedded += len(structures)
            self.on_progress(self.progress)
            batch, size = [], 0
