"""What the learned ranker reads of a query's candidates: one row of numbers per candidate.

Three kinds of feature, so that one model can tell which list to trust for this query in
this repository rather than fusing every query the same way:
- the query and its lists as a whole: its kind and length, each list's margin between its
  top hits, how much the three lists agree on their top ten;
- the candidate in each list: its score relative to the list's best (a list that missed it
  counts that list's floor) and its rank;
- what the hand-made rules make of it (ranking.judge): its role, the query's words in its
  path, its name against the query's identifiers, its file's evidence, the rules' own score.
The same function serves the product (search.py) and the training script (bench/), so a
model is trained on exactly the numbers it is later given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from semsearch.query import Query
from semsearch.ranking import DEFINITION_TYPES, Judgement

LISTS = ("text", "code", "lex")
ROLES = ("test", "example", "bench", "compat", "reexport", "stub", "generated", "prose", "config", "internal")
AGREEMENT_DEPTH = 10
_CALLABLE = frozenset({"Function", "Method", "Macro"})

FEATURES = (
    # the query and its lists
    "q_identifier", "q_question", "q_words", "q_names", "q_compared",
    "text_top", "text_margin", "code_top", "code_margin", "lex_margin",
    "agree_text_code", "agree_text_lex", "agree_code_lex",
    # the candidate in each list
    "fused", "text", "text_rank", "code", "code_rank", "lex", "lex_rank", "named_only",
    # what the rules make of it
    *(f"role_{r}" for r in ROLES), "role_factor", "path_lift", "asked", "compared", "tier",
    "rule_score", "rule_rank", "evidence",
    # its file and itself
    "file_hits", "file_rank", "file_best", "definition", "callable", "block", "lines", "language_named",
)


@dataclass(frozen=True)
class ListSummary:
    """The three lists of one query as a whole: best, second and last score, and their agreement."""

    top: dict[str, float]
    second: dict[str, float]
    floor: dict[str, float]
    agreement: dict[str, float]  # "text_code" -> share of the two top tens in common

    @classmethod
    def of(cls, lists: dict[str, list[tuple[str, float]]]) -> ListSummary:
        """`lists`: per list name (text, code, lex), its (id, score) best first."""
        top = {n: hits[0][1] if hits else 0.0 for n, hits in lists.items()}
        second = {n: hits[1][1] if len(hits) > 1 else top[n] for n, hits in lists.items()}
        floor = {n: hits[-1][1] if hits and n != "lex" else 0.0 for n, hits in lists.items()}
        heads = {n: {i for i, _ in hits[:AGREEMENT_DEPTH]} for n, hits in lists.items()}
        agreement = {f"{a}_{b}": len(heads[a] & heads[b]) / AGREEMENT_DEPTH
                     for a, b in (("text", "code"), ("text", "lex"), ("code", "lex"))}
        return cls(top, second, floor, agreement)


def features(query: Query, judged: list[Judgement], lists: ListSummary, fetch: int) -> np.ndarray:
    """One row per judged candidate (in the fused order), the columns of FEATURES.

    A candidate's `ranks` say which lists found it (1-based) and its `scores` its score there;
    a list that did not find it counts its floor and rank `fetch + 1`.
    """
    if not judged:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    top, second, floor = lists.top, lists.second, lists.floor
    best_lex = top["lex"] or 1.0
    head = [
        float(query.kind == "identifier"), float(query.is_question), float(len(query.words)),
        float(len(query.names)), float(len(query.compared)),
        top["text"], top["text"] - second["text"], top["code"], top["code"] - second["code"],
        (top["lex"] - second["lex"]) / best_lex,
        lists.agreement["text_code"], lists.agreement["text_lex"], lists.agreement["code_lex"],
    ]
    fused_top = max(j.candidate.score for j in judged) or 1.0
    rule_top = max(j.lifted for j in judged) or 1.0
    rule_rank = {id(j): r for r, j in enumerate(sorted(judged, key=lambda j: (-j.tier, -j.lifted, j.position)))}
    files: dict[tuple[str, str], list[Judgement]] = {}
    for j in judged:
        files.setdefault(j.candidate.file, []).append(j)
    file_rank = {id(j): r for hits in files.values() for r, j in enumerate(hits)}  # in the fused order
    absent = math.log(fetch + 1)
    rows = []
    for j in judged:
        c = j.candidate
        ranks, scores, payload = c.ranks, c.scores, c.payload
        in_text, in_code, in_lex = "text" in ranks, "code" in ranks, "lex" in ranks
        code_type = payload.get("code_type")
        language = payload.get("language")
        hits = files[c.file]
        rows.append([
            *head,
            c.score / fused_top,
            (scores["text"] if in_text else floor["text"]) - top["text"],
            math.log(ranks["text"]) if in_text else absent,
            (scores["code"] if in_code else floor["code"]) - top["code"],
            math.log(ranks["code"]) if in_code else absent,
            scores["lex"] / best_lex if in_lex else 0.0,
            math.log(ranks["lex"]) if in_lex else absent,
            float(not ranks),
            *(float(j.role == r) for r in ROLES),
            j.factor, j.path_lift, float(j.asked), float(j.compared), float(j.tier),
            j.lifted / rule_top, math.log1p(rule_rank[id(j)]), (j.lifted - j.score) / rule_top,
            math.log(len(hits)), float(file_rank[id(j)]), hits[0].candidate.score / fused_top,
            float(code_type in DEFINITION_TYPES), float(code_type in _CALLABLE), float(code_type == "Block"),
            math.log1p(max(0, int(payload.get("line_to", 0)) - int(payload.get("line_from", 0)))),
            (1.0 if language in query.languages else -1.0) if query.languages else 0.0,
        ])
    return np.asarray(rows, dtype=np.float32)
