"""What a file's text says about the file as a whole: generated, or only re-exporting.

Both are recorded on every structure of the file (payload `generated` / `reexport`), so the
ranking can put them after the code they come from or point to without reading snippets.
The path alone says the rest (tests, examples, stubs: ranking.role); a `.gitattributes` can
mark a file generated too (walk.py, linguist-generated / linguist-vendored).
"""

from __future__ import annotations

import re

# The markers code generators write near the top of what they produce.
_GENERATED = re.compile(
    r"@generated\b|\bCode generated\b.*\bDO NOT EDIT\b|\b(auto-?generated|automatically generated)\b"
    r".{0,80}\b(do not (edit|modify)|changes .{0,40} lost)|\bDO NOT EDIT\b.{0,80}\bgenerated\b"
    r"|\bthis file is an amalgamation\b",  # SQLite's and others' single-file builds
    re.IGNORECASE)
HEAD_CHARS = 2000

# Lines that only bring names in or pass them on, per family of syntax.
_REEXPORT_LINE = re.compile(
    r"^(from\s+\S+\s+import\b.*|import\s+\S.*|__all__\s*[:=+].*|__version__\s*=.*"  # Python
    r"|export\s+(\*|\{[^}]*\}|type\s+\{[^}]*\})(\s+as\s+\w+)?\s+from\s+['\"].*|export\s+\{[^}]*\};?"  # JS/TS
    r"|export\s+(default\s+)?\w+\s*;?|export\s+type\s+\*\s+from\s+.*"
    r"|(pub(\([^)]*\))?\s+)?(use|mod)\s+[\w:{}, *]+;|extern\s+crate\s+\w+;"  # Rust
    r"|package\s+[\w.]+;?"  # Java / Go
    r"|require(_relative)?\s*\(?['\"].*|module\.exports\s*=\s*require\(.*)$"  # Ruby, CommonJS
)
_COMMENT_LINE = re.compile(r"^(#|//|/\*|\*|\*/|--|\"\"\"|''').*")


def is_generated(text: str) -> bool:
    """A generator's marker in the file's first lines."""
    return bool(_GENERATED.search(text[:HEAD_CHARS]))


def is_reexport_only(text: str) -> bool:
    """Every line that is not blank or a comment imports or re-exports names (and there is one).

    Such files (`__init__.py`, `index.ts` barrels, `mod.rs` lists) name the code elsewhere.
    A continued statement (a parenthesised import list) counts as the line that opened it.
    """
    statements = 0
    open_brackets = 0
    in_docstring = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_docstring:
            in_docstring = not (line.endswith('"""') or line.endswith("'''"))
            continue
        if not line:
            continue
        if open_brackets > 0:
            open_brackets += _depth(line)
            continue
        if line.startswith(('"""', "'''")) and not (len(line) > 3 and line.endswith(line[:3])):
            in_docstring = True
            continue
        if _COMMENT_LINE.match(line):
            continue
        depth = _depth(line)
        opener = re.match(r"^(from\s+\S+\s+import|export|__all__\s*[:=+]|(pub\s+)?use)\b", line)
        if not (_REEXPORT_LINE.match(line) or (opener and depth > 0)):
            return False
        open_brackets = max(depth, 0)
        statements += 1
    return statements > 0


def _depth(line: str) -> int:
    """Brackets a line opens minus those it closes."""
    return sum(line.count(c) for c in "({[") - sum(line.count(c) for c in ")}]")
