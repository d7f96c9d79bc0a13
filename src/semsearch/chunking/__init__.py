"""Source file → Structure records.

Structures come from tree-sitter where the language has a grammar. Whatever lies outside
every structure (module-level code, scripts, files without a grammar) becomes line
windows, so every line of the tree is searchable. Long structures are split into parts
that repeat their signature line, so each part still says what it belongs to.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from semsearch.chunking.doctext import clean_line
from semsearch.chunking.flags import is_generated, is_reexport_only
from semsearch.chunking.languages import SPECS, LanguageSpec, detect_language
from semsearch.chunking.treesitter import Found, find_structures, strip_comment
from semsearch.structures import Context, Structure

MAX_LINES = 60  # a structure longer than this is split into parts
PART_LINES = 40  # target length of a part and of a line window
SKELETON_LINES = 80  # a container's outline is cut after this many lines
MIN_WINDOW_CHARS = 8  # windows with fewer alphanumeric characters say nothing
HEAD_NAMES = 40  # names a file's head window lists of what the file defines


def module_of(path: str) -> str:
    """The tutorial's module: the folder holding the file, or the file's stem at the root."""
    pure = PurePosixPath(path)
    return pure.parent.name or pure.stem


def chunk_source(path: str, text: str, language: str | None = None) -> list[Structure]:
    """All Structure records for one file, sorted by line."""
    language = language or detect_language(path, text)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    context = _ContextMaker(path, language, lines)
    structures: list[Structure] = []
    covered: list[tuple[int, int]] = []
    top: list[Found] = find_structures(text, language) if language in SPECS else []
    for found in top:
        covered.append((found.doc_start, found.end))
        structures.extend(context.from_found(found))
    structures.extend(context.windows(covered, [f.name for f in top]))
    structures.sort(key=lambda s: (s.line_from, -s.line_to))
    flags = {"generated": is_generated(text), "reexport": language in SPECS and is_reexport_only(text)}
    for structure in structures:
        structure.extra.update({k: True for k, v in flags.items() if v})
    return structures


class _ContextMaker:
    """Turns located structures and uncovered line runs of one file into records."""

    def __init__(self, path: str, language: str, lines: list[str]) -> None:
        self.path = path
        self.language = language
        self.lines = lines
        self.file_name = PurePosixPath(path).name
        self.module = module_of(path)

    def record(self, *, name: str, signature: str, code_type: str, docstring: str | None,
               line: int, line_from: int, line_to: int, struct_name: str | None, snippet: str,
               part: int | None = None, parts: int | None = None) -> Structure:
        return Structure(
            name=name, signature=signature, code_type=code_type, docstring=docstring,
            line=line, line_from=line_from, line_to=line_to, language=self.language,
            part=part, parts=parts,
            context=Context(module=self.module, file_path=self.path, file_name=self.file_name,
                            struct_name=struct_name, snippet=snippet),
        )

    def from_found(self, found: Found) -> list[Structure]:
        out: list[Structure] = []
        if found.children:
            out.append(self._container(found))
            for child in found.children:
                out.extend(self.from_found(child))
        else:
            out.extend(self._with_parts(found))
        return out

    def _container(self, found: Found) -> Structure:
        """A class-like record whose snippet is its outline: members reduced to their heads."""
        keep: list[str] = []
        row = found.start
        for child in found.children:
            keep.extend(self.lines[row:_head_end(child) + 1])
            if child.end > _head_end(child):
                indent = self.lines[child.start][: len(self.lines[child.start]) - len(self.lines[child.start].lstrip())]
                keep.append(f"{indent}    ...")
            row = max(row, child.end + 1)
        keep.extend(self.lines[row:found.end + 1])
        if len(keep) > SKELETON_LINES:
            keep = keep[:SKELETON_LINES] + ["    ..."]
        return self._record(found, found.start, found.end, "\n".join(keep))

    def _with_parts(self, found: Found) -> list[Structure]:
        total = found.end - found.start + 1
        if total <= MAX_LINES:
            return [self._record(found, found.start, found.end, self._slice(found.start, found.end))]
        ranges = _split(self.lines, found.start, found.end)
        header = self.lines[found.start: _head_end(found) + 1]
        out = []
        for number, (a, b) in enumerate(ranges, start=1):
            snippet = self._slice(a, b)
            if number > 1:
                snippet = "\n".join(header) + "\n    ...\n" + snippet
            out.append(self._record(found, a, b, snippet, part=number, parts=len(ranges)))
        return out

    def _record(self, found: Found, start: int, end: int, snippet: str,
                part: int | None = None, parts: int | None = None) -> Structure:
        first_part = part in (None, 1)
        record = self.record(
            name=found.name, signature=found.signature, code_type=found.code_type,
            docstring=found.docstring, line=(found.name_row if first_part else start) + 1,
            line_from=start + 1, line_to=end + 1, struct_name=found.struct_name,
            snippet=snippet, part=part, parts=parts,
        )
        if found.test:
            record.extra["test"] = True
        if found.deprecated:
            record.extra["deprecated"] = True
        return record

    def windows(self, covered: list[tuple[int, int]], defines: list[str]) -> list[Structure]:
        """Line windows over every run of lines that no structure covers.

        The file's head window (the first one, when it opens the file) also carries the
        file's leading doc text and the names the file defines: it stands for the file.
        """
        is_covered = [False] * len(self.lines)
        for a, b in covered:
            for row in range(a, min(b, len(self.lines) - 1) + 1):
                is_covered[row] = True
        out: list[Structure] = []
        row = 0
        while row < len(self.lines):
            if is_covered[row]:
                row += 1
                continue
            run_end = row
            while run_end + 1 < len(self.lines) and not is_covered[run_end + 1]:
                run_end += 1
            for a, b in _split(self.lines, row, run_end):
                a, b = _trim_blank(self.lines, a, b)
                if a > b:
                    continue
                snippet = self._slice(a, b)
                if sum(ch.isalnum() for ch in snippet) < MIN_WINDOW_CHARS:
                    continue
                first = next(line.strip() for line in self.lines[a:b + 1] if line.strip())
                record = self.record(
                    name=self.file_name, signature=first[:120], code_type="Block", docstring=None,
                    line=a + 1, line_from=a + 1, line_to=b + 1, struct_name=None, snippet=snippet,
                )
                if not out and not any(line.strip() for line in self.lines[:a]):
                    record.docstring = leading_doc(self.lines[a:b + 1], self.language)
                    if defines:
                        record.extra["defines"] = list(dict.fromkeys(defines))[:HEAD_NAMES]
                out.append(record)
            row = run_end + 1
        return out

    def _slice(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start:end + 1])


def leading_doc(lines: list[str], language: str) -> str | None:
    """The doc text opening a file: a Python module docstring or a leading comment block.

    A licence header is not what the file is about, and every file of a project repeats it:
    the doc text ends where a licence line starts, and a block that opens with one is
    skipped for the doc text after it (a Go package comment, a module docstring).
    """
    body = [line.strip() for line in lines]
    while body:
        while body and (not body[0] or _PRAGMA.match(body[0])):
            body = body[1:]
        doc, used = _first_doc(body, SPECS.get(language))
        if doc is None:
            return None
        kept = []
        for line in doc.splitlines():
            field = _HEADER_FIELD.match(line)
            if field:  # Haddock's `Module : Data.Aeson` … fields: only a Description is doc text
                if field.group(1).lower() == "description":
                    kept.append(line[field.end():].strip())
                continue
            if _METADATA_TAG.match(line):
                continue  # `@author …`, `@copyright …`, `@module YMap`: about the file, not what it does
            if _LICENCE.search(line):
                break
            if line:
                line = clean_line(line)  # a rule, a banner's ASCII art, Haddock's `|`: gone
                if not line:
                    continue
            kept.append(line)
        if any(kept):
            return "\n".join(kept).strip()
        body = body[used:]
    return None


# Lines that talk to a tool, not to the reader: a shebang, encoding and other magic comments,
# Haskell's {-# LANGUAGE … #-} pragmas.
_PRAGMA = re.compile(r"^(#!|\{-#|///\s*<reference\b|(#|//|/\*)\s*(-\*-.*-\*-"
                     r"|(frozen_string_literal|encoding|coding|warn_indent|typed|shareable_constant_value)\s*[:=]|@ts-|eslint|jshint|prettier-|@flow\b|istanbul |go:build"
                     r"|\+build\b|vim:|rubocop:|pylint:|mypy:|flake8|noqa|type:\s*ignore|clang-format|nolint))",
                     re.IGNORECASE)


# A field of a module header (Haddock's convention, which most Haskell files follow).
_HEADER_FIELD = re.compile(r"^(module|copyright|license|licence|maintainer|stability|portability|author|description)"
                           r"\s*:\s*", re.IGNORECASE)

# A tag line of a file's doc comment that says who and what version, not what the file does.
_METADATA_TAG = re.compile(r"^@(author|module|classmod|submodule|script|release|copyright|license|licence|version|since"
                           r"|prettier|flow|format|jsx|internal|package|namespace|requires|see|ts-nocheck|preserve)\b",
                           re.IGNORECASE)


# A line of a licence header rather than of a file's own doc text.
_LICENCE = re.compile(r"^\W*(copyright\b|\(c\)|©|spdx-license-identifier)|licensed (under|to)\b"
                      r"|permission is hereby granted|contributor license agreement|copyright notice|permission notice"
                      r"|\b(apache|mit|bsd|mozilla public|eclipse public) licen[cs]e\b"
                      r"|all rights reserved|this source code form is subject to|this file is part of"
                      r"|general public license|use of this source code is governed by", re.IGNORECASE)


def _first_doc(body: list[str], spec: LanguageSpec | None) -> tuple[str | None, int]:
    """The first docstring or comment block of `body` (stripped lines), and the lines it spans."""
    if not body:
        return None, 0
    for quote in ('"""', "'''"):
        if body[0].lstrip("rRuU").startswith(quote):
            text = "\n".join(body)
            start = text.index(quote) + 3
            end = text.find(quote, start)
            if end == -1:
                return None, 0
            return text[start:end].strip() or None, text.count("\n", 0, end) + 1
    if spec is None:
        return None, 0
    comment = []
    closing: str | None = None  # inside a block comment until this
    for line in body:
        if closing is not None:  # every line of an open block comment, prefixed with `*` or not
            comment.append(strip_comment(line, spec))
            if closing in line:
                break  # a block comment is one doc: a licence banner's block is not the next comment's
            continue
        opened = next((b for b in spec.block_comments if line.startswith(b[0])), None)
        if opened is not None:
            comment.append(strip_comment(line, spec))
            if opened[1] in line[len(opened[0]):]:
                break
            closing = opened[1]
            continue
        if line.startswith(spec.line_comments or ("\0",)):
            comment.append(strip_comment(line, spec))
            continue
        break
    return "\n".join(c for c in comment if c).strip() or None, len(comment)


def _head_end(found: Found) -> int:
    """Last row of a structure's head: its signature, up to where the body starts."""
    if found.body_row is None:
        return found.start if found.end > found.start else found.end
    return max(found.name_row, min(found.body_row, found.end))


def _trim_blank(lines: list[str], a: int, b: int) -> tuple[int, int]:
    while a <= b and not lines[a].strip():
        a += 1
    while b >= a and not lines[b].strip():
        b -= 1
    return a, b


def _split(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """Cut rows start..end into pieces of about PART_LINES, preferring blank lines as cuts."""
    if end - start + 1 <= MAX_LINES:
        return [(start, end)]
    pieces = []
    a = start
    while a <= end:
        b = min(a + PART_LINES - 1, end)
        if end - b < PART_LINES // 4:
            b = end  # don't leave a tiny tail
        else:
            for cut in range(b, b - PART_LINES // 4, -1):
                if not lines[cut].strip():
                    b = cut
                    break
        pieces.append((a, b))
        a = b + 1
    return pieces

