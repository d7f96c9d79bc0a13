"""Queries mined from a package's own documentation, and the stripped copy they are scored on.

Four rules, each a kind of question the hidden repositories are asked:
- module-doc (architecture): a file's leading doc sentence → that file;
- doc (semantic): a function's or type's doc sentence, its own name removed → its file;
- identifier (symbol): a distinctive public name defined once → its definition's lines;
- readme (architecture): a README or docs heading and its first sentence → the files it names.
At most PER_RULE per rule and package, spread over files, so no package or file dominates.
The doc text each query came from is blanked in the copy that is indexed, and a query whose
words still occur anywhere in that copy is dropped.
"""

from __future__ import annotations

import filecmp
import gzip
import json
import os
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from corpus_fetch import CORPUS, Package, named_folders, top_folder
from corpus_strip import Blank, blank_docs, blank_rows
from corpus_text import (
    cap,
    first_sentence,
    is_code_name,
    looks_like_code,
    normalised,
    spell,
    to_query,
)

from semsearch.chunking import chunk_source
from semsearch.chunking.languages import SPECS, detect_language
from semsearch.chunking.treesitter import Found, find_structures, strip_comment
from semsearch.query import query_words, split_words
from semsearch.ranking import is_test_path
from semsearch.walk import walk

REPOS = CORPUS / "repos"
QUERIES = CORPUS / "queries"
# At most this many queries per rule and package: no package dominates. Symbols are fewer, as in the
# development set (a fifth of its queries): one name is a cheaper question than a sentence.
PER_RULE = {"module-doc": 15, "doc": 15, "identifier": 8, "readme": 15}
ROUNDS = 3  # blank, verify, refill what failed
CATEGORY = {"module-doc": "architecture", "doc": "semantic", "identifier": "symbol", "readme": "architecture"}
DOC_TYPES = frozenset({"Function", "Method", "Class", "Struct", "Interface", "Trait", "Enum", "Type", "Macro",
                       "Protocol", "Object", "Impl", "Module"})
SYMBOL_TYPES = {"Class": 0, "Struct": 0, "Interface": 0, "Trait": 0, "Enum": 0, "Type": 0, "Protocol": 0,
                "Object": 0, "Module": 1, "Macro": 1, "Function": 1, "Method": 2}
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
_PLAIN_NAME = re.compile(r"^[A-Za-z_$][\w$]*[?!]?$")  # not `A::B`, `Foo<T>` nor a setter `x=`
# Test files that the ranking's path rules do not name (`mock-log_unittest.cc`, `FooTests.cs`).
_TEST_FILE = re.compile(r"(^|/|_)(unit)?tests?([_./-]|$)|_unittest\.", re.IGNORECASE)
_DOC_FILE = re.compile(r"(^|/)(readme[^/]*|[^/]+\.(md|markdown|rst))$", re.IGNORECASE)
_NAMED = {True: "left out a bundled copy", False: "kept (a module of its own: no licence or manifest in it)"}
_PATH_MENTION = re.compile(r"[\w./-]+\.[A-Za-z]{1,5}\b")


@dataclass
class Candidate:
    rule: str
    query: str
    sentence: str  # the doc text it was written from: it must not survive in the stripped copy
    relevant: list[Any]
    origin: tuple[str, int]  # (path, 1-based line)
    blanks: list[Blank] = field(default_factory=list)
    rows: tuple[str, list[int]] | None = None  # a prose file's rows to blank (README inside the root)
    name: str = ""  # for identifier queries: the structure that must stay indexed
    tier: int = 0  # for identifier queries: types before functions before methods


@dataclass
class Tree:
    """The walked copy: what the indexer reads, with every definition found in it."""

    texts: dict[str, str]
    languages: dict[str, str]
    generated: set[str]  # files whose header says a tool wrote them (flex's scanner.c): no doc of theirs is asked for
    definitions: dict[str, list[Found]]
    heads: dict[str, tuple[str, int]]  # path -> (leading doc, last row of the head window)
    structures: int = 0

    def code_files(self) -> list[str]:
        """Source files in a language with structures, except those a tool generated."""
        return [p for p in self.texts if self.languages[p] in SPECS and p not in self.generated]


def _flatten(found: list[Found]) -> Iterator[Found]:
    for f in found:
        yield f
        yield from _flatten(f.children)


def read_tree(root: Path) -> Tree:
    tree = Tree({}, {}, set(), {}, {})
    for source in walk(root):
        language = detect_language(source.path, source.text)
        tree.texts[source.path] = source.text
        tree.languages[source.path] = language
        try:
            structures = chunk_source(source.path, source.text, language)
            found = list(_flatten(find_structures(source.text, language))) if language in SPECS else []
        except Exception:  # noqa: BLE001, S112 - the indexer skips a file its parser rejects; so do we
            continue
        tree.structures += len(structures)
        if any(s.extra.get("generated") for s in structures[:1]):
            tree.generated.add(source.path)
        tree.definitions[source.path] = found
        head = structures[0] if structures and structures[0].code_type == "Block" else None
        if head is not None and head.docstring:
            lines = source.text.split("\n")[: head.line_to]
            tree.heads[source.path] = (_with_paragraphs(lines, head.docstring, language), head.line_to - 1)
    return tree


def _with_paragraphs(lines: list[str], doc: str, language: str) -> str:
    """A head comment read again from its lines: the chunker joins its paragraphs, and a first
    sentence must end where its paragraph does."""
    spec = SPECS.get(language)
    if spec is None:
        return doc
    stripped = [strip_comment(line.strip(), spec) for line in lines]
    first = doc.splitlines()[0].strip()
    if first not in stripped:
        return doc  # a docstring: its paragraphs are there already
    start = stripped.index(first)
    out = []
    for raw, text in zip(lines[start:], stripped[start:]):
        if not raw.strip():
            break
        out.append(text)
    return "\n".join(out)


def _is_library(path: str, found: Found | None = None) -> bool:
    """Code the library is made of: not a test, an example or a type stub repeating a signature."""
    return not is_test_path(path) and not _TEST_FILE.search(path) and not path.endswith((".pyi", ".d.ts")) \
        and not (found is not None and found.test)


def module_doc_candidates(tree: Tree) -> list[Candidate]:
    out = []
    for path in tree.code_files():
        if not _is_library(path):
            continue
        doc, last_row = tree.heads.get(path, ("", 0))
        rows = tree.texts[path].count("\n") + 1
        if not doc:  # a module that is the whole file (Elixir's defmodule, Ruby's module) speaks for it
            whole = [f for f in tree.definitions.get(path, []) if f.code_type == "Module" and f.docstring
                     and f.end - f.start + 1 >= 0.7 * rows]
            if not whole:
                continue
            doc = whole[0].docstring or ""
            last_row = whole[0].name_row + doc.count("\n") + 3
        sentence = first_sentence(_without_file_name(doc, path))
        query = to_query(sentence)
        if query:
            out.append(Candidate("module-doc", query, sentence, [path], (path, 1), [Blank(path, 0, last_row, doc)]))
    return out


def _without_file_name(doc: str, path: str) -> str:
    """An Xcode or C header opens with the file's name on a line of its own: not a sentence."""
    lines = doc.splitlines()
    name = PurePosixPath(path).name
    while lines and lines[0].strip() in (name, PurePosixPath(path).stem, ""):
        lines = lines[1:]
    return "\n".join(lines)


def doc_candidates(tree: Tree) -> list[Candidate]:
    out = []
    for path in tree.code_files():
        if not _is_library(path):
            continue
        for f in tree.definitions.get(path, []):
            if f.code_type not in DOC_TYPES or not f.docstring or not _is_library(path, f):
                continue
            sentence = first_sentence(f.docstring)
            query = to_query(sentence, f.name)
            if not query:
                continue
            last = max(f.name_row, f.body_row or f.name_row) + f.docstring.count("\n") + 2
            out.append(Candidate("doc", query, sentence, [path], (path, f.name_row + 1),
                                 [Blank(path, f.doc_start, last, f.docstring)]))
    return out


def _distinctive(name: str, language: str) -> bool:
    words = split_words(name)
    if name.startswith(("_", "$")) or len(words) < 2 or (language == "go" and not name[0].isupper()):
        return False
    if "_" in name.strip("_"):
        return len(name) >= 10 and not name.isupper()
    return len(name) >= 6 and not (len(words) == 2 and words[0] in ("get", "set", "is", "has", "to", "on", "new"))


def defined_once(tree: Tree) -> dict[str, tuple[str, Found]]:
    """Names defined exactly once in the library's code (tests and examples aside)."""
    places: dict[str, list[tuple[str, Found]]] = {}
    for path in tree.code_files():
        for f in tree.definitions.get(path, []):
            if _is_library(path, f):
                places.setdefault(f.name, []).append((path, f))
    return {name: where[0] for name, where in places.items() if len(where) == 1}


def identifier_candidates(tree: Tree) -> list[Candidate]:
    out = []
    for name, (path, f) in defined_once(tree).items():
        if f.code_type in SYMBOL_TYPES and _PLAIN_NAME.match(name) and _distinctive(name, tree.languages[path]):
            span = {"path": path, "start_line": f.start + 1, "end_line": f.end + 1}
            out.append(Candidate("identifier", name, "", [span], (path, f.name_row + 1), name=name,
                                 tier=SYMBOL_TYPES[f.code_type]))
    return out


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
        for row in range(last + 1, end):
            line = lines[row]
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
    files = [p for p in tree.code_files() if _is_library(p)]
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
    for token in set(re.findall(r"[A-Za-z_][\w]{3,}", body)):
        if token in once and (is_code_name(token) or re.search(rf"\b{re.escape(token)}\b", code)):
            mentions[once[token][0]] += 1
    return [p for p, _ in mentions.most_common()] if 0 < len(mentions) <= 4 else []


def readme_candidates(top: Path, root: Path, tree: Tree) -> list[Candidate]:
    once = defined_once(tree)
    out = []
    for path, text, inside in doc_files(top, root):
        for s in sections(text):
            heading = re.sub(r"[`*_]+|\[([^\]]*)\]\([^)]*\)", r"\1", s.heading).strip()
            if _SKIP_HEADING.search(heading) or len(heading.split()) > 8 or looks_like_code(heading):
                continue
            body = to_query(s.sentence)
            targets = named_files(s.body, tree, once)
            if not body or not targets:
                continue
            head_words = set(query_words(heading))
            query = body if head_words <= set(query_words(body)) else f"{spell_heading(heading)}: {body}"
            query = cap(query)
            indexed = inside and path in tree.texts
            out.append(Candidate("readme", query, s.sentence, targets, (path, s.rows[0] + 1),
                                 rows=(path, s.rows) if indexed else None))
    return out


def spell_heading(heading: str) -> str:
    return " ".join(spell(w) if is_code_name(w) else w for w in heading.split())


def spread(candidates: list[Candidate], rng: random.Random) -> list[Candidate]:
    """Candidates in an order that visits every file before a file's second one."""
    by_file: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_file.setdefault(c.origin[0], []).append(c)
    groups = list(by_file.values())
    rng.shuffle(groups)
    for g in groups:
        rng.shuffle(g)
    out = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


class Stripper:
    """The copy's texts with docs blanked so far, and the check that a query's words are gone."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.texts = dict(tree.texts)
        self.changed: set[str] = set()
        self._flat: str | None = None

    def apply(self, candidates: list[Candidate]) -> None:
        blanks: dict[str, list[Blank]] = {}
        for c in candidates:
            for b in c.blanks:
                blanks.setdefault(b.path, []).append(b)
            if c.rows is not None:
                path, rows = c.rows
                self.texts[path] = blank_rows(self.texts[path], rows)
                self.changed.add(path)
        for path, items in blanks.items():
            self.texts[path] = blank_docs(self.texts[path], self.tree.languages[path], items)
            self.changed.add(path)
        self._flat = None

    def survives(self, c: Candidate) -> bool:
        """Whether the doc sentence or the query still occurs in the copy (word for word)."""
        if self._flat is None:
            self._flat = " " + " \0 ".join(normalised(t) for t in self.texts.values()) + " "
        probes = [normalised(c.sentence), normalised(c.query)] if c.rule != "identifier" else []
        return any(p and f" {p} " in self._flat for p in probes)

    def still_indexed(self, c: Candidate) -> bool:
        """An identifier's definition is still a structure of the stripped file, at its lines."""
        if c.rule != "identifier":
            return True
        span = c.relevant[0]
        text = self.texts[span["path"]]
        return any(s.name == c.name and s.line_from <= span["end_line"] and span["start_line"] <= s.line_to
                   for s in chunk_source(span["path"], text, self.tree.languages[span["path"]]))


def select(pools: dict[str, list[Candidate]], stripper: Stripper) -> list[Candidate]:
    """Up to PER_RULE per rule: blank what they came from, keep those whose words are gone."""
    accepted: dict[str, list[Candidate]] = {rule: [] for rule in pools}
    seen: set[str] = set()
    cursor = dict.fromkeys(pools, 0)
    for _ in range(ROUNDS):
        batch = []
        for rule, pool in pools.items():
            need = PER_RULE[rule] - len(accepted[rule])
            while need > 0 and cursor[rule] < len(pool):
                c = pool[cursor[rule]]
                cursor[rule] += 1
                key = normalised(c.query)
                if key not in seen:
                    seen.add(key)
                    batch.append(c)
                    need -= 1
        if not batch:
            break
        stripper.apply(batch)
        for c in batch:
            if not stripper.survives(c) and stripper.still_indexed(c):
                accepted[c.rule].append(c)
    return [c for rule in pools for c in accepted[rule]]


def mine(package: Package) -> tuple[list[dict[str, Any]], Tree, list[str]]:
    """The package's queries, written with its stripped copy; also what was left out as vendored."""
    top = top_folder(package)
    root = top / package.root if package.root else top
    named = named_folders(root)
    staging = REPOS / f"{package.id}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    skip = {folder.resolve() for folder, _, bundled in named if bundled}
    shutil.copytree(root, staging, symlinks=True,
                    ignore=lambda d, names: [n for n in names if (Path(d) / n).resolve() in skip])
    tree = read_tree(staging)
    rng = random.Random(package.id)
    pools = {"module-doc": spread(module_doc_candidates(tree), rng), "doc": spread(doc_candidates(tree), rng),
             "identifier": spread_symbols(identifier_candidates(tree), rng),
             "readme": spread(readme_candidates(top, root, tree), rng)}
    stripper = Stripper(tree)
    chosen = select(pools, stripper)
    for path in stripper.changed:
        (staging / path).write_text(stripper.texts[path], encoding="utf-8")
    _sync(staging, REPOS / package.id)
    shutil.rmtree(staging)
    rows = [{"query": c.query, "category": CATEGORY[c.rule], "rule": c.rule, "language": package.language,
             "relevant": c.relevant, "from": {"path": c.origin[0], "line": c.origin[1]}} for c in chosen]
    return rows, tree, [f"{_NAMED[bundled]}: {folder.relative_to(top)} (named like {project})"
                        for folder, project, bundled in named]


def _sync(source: Path, target: Path) -> None:
    """Make target a copy of source, touching only the files that differ (an index of it stays valid)."""
    wanted = {p.relative_to(source) for p in source.rglob("*") if not p.is_dir()}
    if target.exists():
        for p in sorted(target.rglob("*"), reverse=True):
            if not p.is_dir() and p.relative_to(target) not in wanted:
                p.unlink()
    for rel in sorted(wanted):
        a, b = source / rel, target / rel
        same = b.is_symlink() == a.is_symlink() and (os.readlink(a) == os.readlink(b) if a.is_symlink() else
                                                     b.is_file() and filecmp.cmp(a, b, shallow=False))
        if not same:
            b.parent.mkdir(parents=True, exist_ok=True)
            if b.is_symlink() or b.exists():
                b.unlink()
            shutil.copy2(a, b, follow_symlinks=False)


def spread_symbols(candidates: list[Candidate], rng: random.Random) -> list[Candidate]:
    """Types before functions before methods, each tier spread over files."""
    tiers: dict[int, list[Candidate]] = {}
    for c in candidates:
        tiers.setdefault(c.tier, []).append(c)
    return [c for tier in sorted(tiers) for c in spread(tiers[tier], rng)]


def write_queries(package: Package) -> dict[str, Any]:
    rows, tree, vendored = mine(package)
    QUERIES.mkdir(parents=True, exist_ok=True)
    with (QUERIES / f"{package.id}.jsonl").open("w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    return {"files": len(tree.texts), "structures": tree.structures, "queries": Counter(r["rule"] for r in rows),
            "vendored": vendored}
