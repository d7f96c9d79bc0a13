"""README and docs pages → architecture queries: a heading and its first sentence → the files it names.

A README section says what a part of the library is for in the words its users read; the
files it names (by path, or by an identifier that only one file defines) are its answer.
Change logs, contribution guides and install or release sections say nothing of the kind.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from corpus_text import (
    MAX_WORDS,
    cap,
    first_sentence,
    is_code_name,
    looks_like_code,
    spell,
    to_query,
)
from corpus_tree import Candidate, Found, Tree, defined_once, is_library

from semsearch.query import query_words

# Headings of sections about the project rather than the code: by their first word, or whole.
_SKIP_HEADING_START = re.compile(r"^\W*(instal|licen[cs]|contribut|change ?log|download|requirement|sponsor|donat"
                                 r"|acknowledg|credit|copyright|code of conduct|table of contents|security)",
                                 re.IGNORECASE)
_SKIP_HEADING = re.compile(
    r"^\W*(instal\w*|licen[cs]e|contribut\w*|changelog|changes|history|authors?|credits|acknowledg\w*|support\w*"
    r"|donat\w*|sponsor\w*|(table of )?contents|requirements|dependencies|tests?|testing|running tests|develop\w*"
    r"|build\w*|download\w*|documentation|links|status|badges|release notes|versions?\b.*|faq|community|getting help"
    r"|contact|maintainers|copyright|news|roadmap|todo|security|code of conduct|see also|references|thanks|index"
    r"|indices and tables|api reference|readme|bugs|reporting bugs|author|legal|warranty|compil\w*( from source)?"
    r"|added|changed|fixed|removed|deprecated|breaking changes|unreleased|migrat\w*( guide)?|upgrad\w*)\W*$"
    r"|\bv?\d+\.\d+|\b(19|20)\d\d\b", re.IGNORECASE)  # a changelog's release headings
# Pages that are not documentation of the code: change logs, contribution and conduct guides.
_NOT_DOCS = re.compile(r"^(change|history|news|release|contribut|code.of.conduct|security|authors|maintainers"
                       r"|support|funding|upgrad|migrat|todo|copying|licen[cs]e|hack|coding|style|whats.?new)", re.IGNORECASE)
_DOC_FILE = re.compile(r"(^|/)(readme[^/]*|[^/]+\.(md|markdown|rst))$", re.IGNORECASE)
_PATH_MENTION = re.compile(r"[\w./-]+\.[A-Za-z]{1,5}\b")


@dataclass
class Section:
    heading: str
    rows: list[int]  # heading and first paragraph rows, 0-based
    sentence: str
    body: str  # the whole section, for the files it names


_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s*([=\-~^\"'*+#])\1{2,}\s*$")
_NOT_PROSE = re.compile(r"^\s*([-*+|<>!\[{]|\d+[.)]\s|\.\. |:\w+:|```|~~~|\s{4})")


def sections(text: str) -> list[Section]:
    """Headings (Markdown ATX and setext, reStructuredText) with their first prose paragraph."""
    lines = text.split("\n")
    heads: list[tuple[int, int, str]] = []  # (first row, last row, title)
    fenced = False
    for row, line in enumerate(lines):
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced:
            continue
        atx = _ATX.match(line)
        if atx:
            heads.append((row, row, atx.group(2)))
        elif row > 0 and _UNDERLINE.match(line) and lines[row - 1].strip() and not _UNDERLINE.match(lines[row - 1]) \
                and len(line.strip()) >= len(lines[row - 1].strip()) - 1:
            heads.append((row - 1, row, lines[row - 1].strip()))
    out = []
    for i, (first, last, title) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(lines)
        paragraph: list[int] = []
        fenced = False
        for row in range(last + 1, end):
            line = lines[row]
            if line.strip().startswith(("```", "~~~")):
                fenced = not fenced
                if paragraph:
                    break
                continue
            if fenced:
                continue
            if not line.strip():
                if paragraph:
                    break
                continue
            if _NOT_PROSE.match(line) or _UNDERLINE.match(line):
                if paragraph:
                    break
                continue
            paragraph.append(row)
        if paragraph:
            sentence = first_sentence("\n".join(lines[r] for r in paragraph))
            out.append(Section(title.strip(), list(range(first, last + 1)) + paragraph, sentence,
                               "\n".join(lines[first:end])))
    return out


def doc_files(top: Path, root: Path) -> Iterator[tuple[str, str, bool]]:
    """(path, text, inside the indexed root) for the package's README and docs pages.

    The pages inside the indexed root, the README at the top and Debian's copy of it; the top's
    docs folder only where the root is the project's own source folder, not a corner of a
    larger tree (Scala's compiler, Mono's class libraries), whose docs are about the rest.
    """
    shallow = len(root.relative_to(top).parts) <= 1
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top).as_posix()
        name = path.name.removesuffix(".gz")
        inside_root = path.is_relative_to(root)
        wanted = (inside_root and len(path.relative_to(root).parts) <= 4) or "/" not in rel \
            or rel.startswith("usr/share/doc/") or (shallow and re.match(r"docs?/", rel) is not None)
        if not path.is_file() or not _DOC_FILE.search(name) or _NOT_DOCS.match(name) or not wanted \
                or rel.count("/") > 6:
            continue
        if path.stat().st_size > 500_000:
            continue
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", errors="replace")
        inside = path.is_relative_to(root) and path.suffix != ".gz"
        yield (path.relative_to(root).as_posix() if inside else "@top/" + rel), text, inside


def named_files(body: str, tree: Tree, once: dict[str, tuple[str, Found]]) -> list[str]:
    """The library files a section names: by path, or by an identifier defined in one file only."""
    files = [p for p in tree.code_files() if is_library(p)]
    by_name: dict[str, list[str]] = {}
    for p in files:
        by_name.setdefault(PurePosixPath(p).name, []).append(p)
    mentions: Counter[str] = Counter()
    for m in _PATH_MENTION.findall(body):
        exact = [p for p in files if p == m or p.endswith("/" + m)]
        hits = exact or by_name.get(PurePosixPath(m).name, [])
        if len(hits) == 1:
            mentions[hits[0]] += 1
    code = " ".join(re.findall(r"`([^`]+)`", body) + re.findall(r"```.*?```", body, flags=re.DOTALL))
    for token in sorted(set(re.findall(r"[A-Za-z_][\w]{3,}", body))):
        if token in once and (is_code_name(token) or re.search(rf"\b{re.escape(token)}\b", code)):
            mentions[once[token][0]] += 1
    return [p for p, _ in mentions.most_common()] if 0 < len(mentions) <= 4 else []


def readme_candidates(top: Path, root: Path, tree: Tree) -> list[Candidate]:
    once = defined_once(tree)
    out = []
    for path, text, inside in doc_files(top, root):
        for s in sections(text):
            heading = re.sub(r"[`*_]+|\[([^\]]*)\]\([^)]*\)", r"\1", s.heading).strip()
            if _SKIP_HEADING.search(heading) or _SKIP_HEADING_START.match(heading) or len(heading.split()) > 8 \
                    or looks_like_code(heading):
                continue
            body = to_query(s.sentence)
            targets = named_files(s.body, tree, once)
            if not body or not targets:
                continue
            if set(query_words(heading)) <= set(query_words(body)):
                query = cap(body)
            else:
                heading = spell_heading(heading)
                query = f"{heading}: {cap(body, MAX_WORDS - len(heading.split()))}"
            indexed = inside and path in tree.texts
            out.append(Candidate("readme", query, s.sentence, targets, (path, s.rows[0] + 1),
                                 rows=(path, s.rows) if indexed else None))
    return out


def spell_heading(heading: str) -> str:
    return " ".join(spell(w) if is_code_name(w) else w for w in heading.split())
