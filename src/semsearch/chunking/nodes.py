"""Small readers of tree-sitter nodes that the chunker's modules share."""

from __future__ import annotations

from tree_sitter import Node


def text_of(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", errors="replace") if node is not None else ""


def descendants(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.named_children))
    return out
