"""What a code search returns: hits, groups of hits, and the seed's merge of the two models' lists.

A hit carries its payload as stored; `path`, `line_from` and `line_to` read it. The merge marks
the lines where the text model's hits and the code model's agree, which the faces show.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from semsearch.structures import FOLDERS


@dataclass
class SearchHit:
    id: str
    score: float
    payload: dict[str, Any]
    overlap: list[list[int]] = field(default_factory=list)
    found_by: str = "text"
    repo: str | None = None  # the repository the hit is in (set by code_index from the payload)
    url: str | None = None  # its lines at the repository's source URL, when one is known

    @property
    def path(self) -> str:
        return self.payload.get("context", {}).get("file_path", "")

    @property
    def line_from(self) -> int:
        return int(self.payload.get("line_from", 0))

    @property
    def line_to(self) -> int:
        return int(self.payload.get("line_to", 0))

    def to_json(self) -> dict[str, Any]:
        p = self.payload
        ctx = p.get("context", {})
        return {
            "path": self.path, "line_from": self.line_from, "line_to": self.line_to,
            "name": p.get("name"), "signature": p.get("signature"), "code_type": p.get("code_type"),
            "language": p.get("language"), "score": round(self.score, 6), "overlap": self.overlap,
            "struct_name": ctx.get("struct_name"), "module": ctx.get("module"),
            "docstring": p.get("docstring"), "snippet": ctx.get("snippet"), "found_by": self.found_by,
            "repo": self.repo or p.get("repo"), "url": self.url, "deprecated": bool(p.get("deprecated")),
        }


@dataclass
class Group:
    value: Any
    hits: list[SearchHit]

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "hits": [h.to_json() for h in self.hits]}


def payload_value(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def mark_overlaps(hits: list[SearchHit], code_hits: list[SearchHit]) -> list[SearchHit]:
    """Record on each hit the line ranges that code-model hits in its file share with it.

    Returns the code hits that overlap none of the hits.
    """
    rest: list[SearchHit] = []
    for code_hit in code_hits:
        matched = False
        for hit in hits:
            if hit.path != code_hit.path or hit.payload.get("repo") != code_hit.payload.get("repo"):
                continue  # another file, or the same path in another repository
            lo = max(hit.line_from, code_hit.line_from)
            hi = min(hit.line_to, code_hit.line_to)
            if lo <= hi:
                hit.overlap.append([lo, hi])
                matched = True
        if not matched:
            rest.append(code_hit)
    for hit in hits:
        hit.overlap = _union(hit.overlap)
    return rest


def merge_overlapping(text_hits: list[SearchHit], code_hits: list[SearchHit]) -> list[SearchHit]:
    """The seed's merge: fold code hits into overlapping text hits, append the rest."""
    rest = mark_overlaps(text_hits, code_hits)
    for hit in text_hits:
        if hit.overlap:
            hit.found_by = "both"
    return text_hits + rest


def _union(ranges: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def group_value(hit: SearchHit, field: str) -> Any:
    """What a hit is grouped under: its payload's value, or for the folder alias the folder holding its file.

    A folder filter means "this folder or below", but grouping puts a hit under one folder: its own.
    Newer collections do not store the folders at all (a folder filter is a path-prefix match there).
    """
    if field == FOLDERS:
        return posixpath.dirname(hit.path) or "."
    return payload_value(hit.payload, field)


def group_hits(hits: list[SearchHit], field: str, limit: int, group_size: int) -> list[Group]:
    """Best `group_size` hits per distinct value of `field`, groups in order of their best hit."""
    groups: dict[str, Group] = {}
    for hit in hits:
        value = group_value(hit, field)
        key = repr(value)
        group = groups.get(key)
        if group is None:
            if len(groups) >= limit:
                continue
            group = groups[key] = Group(value, [])
        if len(group.hits) < group_size:
            group.hits.append(hit)
    return list(groups.values())
