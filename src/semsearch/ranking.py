"""Re-ranking fused candidates with what a code searcher means.

Retrieval finds plausible code; these signals, each measured across six languages
(bench/README.md, the ablation), put the right code first:
- a query that is an identifier wants that identifier's definition first, and among
  several definitions the one whose file is named after it; an identifier written inside
  a prose query (`safeParse`, `ZodType`) lifts its definitions more softly;
- file and folder names say what code is about: query words in a hit's file stem and
  folder lift it, by the share of the query's words they cover;
- a file whose several structures match is a better answer than one stray match, so
  each file's best hit is lifted by the evidence of the whole file; a question ("how does
  … work", "where is …") asks for a mechanism, which lives in a file rather than in one
  function, so there weaker hits count as evidence too, and only a file's other hits do:
  the best hit's own score already counts once;
- an identifier the query compares against ("like `_.uniqBy` but …", "the base
  implementation of `toNumber`") names what the answer is not, so its definition comes
  after the code the query describes;
- tests (by path, or marked in a source file: Rust's `#[cfg(test)] mod tests`), examples,
  benchmarks, compat shims, re-export files, type stubs, generated code (amalgamated
  single-header copies too) and prose mention everything and define little, so they come
  after the code, unless the query asks for them; so does an older copy of a versioned tree
  (`v3/` beside `v4/`): the answer is the current code unless the query names a version;
- ten hits from one file hide the other files a question touches, so each further hit
  from a file counts less than the one before it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import PurePosixPath
from typing import Any, Protocol, TypeVar

from semsearch.query import Query, related, spellings, split_words
from semsearch.roles import mostly_internal, older_versions, role

DEFINITION_TYPES = frozenset({"Class", "Struct", "Interface", "Trait", "Enum", "Function", "Type",
                              "Object", "Protocol", "Module", "Macro"})


@dataclass(frozen=True)
class Ranking:
    """The constants of the re-ranking; bench/ablation.py varies them one at a time."""

    definition_first: bool = True  # identifier queries: definitions of that name in a tier above the rest
    named_file: bool = True  # ... and among them the one whose file is named after it first
    embedded: float = 0.3  # score x (1 + this) for a definition of an identifier written inside a prose query
    compared: float = 0.7  # score x this for a definition of an identifier the query compares against
    stem: float = 0.2  # score x (1 + this x share of query words in the file stem)
    folder: float = 0.2  # score x (1 + this x share of query words in the folder name)
    spread: float = 0.0  # a path word counts 1 / (candidate files holding it) ** this
    share_power: float = 0.5  # ... divided by (the query's words) ** this
    file_evidence: float = 0.3  # best hit of a file + this x top score x (file's evidence / best file's)
    question_file_evidence: float = 0.5  # ... and this for a question, which asks for a mechanism a file holds
    evidence_sharpness: float = 0.05  # a hit's evidence is exp((score - top) / this): strong hits count
    question_sharpness: float = 0.15  # ... and this for a question ("how does … work"): more hits count
    own_evidence: float = 1.0  # a file's best hit counts this share of its own evidence
    question_own_evidence: float = 0.0  # ... and this for a question: only its other hits lift it
    file_decay: float = 0.8  # each better hit from the same file multiplies a hit's score by this
    question_file_decay: float = 0.4  # ... and this for a question: it asks for files, not a file's next hit
    one_part: bool = True  # a long structure split into parts is one hit: its best part, the others dropped
    versions: bool = True  # an older versioned tree (`v3/` beside `v4/`) counts as compat
    v1_copies: bool = True  # ... and so does a `v1/` repeating its parent's files (pydantic.v1)
    mirrors: bool = True  # ... and a definition repeated in a deeper copy of its file (guava's android/)
    deprecated: bool = True  # ... and a definition marked deprecated (`@Deprecated`, `#[deprecated]`, …)
    deprecated_factor: float = 0.85  # ... by this multiplier, gentler than a copy's 0.6: the CSN-style pairs
    # ask for deprecated functions by their own docs (x0.6: python 0.580 -> 0.578, go 0.890 -> 0.886)
    compounds: bool = False  # a path word run together from query words (`rafthttp`) holds them: off, a
    # coin toss (large Go trees +0.015, the nine's python -0.001: aiohttp's _websocket/ over client_ws.py)
    named_inherit: float = 0.1  # a structure found by its name alone scores this x its file's best hit
    companions: bool = True  # an identifier's companion object comes after its class or trait in the file
    copies_tier: bool = True  # an identifier's definition in a copy (compat, stub) is not in the definitions' tier
    factors: dict[str, float] = field(default_factory=lambda: dict(ROLE_FACTORS))


# Multipliers by role, lifted to 1 when the query asks for that role. A re-export file is known by its
# name as well as by its lines, and an `__init__.py` or `index.js` often holds the code itself, so it is
# put back gently (x0.85, not x0.7: 148 mined packages +0.001, every fold up or equal; bench/README.md).
ROLE_FACTORS = {"test": 0.5, "example": 0.5, "bench": 0.5, "compat": 0.6, "reexport": 0.85, "stub": 0.7,
                "generated": 0.5, "prose": 0.8, "config": 0.8, "internal": 0.75}
_COPIES = frozenset({"compat", "stub"})  # kinds that repeat a definition made elsewhere
_TYPES = frozenset({"Class", "Struct", "Interface", "Trait", "Enum", "Type", "Protocol"})
DEFAULT = Ranking()
# Without dense vectors (--lexical-only, or before the dense pass) the scores are BM25 alone, a
# noisier single-hit signal: a file's evidence counts more of its hits (ablation: 0.777 → 0.799
# on the development set, every language up or equal; CSN within 0.006). Its questions' evidence
# already counts more hits, and lifting it more too costs Rust 0.017.
LEXICAL_ONLY = Ranking(evidence_sharpness=0.2, question_sharpness=0.6, question_file_evidence=0.3)


@dataclass
class Candidate:
    id: str
    payload: dict[str, Any]
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)

    @cached_property
    def path(self) -> str:  # read a dozen times a candidate by the re-ranking
        return self.payload.get("context", {}).get("file_path", "")

    @cached_property
    def file(self) -> tuple[str, str]:
        """(repository, path): what one file is when a collection holds several repositories,
        whose paths are each relative to their own root (two `src/lib.rs` are two files)."""
        return self.payload.get("repo") or "", self.path


def _older_files(files: set[tuple[str, str]], v1_copies: bool) -> set[tuple[str, str]]:
    """older_versions within each repository: one's `v3/` is not older than another's `v4/`."""
    by_repo: dict[str, set[str]] = {}
    for repo, path in files:
        by_repo.setdefault(repo, set()).add(path)
    return {(repo, path) for repo, paths in by_repo.items() for path in older_versions(paths, v1_copies)}


def mirrored_copies(candidates: Sequence[Candidate], tail: int = 3) -> set[int]:
    """Positions of candidates that repeat a definition of a shallower copy of their file.

    Guava's `android/guava/src/…/LocalCache.java` mirrors `guava/src/…/LocalCache.java`, its GWT
    `guava-gwt/src-super/…` and a `futures/listenablefuture1/src/…` hold more copies: the same
    definition (name, type, signature) in files whose paths end alike (`tail` parts or more). The
    deeper path is the copy; copies at equal depth (a platform's variant) are left alone."""
    seen: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for i, c in enumerate(candidates):
        parts = c.path.split("/")
        if len(parts) < tail:
            continue
        context = c.payload.get("context", {})
        key = (c.payload.get("repo") or "", "/".join(parts[-tail:]), c.payload.get("name"),
               c.payload.get("code_type"), context.get("struct_name"), c.payload.get("signature"))
        seen.setdefault(key, []).append((len(parts), i))
    copies: set[int] = set()
    for twins in seen.values():
        if len(twins) > 1:
            shallowest = min(depth for depth, _ in twins)
            copies |= {i for depth, i in twins if depth > shallowest}
    return copies


def _covered(words: list[str], names: list[str], compounds: bool = True) -> set[str]:
    found = {w for w in words if any(related(w, n) for n in names)}
    if compounds:
        for n in names:
            found |= _compound_of(n, words)
    return found


def _compound_of(name: str, words: list[str]) -> set[str]:
    """The query words a lower-case compound name is made of, all of it (`rafthttp` of raft and http,
    `grpcproxy` of grpc and proxy: Go's and C's package and file names run words together); else none."""
    if len(name) < 6 or not name.isalnum():
        return set()
    usable = [w for w in words if 3 <= len(w) < len(name) and w in name]
    if len(usable) < 2:
        return set()
    ends: dict[int, frozenset[str]] = {0: frozenset()}
    for start in range(len(name)):
        if start not in ends:
            continue
        for w in usable:
            if name.startswith(w, start) and start + len(w) not in ends:
                ends[start + len(w)] = ends[start] | {w}
    made = ends.get(len(name), frozenset())
    return set(made) if len(made) > 1 else set()


def _path_lifts(words: list[str], paths: set[str], ranking: Ranking) -> dict[str, float]:
    """Per file: x (1 + stem x share of the query's words in its stem) x (1 + folder x share in its folder).

    A word counts 1 / (the number of candidate files whose stem or folder holds it): `type`
    in a tree of TypeAdapter, TypeToken and Types files says little about which one is meant.
    """
    if not (ranking.stem or ranking.folder):
        return {}
    matched = {}
    for path in paths:
        stem_words, folder_words = path_words(path)
        in_stem = _covered(words, stem_words, ranking.compounds)
        matched[path] = (in_stem, _covered(words, folder_words, ranking.compounds) - in_stem)
    spread: dict[str, int] = {}
    for in_stem, in_folder in matched.values():
        for w in in_stem | in_folder:
            spread[w] = spread.get(w, 0) + 1
    lifts = {}
    for path, (in_stem, in_folder) in matched.items():
        if not in_stem and not in_folder:
            continue
        norm = len(words) ** ranking.share_power
        stem_share = sum(1 / spread[w] ** ranking.spread for w in in_stem) / norm
        folder_share = sum(1 / spread[w] ** ranking.spread for w in in_folder) / norm
        lifts[path] = (1 + ranking.stem * stem_share) * (1 + ranking.folder * folder_share)
    return lifts


@lru_cache(maxsize=65536)
def path_words(path: str) -> tuple[list[str], list[str]]:
    """The words of a file's stem (its whole stem too: `urlmap`) and of its folder's name."""
    pure = PurePosixPath(path)
    stem = pure.name.split(".")[0]
    stem_words = split_words(stem)
    whole = _squashed(stem)
    if len(stem_words) > 1 and whole:
        stem_words.append(whole)
    return stem_words, split_words(pure.parent.name)


def _named_after(path: str, symbol: str) -> bool:
    """The file's stem is the symbol's name (`sync/semaphore.rs` for Semaphore, `request.rb` for Request)."""
    stem, name = _squashed(PurePosixPath(path).name.split(".")[0]), _squashed(symbol)
    return bool(stem) and (stem == name or stem.rstrip("s") == name.rstrip("s"))


def _in_folder_named(path: str, qualifier: str) -> bool:
    """The file sits in a folder named after the qualifier: Go's package is its folder (`output.Format`
    in `output/outputFormat.go`), as are Java's, Python's and Rust's modules (`collect.ImmutableList`)."""
    parent = PurePosixPath(path).parent.name
    return bool(parent) and _squashed(parent) == _squashed(qualifier)


def _squashed(name: str) -> str:
    """A name lower-cased with everything but letters and digits dropped: `url_map`, `UrlMap` → urlmap."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _is_definition(c: Candidate) -> bool:
    return c.payload.get("code_type") in DEFINITION_TYPES


@dataclass
class Judgement:
    """What the rules make of one candidate: the re-ranking orders by these, the learned ranker reads them."""

    candidate: Candidate
    position: int  # in the fused order
    role: str | None  # test, example, …, compat (an older copy too); None for plain code
    factor: float  # its role's multiplier, 1 when the query asks for that role
    path_lift: float  # query words in its file stem and folder
    asked: bool  # a definition of an identifier written inside the query
    compared: bool  # a definition of an identifier the query compares against
    tier: int  # for an identifier query, how surely it is that identifier's definition (0-5)
    score: float  # the fused score through the multipliers
    lifted: float = 0.0  # ... and its file's evidence: what the order reads, before the file decay


def judge(query: Query, candidates: list[Candidate], ranking: Ranking = DEFAULT) -> list[Judgement]:
    """Every candidate through the rules, in the fused order."""
    symbol = query.identifier if ranking.definition_first else None
    embedded = set(query.asked) if ranking.embedded else set()
    compared = set(query.compared) if ranking.compared != 1 else set()
    lifted = set(query.asks_for)
    paths = {c.path for c in candidates}
    path_lift = _path_lifts(list(query.words), paths, ranking) if query.words else {}
    superseded = _older_files({c.file for c in candidates}, ranking.v1_copies) if ranking.versions else set()
    if mostly_internal(paths):
        lifted.add("internal")  # most of what matches is internal (an application's internal/): no public face
    # most of what matches is deprecated (a whole library marked obsolete, as SharpZipLib's): no replacement here
    deprecated = ranking.deprecated and 2 * sum(1 for c in candidates if c.payload.get("deprecated")) <= len(candidates)
    judged = []
    mirrors = mirrored_copies(candidates) if ranking.mirrors else set()
    file_best: dict[tuple[str, str], float] = {}
    typed: set[tuple[tuple[str, str], Any]] = set()  # (file, name) of the classes, traits, … defined
    for c in candidates:
        file_best[c.file] = max(file_best.get(c.file, 0.0), c.score)
        if c.payload.get("code_type") in _TYPES:
            typed.add((c.file, c.payload.get("name")))
    for position, c in enumerate(candidates):
        kind = role(c.path, c.payload)
        copy = kind is None and (c.file in superseded or position in mirrors)
        marked = kind is None and not copy and deprecated and bool(c.payload.get("deprecated"))
        if copy or marked:
            kind = "compat"
        factor = ranking.factors.get(kind, 1.0) if kind is not None and kind not in lifted else 1.0
        if marked and kind not in lifted:
            factor = ranking.deprecated_factor  # a deprecated definition, gentler than a copy
        lift = path_lift.get(c.path, 1.0)
        member = _is_definition_or_member(c)
        is_asked = bool(embedded) and member and c.payload.get("name") in embedded
        is_compared = bool(compared) and member and c.payload.get("name") in compared
        # found by its name alone (no list holds it): a share of its file's best score, so that of
        # two `Request` classes the one whose file the search found (HttpFoundation's) comes first
        base = c.score if c.score > 0 else ranking.named_inherit * file_best[c.file]
        score = base * factor * lift
        if is_asked:
            score *= 1 + ranking.embedded
        if is_compared:
            score *= ranking.compared
        tier = _name_tier(symbol, c, ranking.named_file, kind, ranking.copies_tier,
                          query.qualifier) if symbol is not None else 0
        if tier >= 2 and ranking.companions and c.payload.get("code_type") == "Object" \
                and (c.file, c.payload.get("name")) in typed:
            tier -= 1  # Scala's companion object after its class or trait (`Option`, `Future`)
        judged.append(Judgement(c, position, kind, factor, lift, is_asked, is_compared, tier, score, score))
    if query.is_question and ranking.question_file_evidence:
        _lift_files(judged, ranking.question_file_evidence, ranking.question_sharpness, ranking.question_own_evidence)
    elif not query.is_question and ranking.file_evidence:
        _lift_files(judged, ranking.file_evidence, ranking.evidence_sharpness, ranking.own_evidence)
    return judged


def rerank(query: Query, candidates: list[Candidate], ranking: Ranking = DEFAULT) -> list[Candidate]:
    """Candidates (best first, by fused score) in their final order, as copies carrying their final score."""
    if not candidates:
        return []
    judged = judge(query, candidates, ranking)
    decay = ranking.question_file_decay if query.is_question else ranking.file_decay
    return decayed(judged, [j.tier for j in judged], [j.lifted for j in judged], decay, ranking.one_part)


def decayed(judged: list[Judgement], tiers: list[int], scores: list[float], decay: float,
            one_part: bool = True) -> list[Candidate]:
    """Candidates ordered by (tier, score), each further hit of a file already placed counting
    `decay` times the one before it: copies carrying their final score. With `one_part`, a split
    structure's parts after its best are dropped: five parts of git's `struct rev_info` filled the
    first five places for `rev_info`, saying one thing five times."""
    order = sorted(range(len(judged)), key=lambda i: (-tiers[i], -scores[i], judged[i].position))
    seen: dict[tuple[str, str], int] = {}
    placed: set[tuple[Any, ...]] = set()
    final = []
    for i in order:
        file = judged[i].candidate.file
        structure = _split_structure(judged[i].candidate) if one_part else None
        if structure is not None:
            if structure in placed:
                continue
            placed.add(structure)
        n = seen.get(file, 0)
        seen[file] = n + 1
        final.append((tiers[i], scores[i] * decay ** n, judged[i].position, judged[i].candidate))
    final.sort(key=lambda k: (-k[0], -k[1], k[2]))
    return [Candidate(c.id, c.payload, score, c.scores, c.ranks) for _, score, _, c in final]


def _split_structure(c: Candidate) -> tuple[Any, ...] | None:
    """What a part of a split structure is a part of (None for a whole structure)."""
    p = c.payload
    if not p.get("parts"):
        return None
    return (*c.file, p.get("name"), (p.get("context") or {}).get("struct_name"), p.get("signature"), p.get("parts"))


# Searched from inside one of several repositories, another repository's hit at rank r of the search
# over all of them is placed as if at r / HOME_FACTOR among the home repository's own ranking
# (bench/mixed_corpus.py: 43 held-aside packages in one collection score 0.834 against 0.837
# narrowed to their own and 0.753 with no preference; bench/mixed.py, the nine: see bench/README.md).
HOME_FACTOR = 0.4


class HasPayload(Protocol):
    payload: dict[str, Any]


H = TypeVar("H", bound=HasPayload)


def home_first(own: Sequence[H], everywhere: Sequence[H], home: str, factor: float = HOME_FACTOR) -> list[H]:
    """A search made from inside repository `home`: its own ranking (`own`, the search narrowed to it),
    another repository's hit at rank r of the search over all (`everywhere`) placed as if at r / factor,
    so that one shows only when it ranked near the top of everything."""
    placed = [(rank, 0, hit) for rank, hit in enumerate(own, 1)]
    placed += [(rank / factor, 1, hit) for rank, hit in enumerate(everywhere, 1) if hit.payload.get("repo") != home]
    return [hit for _, _, hit in sorted(placed, key=lambda p: (p[0], p[1]))]


def _is_definition_or_member(c: Candidate) -> bool:
    return c.payload.get("code_type") != "Block"


def _lift_files(judged: list[Judgement], lift: float, sharpness: float, own: float) -> None:
    """Lift each file's best hit by the evidence of its hits (its own counting `own`), relative
    to the best file's.

    A hit's evidence is exp((score - top) / sharpness): hits near the top count almost 1, weak
    ones almost nothing, so a file is not lifted for being long. Counting the best hit's own
    evidence rewards the leading hit for leading; counting only the others rewards a file for
    what its other structures add.
    """
    top = max(j.score for j in judged)
    evidence: dict[tuple[str, str], float] = {}
    best: dict[tuple[str, str], Judgement] = {}
    for j in judged:
        file = j.candidate.file
        evidence[file] = evidence.get(file, 0.0) + math.exp((j.score - top) / sharpness)
        if file not in best or j.score > best[file].score:
            best[file] = j
    most = max(evidence.values())
    for file, j in best.items():
        found = evidence[file] - (1 - own) * math.exp((j.score - top) / sharpness)
        j.lifted = j.score + lift * top * found / most


def _name_tier(symbol: str, c: Candidate, named_file: bool, kind: str | None, copies: bool = True,
               qualifier: str | None = None) -> int:
    """For a definition of the symbol: 5 in a file named after it and where the query's qualifier
    says (on the type, in the file or folder it names: `stringx.split` on stringx or in stringx.lua,
    `output.Format` in output/); 4 where the qualifier says; 3 in a file named after it (an explicit
    qualifier outweighs a same-named file elsewhere); 2: another definition of it;
    1: a member of it, another thing of that name, a definition in a test, example or
    benchmark (`kind`, the candidate's role: by path, or a test marked inside a source file),
    or in a copy (when `copies`: an older versioned tree, compat code, a type stub); 0: the rest."""
    name = str(c.payload.get("name", ""))
    struct = c.payload.get("context", {}).get("struct_name") or ""
    if name in spellings(symbol) or name.lstrip("$") == symbol:
        on_qualifier = qualifier is not None and struct == qualifier  # a member named on its type defines it
        if (_is_definition(c) or on_qualifier) and kind not in ("test", "example", "bench") \
                and not (copies and kind in _COPIES):
            if not named_file:
                return 2
            named = _named_after(c.path, symbol)
            qualified = on_qualifier or (qualifier is not None and (_named_after(c.path, qualifier)
                                                                    or _in_folder_named(c.path, qualifier)))
            return 5 if named and qualified else 4 if qualified else 3 if named else 2
        return 1
    if name.lower() == symbol.lower() or struct == symbol:
        return 1
    return 0


def with_options(**changes: Any) -> Ranking:
    """DEFAULT with some constants changed (role factors merge into the defaults)."""
    factors = changes.pop("factors", None)
    ranking = replace(DEFAULT, **changes)
    if factors is not None:
        ranking = replace(ranking, factors={**DEFAULT.factors, **factors})
    return ranking
