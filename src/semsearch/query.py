"""A search query, analysed once: what every stage of retrieval and ranking reads of it.

The sentence model, the name search, the re-ranking rules and the learned ranker all ask
the same questions of a query — is it one identifier, which identifiers does it write or
compare against, which words could name a file, is it a question, which roles does it ask
for — so the answers are computed here, once, and carried as a `Query` value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from semsearch.textify import spell_identifiers

# A trailing ? or ! belongs to the name in Ruby and Elixir (`empty?`, `save!`); `vec!` calls Rust's `vec`.
# PHP qualifies with a backslash (`Twig\Node\Node`, `\GuzzleHttp\Client`).
_IDENTIFIER_QUERY = re.compile(r"^\\?[A-Za-z_$][A-Za-z0-9_$]*(?:(?:\.|::|#|\\)[A-Za-z_$][A-Za-z0-9_$]*)*[?!]?$")
# An operator a library defines (Haskell's `.:` or `(<|>)`, Scala's `|+|`): the whole query is symbols.
_OPERATOR_QUERY = re.compile(r"^\(?([!#$%&*+./<=>?@\\^|~:-]{2,5})\)?$")
# Identifiers inside prose: an inner capital (camelCase, PascalCase), an inner underscore
# (snake_case) or a member access (`z.object`, `.refine`, `Vec::new`).
_EMBEDDED = re.compile(
    r"(?<![\w$])(?:[A-Za-z_$][\w$]*(?:\.|::|#|\\))*\$?(?:"
    r"[a-z][a-z0-9]*(?:[A-Z][A-Za-z0-9]*)+"  # camelCase
    r"|[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+"  # PascalCase with two words or more
    r"|[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+"  # snake_case
    r")(?![\w$])"
    r"|(?:(?<=\.)|(?<=::))[A-Za-z_$][\w$]*(?:\(\))?"  # .member, ::member
)
# An identifier the query compares against is not the one it wants: "like `_.forEach` but from
# the right", "the base implementation of `getAllKeys`", "used by `orderBy`".
_COMPARED = re.compile(r"\b(like|unlike|than|except|instead of|similar to|version of|implementation of|"
                       r"variant of|alias (of|for)|wrapper (of|for|around)|equivalent (of|to)|used by|called by|"
                       r"counterpart of|same as)\W*$", re.IGNORECASE)
_LISTED = re.compile(r"[`'\"\s,()]*(and|or|,)[`'\"\s_.$]*$")
_SEPARATOR = re.compile(r"\.|::|#|\\")

# Roles a query can ask for by name; ranking lifts the code of that role back to plain code's rank.
ASKS_FOR = {
    # a test word after a name's separator is part of that name (`kotlin.test`, `std::mock`), not a request
    "test": re.compile(r"(?<![.:/\\])\b(tests?|testing|unit ?tests?|specs?|fixtures?|mocks?|asserts?)\b",
                       re.IGNORECASE),
    "example": re.compile(r"\b(examples?|samples?|demos?|tutorials?|docs?|documentation|usage)\b", re.IGNORECASE),
    "bench": re.compile(r"\b(bench(mark)?s?|benchmarking|performance tests?)\b", re.IGNORECASE),
    "compat": re.compile(r"\b(compat(ibility)?|legacy|deprecated|old|older|v\d+)\b", re.IGNORECASE),
    "stub": re.compile(r"\b(stubs?|declarations?|typings?|\.d\.ts|\.pyi)\b", re.IGNORECASE),
    "internal": re.compile(r"\b(internals?|internally|private|implementation details?|under the hood)\b",
                           re.IGNORECASE),
}
# A question asks how something works or where it lives: an answer spread over a file's structures.
_QUESTION = re.compile(r"^\W*(how|where|what|which|why|when)\b", re.IGNORECASE)
# Languages a query can name, as the chunker names them ("go", "node" and "shell" are English words too).
_LANGUAGE_WORDS = {
    "python": "python", "py": "python", "rust": "rust", "golang": "go", "java": "java",
    "javascript": "javascript", "js": "javascript", "typescript": "typescript",
    "ts": "typescript", "ruby": "ruby", "php": "php", "kotlin": "kotlin", "scala": "scala", "swift": "swift",
    "haskell": "haskell", "lua": "lua", "elixir": "elixir", "bash": "bash", "zig": "zig",
    "csharp": "csharp", "c#": "csharp", "cpp": "cpp", "c++": "cpp",
}
_LANGUAGE_TOKEN = re.compile(r"(?<![\w#+])(c\+\+|c#|[a-z]+)(?![\w#+])")

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset("""a an the and or of in on to by at as is are be been was were it its this that these those
for from with into onto over under how what where which when who whom why does do did can could should would
will shall may might must has have had not no use used uses using via per each all any some their there them
they than then get gets set sets""".split())

KINDS = ("identifier", "question", "topic")


@dataclass(frozen=True)
class Query:
    """What a query asks, learnt once (`analyse`) and read by every stage."""

    text: str  # as written
    identifier: str | None  # the identifier the whole query is (its last segment: `Client.get` → get)
    qualifier: str | None  # the segment before it: `Client.get` → Client, `stringx.split` → stringx
    asked: tuple[str, ...]  # identifiers written inside prose: `safeParse`, `ZodType`
    compared: tuple[str, ...]  # identifiers it compares against: "like `uniqBy` but …"
    words: tuple[str, ...]  # words that can name a file or folder, one per concept
    kind: str  # identifier | question | topic
    asks_for: frozenset[str]  # roles it names (test, example, bench, compat, stub, internal)
    languages: frozenset[str]  # languages it names ("in rust", "python")
    # What the sentence model reads: an identifier spelt as textify spells the documents' names
    # (`ZodError` → "zod error"), prose as written.
    spelt: str
    names: tuple[str, ...]  # names whose structures join the candidates: the identifier it is, or those in it

    @property
    def is_question(self) -> bool:
        return self.kind == "question"


def analyse(text: str) -> Query:
    """The one analysis of a query that retrieval and ranking share."""
    segments = _name_segments(text)
    identifier = segments[-1] if segments else None
    asked, compared = _identifiers_in(text) if identifier is None else ([], [])
    kind = "identifier" if identifier is not None else "question" if _QUESTION.match(text) else "topic"
    return Query(
        text=text, identifier=identifier, qualifier=segments[-2] if len(segments) > 1 else None,
        asked=tuple(asked), compared=tuple(compared),
        spelt=spell_identifiers(text) if identifier is not None else text,
        names=tuple(spellings(identifier) if identifier is not None else asked),
        words=tuple(query_words(text)), kind=kind,
        asks_for=frozenset(name for name, asks in ASKS_FOR.items() if asks.search(text)),
        languages=frozenset(_LANGUAGE_WORDS[t] for t in _LANGUAGE_TOKEN.findall(text.lower())
                            if t in _LANGUAGE_WORDS),
    )


def identifier_query(text: str) -> str | None:
    """The identifier a query names (`HTTPException`, `Client.get`, `Vec::new`, `Twig\\Node`, `empty?`, `.:`),
    or None for prose."""
    segments = _name_segments(text)
    return segments[-1] if segments else None


def _name_segments(text: str) -> list[str]:
    """An identifier query's segments, its qualifiers before its name (`Rack::Response` → Rack, Response);
    [] for prose."""
    text = text.strip().strip("`").removesuffix("()")
    operator = _OPERATOR_QUERY.match(text)
    if operator:
        return [operator.group(1)]
    if not _IDENTIFIER_QUERY.match(text):
        return []
    return _SEPARATOR.split(text.lstrip("\\"))


def spellings(symbol: str) -> list[str]:
    """The names a definition of this identifier can carry: `save!` is Ruby's `save!` or Rust's macro `save`."""
    return [symbol, symbol[:-1]] if symbol.endswith("!") else [symbol]


def _identifiers_in(text: str) -> tuple[list[str], list[str]]:
    """The identifiers inside a prose query: (those it asks about, those it compares against)."""
    found: list[str] = []
    compared: list[str] = []
    compared_until = -1  # where the last compared identifier ended: "like `a` and `b`" compares both
    for match in _EMBEDDED.finditer(text):
        name = _SEPARATOR.split(match.group(0).removesuffix("()"))[-1]
        before = text[:match.start()].rstrip("`'\"(_.$ ")
        if _COMPARED.search(before) or (compared_until >= 0 and _LISTED.match(text, compared_until, match.start())):
            compared_until = match.end()
            if len(name) > 2 and name not in compared:
                compared.append(name)
            continue
        compared_until = -1
        if len(name) > 2 and name not in found:
            found.append(name)
    return found, [name for name in compared if name not in found]


def split_words(text: str) -> list[str]:
    """`JsonObject.java` / `url_format` / `route-headers` → lower-case words."""
    words = []
    for token in _WORD.findall(text):
        words += [w.lower() for w in _CAMEL.findall(token)]
    return words


def query_words(text: str) -> list[str]:
    """The words of a query that can name a file: identifiers split, stop words and short words out,
    one word per concept (`route` and `routers` are one)."""
    words: list[str] = []
    for w in split_words(text):
        if len(w) > 2 and w not in _STOP and not w.isdigit() and not any(related(w, seen) for seen in words):
            words.append(w)
    return words


@lru_cache(maxsize=262144)
def related(a: str, b: str) -> bool:
    """Same word up to inflection: route ~ routes ~ router ~ routing, impls ~ implementations, util ~ utility."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) <= 4:
        return long in (short + "s", short + "es")
    return len(os.path.commonprefix([short, long])) >= max(4, len(short) - 2)
