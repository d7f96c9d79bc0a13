"""Blank the doc text a query was written from, in place, in the copy that is indexed.

CodeSearchNet strips the docstring from the function it pairs with it; otherwise a query
finds its own words. Here the whole tree stays: a doc comment or docstring keeps its
markers, quotes and line breaks and loses its words, so every line number and every parse
is what it was, and a target's span means the same lines in the copy as in the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus_text import normalised
from tree_sitter import Node

from semsearch.chunking.treesitter import parser_for

# Nodes that hold doc text: comments in every grammar, docstrings and Elixir's @doc heredocs.
_STRING_CONTENT = frozenset({"string_content", "quoted_content"})
_RUBY_MARKERS = re.compile(rb"^=(begin|end)\b", re.MULTILINE)
_WORD_BYTE = re.compile(rb"[A-Za-z0-9_]|[\x80-\xff]")


@dataclass(frozen=True)
class Blank:
    """Doc text to blank: the rows it lies in (0-based, inclusive) and the text itself."""

    path: str
    first_row: int
    last_row: int
    doc: str


def blank_bytes(data: bytearray, start: int, end: int) -> None:
    """Word characters in data[start:end] become spaces; markers, quotes and newlines stay."""
    protected = [(m.start(), m.end()) for m in _RUBY_MARKERS.finditer(data, start, end)]
    for match in _WORD_BYTE.finditer(data, start, end):
        if not any(a <= match.start() < b for a, b in protected):
            data[match.start()] = 0x20


def _doc_nodes(node: Node, first_row: int, last_row: int) -> list[Node]:
    """Comment nodes and docstring contents that lie within the rows."""
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        if current.end_point.row < first_row or current.start_point.row > last_row:
            continue
        if "comment" in current.type or current.type == "haddock" or \
                (current.type in _STRING_CONTENT and _is_docstring(current)):
            out.append(current)
            continue
        stack.extend(current.children)
    return out


def _is_docstring(content: Node) -> bool:
    """A string statement (Python's docstring) or the string of an attribute (Elixir's @doc), not a
    string inside code such as an annotation or a default value."""
    string = content.parent
    if string is None or string.parent is None:
        return False
    if string.parent.type in ("expression_statement", "block", "module"):
        return True  # a string statement (the grammar wraps it in an expression_statement or not)
    node: Node | None = string
    for _ in range(4):
        node = node.parent if node is not None else None
        if node is not None and node.type == "unary_operator":
            return True
    return False


def _matches(node_text: str, doc_words: set[str]) -> bool:
    """A node belongs to the doc when most of its words are the doc's words."""
    words = normalised(node_text).split()
    return bool(words) and sum(w in doc_words for w in words) >= 0.6 * len(words)


def blank_docs(text: str, language: str, blanks: list[Blank]) -> str:
    """The file with each doc's comment and string nodes blanked (parsed with the product's grammar)."""
    data = bytearray(text.encode("utf-8"))
    tree = parser_for(language).parse(bytes(data))
    for blank in blanks:
        doc_words = set(normalised(blank.doc).split())
        for node in _doc_nodes(tree.root_node, blank.first_row, blank.last_row):
            if _matches((node.text or b"").decode("utf-8", errors="replace"), doc_words):
                blank_bytes(data, node.start_byte, node.end_byte)
    return data.decode("utf-8", errors="replace")


def blank_rows(text: str, rows: list[int]) -> str:
    """A prose file (README, docs) with the words of the given rows blanked."""
    lines = text.split("\n")
    for row in rows:
        line = bytearray(lines[row].encode("utf-8"))
        blank_bytes(line, 0, len(line))
        lines[row] = line.decode("utf-8", errors="replace")
    return "\n".join(lines)
