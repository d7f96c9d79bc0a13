"""Re-ranking fused candidates with what a code searcher means.

Retrieval finds plausible code; these signals put the right code first:
- a query that is an identifier wants that identifier's definition first;
- tests and examples mention everything, so they come after the code they exercise,
  unless the query asks for them;
- ten hits from one file hide the other files a question touches, so each further hit
  from a file counts a little less than the one before it;
- file and folder names say what code is about: a query word in the path counts.
Every signal here was kept because the development benchmark said so (bench/README.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_IDENTIFIER_QUERY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*$")
_TEST_PATH = re.compile(r"(^|/)(tests?|testing|spec|__tests__)(/|$)|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(spec|test)\.[a-z]+$")
_EXAMPLE_PATH = re.compile(r"(^|/)(examples?|docs?|docs_src|samples?|benchmarks?)(/|$)")
_ASKS_FOR_TESTS = re.compile(r"\b(tests?|testing|spec|fixtures?|examples?)\b", re.IGNORECASE)
DEFINITION_TYPES = frozenset({"Class", "Struct", "Interface", "Trait", "Enum", "Function", "Type",
                              "Object", "Protocol", "Module", "Macro"})

FILE_DECAY = 0.8  # each better hit from the same file multiplies a hit's score by this
TOP = 10
TEST_FACTOR = 0.8  # multiplies the score of tests, examples and docs
PROSE_FACTOR = 0.8  # multiplies the score of prose (Markdown, reStructuredText, plain text)
PATH_BOOST = 0.2  # score x (1 + 0.2 per query word found in the hit's path: `routes` ~ routing.py)
PROSE_LANGUAGES = frozenset({"markdown", "rst", "text"})


@dataclass
class Candidate:
    id: str
    payload: dict[str, Any]
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.payload.get("context", {}).get("file_path", "")


def identifier_query(query: str) -> str | None:
    """The identifier a query names (`HTTPException`, `Client.get`), or None for prose."""
    query = query.strip().strip("`").removesuffix("()")
    if not _IDENTIFIER_QUERY.match(query):
        return None
    return re.split(r"\.|::", query)[-1]


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path) or _EXAMPLE_PATH.search(path))


_WORD = re.compile(r"[A-Za-z][a-z]*|[0-9]+")
_STOP = frozenset("the and for with from into how are is does what where which when who why this that "
                  "use used using can its their of in on to by an a be or as at it do".split())


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ers", "er", "es", "s", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in _STOP}


def rerank(query: str, candidates: list[Candidate], *, names: bool = True, tests: bool = True,
           per_file: int | None = None, path_boost: float = PATH_BOOST, file_mass: float = 0.0,
           prose: float = PROSE_FACTOR, top: int = TOP, file_decay: float | None = FILE_DECAY) -> list[Candidate]:
    """Candidates (best first, by fused score) in their final order.

    Diversity is soft by default (file_decay): a file's second-best hit needs to beat the
    next file's best by 25% to stay ahead of it. per_file=N instead caps a file at N hits in
    the top places (stronger for file-level questions, harsher for function-level ones).
    """
    symbol = identifier_query(query) if names else None
    demote_tests = tests and not _ASKS_FOR_TESTS.search(query)
    query_terms = _terms(query) if path_boost else set()
    mass: dict[str, float] = {}
    if file_mass:
        for c in candidates:
            mass[c.path] = mass.get(c.path, 0.0) + c.score
    keyed = []
    for position, c in enumerate(candidates):
        score = c.score
        if file_mass:
            score += file_mass * (mass[c.path] - c.score)
        if query_terms:
            score *= 1 + path_boost * len(query_terms & _terms(c.path))
        if demote_tests and is_test_path(c.path):
            score *= TEST_FACTOR
        if c.payload.get("language") in PROSE_LANGUAGES:
            score *= prose
        tier = 0
        if symbol is not None:
            tier = _name_tier(symbol, c)
        keyed.append((-tier, -score, position, c))
    keyed.sort(key=lambda k: k[:3])
    if file_decay is not None:
        # Soft diversity: each better hit from the same file multiplies a hit's score by file_decay.
        seen: dict[str, int] = {}
        decayed = []
        for tier, neg_score, position, c in keyed:
            n = seen.get(c.path, 0)
            seen[c.path] = n + 1
            decayed.append((tier, neg_score * file_decay ** n, position, c))
        decayed.sort(key=lambda k: k[:3])
        return [k[3] for k in decayed]
    ordered = [k[3] for k in keyed]
    return _diversify(ordered, per_file, top) if per_file else ordered


def _name_tier(symbol: str, c: Candidate) -> int:
    """2: the definition of the symbol; 1: a member of it or another thing of that name."""
    name = str(c.payload.get("name", ""))
    struct = c.payload.get("context", {}).get("struct_name") or ""
    if name == symbol:
        return 2 if c.payload.get("code_type") in DEFINITION_TYPES and not is_test_path(c.path) else 1
    if name.lower() == symbol.lower() or struct == symbol:
        return 1
    return 0


def _diversify(ordered: list[Candidate], per_file: int, top_size: int) -> list[Candidate]:
    """Keep order, but a file's hits past `per_file` move below the other files' in the top."""
    top: list[Candidate] = []
    waiting: list[Candidate] = []
    counts: dict[str, int] = {}
    for c in ordered:
        if len(top) >= top_size:
            waiting.append(c)
            continue
        if counts.get(c.path, 0) >= per_file:
            waiting.append(c)
            continue
        counts[c.path] = counts.get(c.path, 0) + 1
        top.append(c)
    return top + waiting
