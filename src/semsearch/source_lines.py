"""An indexed file's lines, read from its tree: paths as the index spells them, never outside the tree.

Used by code_index.read (and so by `/api/file` and the MCP `read` tool): a path is checked
before any file is opened (no '..', no absolute path, no backslash), the file must resolve
inside the tree (no symlink out), and an answer is bounded in lines and characters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from semsearch.search import NotFound

MAX_READ_LINES = 400  # lines one read returns at most
MAX_READ_CHARS = 64_000  # ... and characters


@dataclass
class FileLines:
    path: str
    line_from: int
    line_to: int
    total_lines: int
    lines: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def clean_path(path: str) -> str:
    """A tree-relative path as the index spells it, or a QueryError."""
    if not isinstance(path, str) or not path.strip() or len(path) > 4096 or "\0" in path:
        raise NotFound("give a file path relative to the indexed tree")
    cleaned = path.strip()
    if "\\" in cleaned:
        raise NotFound(f"{path[:200]!r} is not in the index: write paths with '/', relative to the indexed tree")
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    if cleaned.startswith("/") or any(part == ".." for part in cleaned.split("/")):
        raise NotFound(f"{path[:200]!r} is outside the indexed tree: give a path relative to it, without '..'")
    return cleaned


def inside(root: Path, path: str) -> Path | None:
    """The file at root/path when it really lies inside root: no '..', no absolute path, no symlink out."""
    try:
        base = root.resolve(strict=True)
        target = (base / path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def read_lines(target: Path, path: str, line_from: int, line_to: int | None) -> FileLines:
    """Lines line_from..line_to (default: 100 lines) of the file at target, within the bounds above."""
    lines = target.read_text(encoding="utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    last = min(len(lines), line_to if line_to is not None else line_from + 99, line_from + MAX_READ_LINES - 1)
    chosen, size = [], 0
    for text in lines[line_from - 1:last]:
        size += len(text) + 1
        if size > MAX_READ_CHARS and chosen:
            break
        chosen.append(text)
    return FileLines(path, line_from, line_from + len(chosen) - 1, len(lines), chosen)
