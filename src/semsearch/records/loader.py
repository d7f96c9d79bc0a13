"""Load a record file into a collection: validate, embed in batches, upload as a stream.

The seed's startup service, generalised: any JSON/JSONL/CSV records, one or more text
fields embedded with the shipped MiniLM (`text` vector) and a BM25 sparse vector (`lex`)
for full-text ranking, the record itself as payload, and indexes on the fields users
filter by. Point ids are deterministic, so loading a file twice replaces, never duplicates.
"""

from __future__ import annotations

import itertools
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semsearch.embedding import (BACKENDS, ModelUnavailable, backend_for, canonical, check_backend,
                                 default_model, encoder)
from semsearch.lexical import WORDS
from semsearch.models import LEXICAL, recorded_precision
from semsearch.records.display import Display, detect
from semsearch.records.reader import Item, RecordError, RecordFile
from semsearch.store import CollectionSpec, DenseVector, Point, Store, StoreError

RECORDS = "records"  # the collection kind
TEXT_FIELD_GUESSES = ("description", "summary", "text", "content", "body", "abstract", "title")
PEEK = 200  # records read ahead to check the options before anything is written
_ID_NAMESPACE = uuid.UUID("1d5e5c8b-3f4a-4b7e-8a0c-2f9d4e6b7a10")


class RecordsError(StoreError):
    """Bad options or input, reported before anything is written."""


@dataclass
class LoadSummary:
    loaded: int = 0
    skipped_no_text: int = 0
    skipped_no_id: int = 0
    bad_lines: int = 0
    errors: list[RecordError] = field(default_factory=list)  # the first few, for the report
    text_fields: list[str] = field(default_factory=list)
    display: Display = field(default_factory=Display)
    points: int = 0
    seconds: float = 0.0


@dataclass
class LoadProgress:
    records: int = 0
    bytes_read: int = 0
    bytes_total: int = 0


def record_text(record: dict[str, Any], text_fields: list[str]) -> str:
    parts = [str(record[f]).strip() for f in text_fields if record.get(f) not in (None, "")]
    return "\n".join(p for p in parts if p)


MAX_DEPTH = 32  # nesting kept as structure; deeper parts are stored as JSON text
_I64 = (-2**63, 2**63 - 1)


def storable(value: Any, depth: int = 0) -> Any:
    """The value as a payload the store can hold: 64-bit integers, finite floats, valid UTF-8,
    bounded nesting. What falls outside becomes text (a huge number) or null (NaN), so one
    odd record is stored as faithfully as it can be and never costs its batch."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if _I64[0] <= value <= _I64[1] else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if depth >= MAX_DEPTH:
        try:
            return json.dumps(value, default=str)[:10_000]
        except (RecursionError, ValueError):
            return "(nested too deeply to store)"
    if isinstance(value, dict):
        return {storable(str(k)): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v, depth + 1) for v in value]
    return storable(str(value))


def point_id(record: dict[str, Any], id_field: str | None) -> str | None:
    if id_field is None:
        key = json.dumps(record, sort_keys=True, default=str)
    else:
        value = record.get(id_field)
        if value in (None, ""):
            return None
        key = f"{id_field}\0{value}"
    return str(uuid.uuid5(_ID_NAMESPACE, key))


class RecordLoader:
    def __init__(self, store: Store, collection: str, *, model: str | None = None, backend: str | None = None,
                 device: str | None = None, on_progress: Callable[[LoadProgress], None] | None = None) -> None:
        self.store = store
        self.collection = collection
        self.model = canonical(model) if model else None
        self.backend = backend
        self.device = device
        self.on_progress = on_progress or (lambda progress: None)

    def load(self, path: Path, *, text_fields: list[str] | None = None, id_field: str | None = None,
             index_fields: Iterable[str] = (), batch_size: int = 256, recreate: bool = False,
             strict: bool = False, title_field: str | None = None, link_field: str | None = None,
             image_field: str | None = None, label_fields: list[str] | None = None) -> LoadSummary:
        """Load path; the *_field options name a card's parts (else they are detected, see display.py)."""
        started = time.perf_counter()
        if batch_size < 1:
            raise RecordsError("batch size must be at least 1")
        try:
            source = RecordFile(path)
        except (OSError, ValueError) as exc:
            raise RecordsError(str(exc)) from None
        items = iter(source)
        head = list(itertools.islice(items, PEEK))
        records = [r for _, r in head if isinstance(r, dict)]
        if not records:
            first_error = next((r for _, r in head if isinstance(r, RecordError)), None)
            raise RecordsError(f"no records in {path}" + (f" (line {first_error.line}: {first_error.message})"
                                                           if first_error else ""))
        named = [(title_field, "title"), (link_field, "link"), (image_field, "image"),
                 *((f, "label") for f in label_fields or [])]
        fields = _check_fields(records, text_fields, id_field, list(index_fields), [(n, p) for n, p in named if n])
        display = detect(records, fields, title=title_field, link=link_field, image=image_field, labels=label_fields,
                         keyword_fields=[f for f in index_fields if not _all_integers(records, f)])
        if strict:
            for _, item in RecordFile(path):
                if isinstance(item, RecordError):
                    raise RecordsError(f"{path}:{item.line}: {item.message} (--strict: nothing was written)")
        requested = {"title": title_field, "link": link_field, "image": image_field, "labels": label_fields}
        model, backend, display = self._prepare(recreate, fields, records, list(index_fields), display, requested)
        encode = encoder(model, backend, self.device).encode
        summary = LoadSummary(text_fields=fields, display=display)
        progress = LoadProgress(bytes_total=source.size)
        for batch in _batches(itertools.chain(head, items), batch_size):
            points = []
            texts = []
            for _, item in batch:
                if isinstance(item, RecordError):
                    summary.bad_lines += 1
                    if len(summary.errors) < 20:
                        summary.errors.append(item)
                    continue
                item = storable(item)
                text = record_text(item, fields)
                if not text:
                    summary.skipped_no_text += 1
                    continue
                pid = point_id(item, id_field)
                if pid is None:
                    summary.skipped_no_id += 1
                    continue
                points.append(Point(pid, {}, item))
                texts.append(text)
            if points:
                vectors = encode(texts)
                for point, text, vector in zip(points, texts, vectors):
                    point.vectors = {"text": vector.tolist(), LEXICAL: WORDS.document(text)}
                self.store.upsert(self.collection, points)
                summary.loaded += len(points)
            progress.records = summary.loaded
            progress.bytes_read = source.position or progress.bytes_read
            self.on_progress(progress)
        self.store.optimize(self.collection)
        summary.points = self.store.count(self.collection)
        summary.seconds = time.perf_counter() - started
        return summary

    def _prepare(self, recreate: bool, text_fields: list[str], sample: list[dict[str, Any]],
                 index_fields: list[str], display: Display,
                 requested: dict[str, Any]) -> tuple[str, str, Display]:
        """The model, backend and card parts to load with, the collection made ready for them.

        An existing collection keeps the parts it was made with; naming another is refused.
        """
        exists = self.store.exists(self.collection)
        if exists and recreate:
            check_backend(self.backend)  # a bad request must not cost the collection
            self.store.drop(self.collection)
            exists = False
        if exists:
            meta = self.store.metadata(self.collection)
            if meta.get("kind") != RECORDS:
                raise RecordsError(f"collection {self.collection!r} holds {meta.get('kind', 'something else')}, "
                                   f"not records: choose another name with -c")
            recorded = meta.get("vectors", {}).get("text", {}).get("model")
            if self.model and self.model != recorded:
                raise RecordsError(f"collection {self.collection!r} was built with model {recorded!r}, "
                                   f"not {self.model!r}: use --recreate to rebuild it")
            if meta.get("text_fields") != text_fields:
                raise RecordsError(f"collection {self.collection!r} embeds {meta.get('text_fields')}, "
                                   f"not {text_fields}: use --recreate to rebuild it")
            kept = Display.from_json(meta["display"]) if isinstance(meta.get("display"), dict) else display
            for part, name in requested.items():
                if name is not None and getattr(kept, part) != name:
                    raise RecordsError(f"collection {self.collection!r} shows {getattr(kept, part)!r} as its {part}, "
                                       f"not {name!r}: use --recreate to change it")
            try:
                backend = backend_for(recorded_precision(meta), self.backend)
            except ModelUnavailable as exc:
                raise RecordsError(str(exc)) from None
            return str(recorded), backend, kept
        model = self.model or default_model("text")
        backend = check_backend(self.backend)
        indexed = list(dict.fromkeys([*index_fields, *display.labels]))  # labels filter when clicked: indexed too
        integers = [f for f in indexed if _all_integers(sample, f)]
        spec = CollectionSpec(
            vectors={"text": DenseVector(encoder(model, backend, self.device).dim, model, BACKENDS[backend])},
            sparse={LEXICAL: WORDS.name},
            keyword_fields=[f for f in indexed if f not in integers],
            integer_fields=integers,
            text_fields=text_fields,
            metadata={"kind": RECORDS, "display": display.to_json()},
        )
        self.store.create(self.collection, spec)
        return model, backend, display


def _check_fields(records: list[dict[str, Any]], text_fields: list[str] | None, id_field: str | None,
                  index_fields: list[str], parts: Iterable[tuple[str, str]] = ()) -> list[str]:
    seen = sorted({k for r in records for k in r})
    if not text_fields:
        guess = next((g for g in TEXT_FIELD_GUESSES if any(g in r for r in records)), None)
        if guess is None:
            raise RecordsError(f"which field holds the text? pass --text-field (fields: {', '.join(seen)})")
        text_fields = [guess]
    for name, role in [*((f, "text") for f in text_fields), *((f, "index") for f in index_fields),
                       *([(id_field, "id")] if id_field else []), *parts]:
        if not any(name in r for r in records):
            raise RecordsError(f"no record has the {role} field {name!r} (fields: {', '.join(seen)}); "
                               f"nothing was written")
    return list(text_fields)


def _all_integers(records: list[dict[str, Any]], key: str) -> bool:
    values = [r[key] for r in records if r.get(key) is not None]
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while batch := list(itertools.islice(items, size)):
        yield batch
