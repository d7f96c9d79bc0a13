"""Stream records out of JSON arrays, JSON lines and CSV, one at a time.

Nothing is read whole: a JSON array is parsed incrementally (ijson), so a file larger
than memory loads with flat memory. A line that cannot be read is yielded as a RecordError
with its line number, so the caller decides whether to skip it or stop.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson


@dataclass
class RecordError:
    line: int
    message: str


Item = tuple[int, dict[str, Any] | RecordError]  # (line number, record or its error)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        with path.open("rb") as f:
            head = f.read(4096).lstrip()
        return "json" if head.startswith(b"[") else "jsonl"
    raise ValueError(f"cannot tell the format of {path.name}: use .json, .jsonl or .csv")


class RecordFile:
    """Iterate records of a file; `position` tells how many bytes were consumed (progress)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format = detect_format(path)
        self.size = path.stat().st_size
        self._file: IO[Any] | None = None

    @property
    def position(self) -> int:
        try:
            return self._file.tell() if self._file is not None else 0
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[Item]:
        reader = {"jsonl": self._jsonl, "json": self._json, "csv": self._csv}[self.format]
        yield from reader()

    def _jsonl(self) -> Iterator[Item]:
        with self.path.open("rb") as self._file:
            for number, raw in enumerate(self._file, start=1):
                line = raw.decode("utf-8", errors="replace").strip()
                if not line:
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, RecordError(number, f"not JSON ({exc.msg})")
                    continue
                except RecursionError:
                    yield number, RecordError(number, "nested too deeply to read")
                    continue
                if not isinstance(value, dict):
                    yield number, RecordError(number, f"expected a JSON object, got {type(value).__name__}")
                    continue
                yield number, value

    def _json(self) -> Iterator[Item]:
        with self.path.open("rb") as self._file:
            number = 0
            try:
                for number, value in enumerate(ijson.items(self._file, "item", use_float=True), start=1):
                    if isinstance(value, dict):
                        yield number, value
                    else:
                        yield number, RecordError(number, f"item {number} is not an object")
            except ijson.JSONError as exc:
                # An array cannot be resynchronised after a syntax error: report it and stop.
                yield number + 1, RecordError(number + 1, f"JSON syntax error after item {number}: {exc}")

    def _csv(self) -> Iterator[Item]:
        with self.path.open(newline="", encoding="utf-8", errors="replace") as self._file:
            reader = csv.DictReader(self._file)
            for row in reader:
                number = reader.line_num
                if None in row:
                    yield number, RecordError(number, "more fields than the header names")
                    continue
                yield number, {k: _csv_value(v) for k, v in row.items() if k}


def _csv_value(value: str | None) -> Any:
    """Integers stay integers so they can be indexed and filtered as numbers."""
    if value is None:
        return None
    stripped = value.strip()
    if stripped.lstrip("-").isdigit() and len(stripped) < 19:
        return int(stripped)
    return value
