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
import json
import os
import random
import re
import shutil
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

from corpus_fetch import CORPUS, Package, named_folders, top_folder
from corpus_readme import readme_candidates
from corpus_strip import Blank, blank_docs, blank_rows
from corpus_text import first_sentence, normalised, to_query
from corpus_tree import Candidate, Found, Tree, defined_once, is_library, read_tree

from semsearch.chunking import chunk_source
from semsearch.chunking.languages import TYPE_CONTAINERS
from semsearch.query import split_words

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
_PLAIN_NAME = re.compile(r"^[A-Za-z_$][\w$]*[?!]?$")  # not `A::B`, `Foo<T>` nor a setter `x=`
_NAMED = {True: "left out a bundled copy", False: "kept (a module of its own: no licence or manifest in it)"}




def file_doc(tree: Tree, path: str) -> tuple[str, int, Found | None] | None:
    """A file's own doc: (text, last row it may span, the definition it belongs to, if any).

    The head comment or module docstring; else a module that is the whole file (Elixir's
    defmodule, a Ruby module); else the doc of the type the file is named after and made of,
    which is how Java, Kotlin, C#, PHP, Scala and Swift document a file.
    """
    if path in tree.heads:
        doc, last_row = tree.heads[path]
        return doc, last_row, None
    rows = tree.texts[path].count("\n") + 1
    stem = PurePosixPath(path).stem.split(".")[0]
    for f in tree.definitions.get(path, []):
        whole = f.docstring and f.end - f.start + 1 >= 0.7 * rows and f.struct_name is None
        if whole and (f.code_type == "Module" or (f.code_type in TYPE_CONTAINERS and f.name == stem)):
            doc = f.docstring or ""
            return doc, max(f.name_row, f.body_row or f.name_row) + doc.count("\n") + 3, f
    return None


def module_doc_candidates(tree: Tree) -> list[Candidate]:
    out = []
    for path in tree.code_files():
        found = file_doc(tree, path) if is_library(path) else None
        if found is None:
            continue
        doc, last_row, definition = found
        first_row = definition.doc_start if definition is not None else 0
        sentence = first_sentence(_without_file_name(doc, path))
        query = to_query(sentence, definition.name if definition is not None else "")
        if query:
            out.append(Candidate("module-doc", query, sentence, [path], (path, first_row + 1),
                                 [Blank(path, first_row, last_row, doc)]))
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
        if not is_library(path):
            continue
        found = file_doc(tree, path)
        for f in tree.definitions.get(path, []):
            if f.code_type not in DOC_TYPES or not f.docstring or not is_library(path, f) \
                    or (found is not None and found[2] is f):
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




def identifier_candidates(tree: Tree) -> list[Candidate]:
    out = []
    for name, (path, f) in defined_once(tree).items():
        if f.code_type in SYMBOL_TYPES and _PLAIN_NAME.match(name) and _distinctive(name, tree.languages[path]):
            span = {"path": path, "start_line": f.start + 1, "end_line": f.end + 1}
            out.append(Candidate("identifier", name, "", [span], (path, f.name_row + 1), name=name,
                                 tier=SYMBOL_TYPES[f.code_type]))
    return out




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
        """Every target is still indexed: an identifier's definition is a structure of the stripped
        file at its lines, and a file whose only content was the blanked doc still has a chunk."""
        for target in c.relevant:
            path = target if isinstance(target, str) else target["path"]
            chunks = chunk_source(path, self.texts[path], self.tree.languages[path])
            if isinstance(target, str) and not chunks:
                return False
            if not isinstance(target, str) and not any(
                    s.name == c.name and s.line_from <= target["end_line"] and target["start_line"] <= s.line_to
                    for s in chunks):
                return False
        return True

    def structures(self) -> int:
        """What the chunker makes of the stripped copy (a blanked doc can leave a window empty)."""
        delta = sum(len(chunk_source(p, self.texts[p], self.tree.languages[p]))
                    - len(chunk_source(p, self.tree.texts[p], self.tree.languages[p])) for p in self.changed)
        return self.tree.structures + delta


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
    return [c for rule in pools for c in accepted[rule] if stripper.still_indexed(c)]  # a later blank can empty a file


def mine(package: Package) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The package's queries, written with its stripped copy; and the copy's files, structures and
    the folders named like a forbidden project (left out or kept)."""
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
    notes = [f"{_NAMED[bundled]}: {folder.relative_to(top)} (named like {project})" for folder, project, bundled in named]
    return rows, {"files": len(tree.texts), "structures": stripper.structures(), "vendored": notes}


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


def read_queries(package_id: str) -> list[dict[str, Any]]:
    """A package's mined queries (none when `queries` has not run for it)."""
    path = QUERIES / f"{package_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def write_queries(package: Package) -> dict[str, Any]:
    rows, stats = mine(package)
    QUERIES.mkdir(parents=True, exist_ok=True)
    with (QUERIES / f"{package.id}.jsonl").open("w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    return {**stats, "queries": Counter(r["rule"] for r in rows)}
