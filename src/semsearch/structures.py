"""The Structure record: one searchable piece of code, in the seed tutorial's JSON shape.

The shape is kept exactly so that structures extracted elsewhere (the Qdrant code search
tutorial publishes them as JSONL) load unchanged, and so that our own output can be read
by the same tools.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Namespace for deterministic point ids: the same structure always gets the same id,
# so re-indexing replaces points instead of duplicating them.
_ID_NAMESPACE = uuid.UUID("6f1c3a52-8f0e-4f7e-9a43-5b1d2f0c7e11")
# Beside the seed shape, a point of a store that cannot match path prefixes (a Qdrant 1.16 server)
# lists its path's folders here, so that a folder filter is one keyword match.
FOLDERS = "dirs"


def folders(path: str) -> list[str]:
    """Every folder prefix of a path (`a/b/c.py` → a, a/b): a keyword filter on it is a path-prefix filter."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass
class Context:
    module: str
    file_path: str
    file_name: str
    struct_name: str | None
    snippet: str


@dataclass
class Structure:
    name: str
    signature: str
    code_type: str
    docstring: str | None
    line: int
    line_from: int
    line_to: int
    context: Context
    language: str | None = None
    # Set when a long structure is split: 1-based part number and total parts.
    part: int | None = None
    parts: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file_path(self) -> str:
        return self.context.file_path

    def point_id(self, repo: str | None = None) -> str:
        """Deterministic: the same structure of the same repository always has the same id (a structure of
        a collection made before repositories, repo None, keeps the id it had)."""
        key = f"{self.context.file_path}\0{self.code_type}\0{self.name}\0{self.line_from}\0{self.line_to}\0{self.part}"
        if repo is not None:
            key = f"{repo}\0{key}"
        return str(uuid.uuid5(_ID_NAMESPACE, key))

    def content_hash(self) -> str:
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "signature": self.signature,
            "code_type": self.code_type,
            "docstring": self.docstring,
            "line": self.line,
            "line_from": self.line_from,
            "line_to": self.line_to,
            "language": self.language,
            "context": {
                "module": self.context.module,
                "file_path": self.context.file_path,
                "file_name": self.context.file_name,
                "struct_name": self.context.struct_name,
                "snippet": self.context.snippet,
            },
        }
        if self.part is not None:
            data["part"] = self.part
            data["parts"] = self.parts
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Structure:
        """Build from the seed JSON shape; raises ValueError naming what is missing."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        ctx = data.get("context")
        if not isinstance(ctx, dict):
            raise ValueError("missing object 'context'")
        missing = [k for k in ("name", "code_type", "line_from", "line_to") if data.get(k) is None]
        missing += [f"context.{k}" for k in ("file_path", "snippet") if ctx.get(k) is None]
        if missing:
            raise ValueError("missing " + ", ".join(missing))
        try:
            line_from, line_to = int(data["line_from"]), int(data["line_to"])
            line = int(data.get("line") or line_from)
        except (TypeError, ValueError):
            raise ValueError("line, line_from and line_to must be integers") from None
        if line_to < line_from:
            raise ValueError(f"line_to {line_to} is before line_from {line_from}")
        file_path = str(ctx["file_path"]).replace("\\", "/")
        known = {"name", "signature", "code_type", "docstring", "line", "line_from", "line_to",
                 "language", "context", "part", "parts"}
        return cls(
            name=str(data["name"]),
            signature=str(data.get("signature") or data["name"]),
            code_type=str(data["code_type"]),
            docstring=data.get("docstring") or None,
            line=line,
            line_from=line_from,
            line_to=line_to,
            language=data.get("language"),
            part=data.get("part"),
            parts=data.get("parts"),
            context=Context(
                module=str(ctx.get("module") or ""),
                file_path=file_path,
                file_name=str(ctx.get("file_name") or file_path.rsplit("/", 1)[-1]),
                struct_name=ctx.get("struct_name") or None,
                snippet=str(ctx["snippet"]),
            ),
            extra={k: v for k, v in data.items() if k not in known},
        )


def read_jsonl(path: Path) -> Iterator[tuple[int, Structure | ValueError]]:
    """Yield (line number, structure or the error for that line) from a JSONL file.

    Errors are yielded, not raised, so one bad line costs that line only.
    """
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield number, Structure.from_dict(json.loads(line))
            except json.JSONDecodeError as exc:
                yield number, ValueError(f"not JSON ({exc.msg})")
            except ValueError as exc:
                yield number, exc
