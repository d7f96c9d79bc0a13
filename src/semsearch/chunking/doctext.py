"""Comment text as a reader sees it: what is left of a doc comment once its decoration goes.

Doc comments carry more than prose: rules of dashes and boxes, a project's ASCII-art banner
at the top of every file, Doxygen's `\\brief`, Haddock's `|` marker. Left in, they become
the "that does …" of a structure's sentence and the file's doc text, and every file of a
project repeats them.
"""

from __future__ import annotations

import re

# A command that introduces the text it precedes (Doxygen, JSDoc): the text stays, the command goes.
_LEAD_COMMAND = re.compile(r"^[\\@](brief|short|summary|description|fileoverview|overview|file)\b\s*", re.IGNORECASE)


def is_decoration(line: str) -> bool:
    """Mostly not letters: a rule, a box, ASCII art (curl's banner heads every one of its files)."""
    shown = [c for c in line if not c.isspace()]
    return sum(c.isalpha() for c in shown) < 0.4 * len(shown)


def clean_line(line: str) -> str:
    """A doc line without the art and markers in front of its words (`|_| XML parser` → `XML parser`,
    `| Parse a value` → `Parse a value`, `\\brief Gets x` → `Gets x`); decoration becomes ''."""
    if is_decoration(line):
        return ""
    words = line.split()
    while words and not any(c.isalnum() for c in words[0]):
        words.pop(0)
    return _LEAD_COMMAND.sub("", " ".join(words)) if words else ""


def clean_doc(text: str | None) -> str | None:
    """A structure's doc comment without decoration lines and leading markers; None when nothing is left."""
    if not text:
        return None
    lines = [clean_line(line) if line.strip() else "" for line in text.splitlines()]
    kept = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", kept) or None
