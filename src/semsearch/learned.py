"""The learned ranker: boosted trees over features.py's rows, read from a text file and run in numpy.

The trees are trained by bench/learn.py (LightGBM's LambdaMART, on a mined corpus of many
repositories in many languages) and written to a JSON file: the feature names they were
trained on, each tree's splits and leaves, and the order's two constants (whether an
identifier's definitions keep their tier above the rest, and how much each further hit of a
file counts). Evaluating them here, in a few vectorised numpy steps, keeps LightGBM (and its
seconds of import) out of every search.

No ranker ships with the package: on held-aside folds of the mined corpus the trees were
within noise of the hand-set rules (0.855 against 0.851 NDCG@10) and below them on the nine
development repositories (bench/README.md). A search uses one only when given it
(`Searcher(ranker=load(path))`), as the benchmarks do.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from semsearch.features import FEATURES, ListSummary, features
from semsearch.query import Query
from semsearch.ranking import DEFAULT, Candidate, decayed, judge

RULE_FLOOR = 1e-6  # the least rule score the base margin counts (log of it), for candidates scoring <= 0
_RULE_SCORE = FEATURES.index("rule_score")


class ModelError(ValueError):
    """A ranker file that does not fit this code: other features, or malformed trees."""


@dataclass(frozen=True)
class Trees:
    """A forest flattened into one table of split nodes and one of leaves.

    A child >= 0 is a split node's index in the table; a child < 0 is the leaf ~child. A row
    goes left when its feature's value is <= the threshold (LightGBM's numerical split).
    """

    feature: np.ndarray  # (split nodes,) int
    threshold: np.ndarray  # (split nodes,) float
    left: np.ndarray  # (split nodes,) int
    right: np.ndarray  # (split nodes,) int
    leaf: np.ndarray  # (leaves,) float
    root: np.ndarray  # (trees,) each tree's first node: a split, or ~leaf for a tree that is one leaf
    depth: int  # the most splits on a path from a root to a leaf

    @classmethod
    def from_json(cls, trees: list[dict[str, list[float]]]) -> Trees:
        """Trees as bench/learn.py writes them: per tree, its splits' lists and its leaves, children local."""
        if not trees:
            raise ModelError("a ranker needs at least one tree")
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        right: list[int] = []
        leaf: list[float] = []
        root = []
        for t in trees:
            if not t["leaf"] or len(t["left"]) != len(t["feature"]) or len(t["right"]) != len(t["feature"]):
                raise ModelError("a malformed tree in the ranker")
            nodes, leaves = len(feature), len(leaf)
            root.append(nodes if t["feature"] else ~leaves)
            feature += [int(f) for f in t["feature"]]
            threshold += [float(x) for x in t["threshold"]]
            for side, out in ((t["left"], left), (t["right"], right)):
                out += [int(c) + nodes if c >= 0 else ~(~int(c) + leaves) for c in side]
            leaf += [float(x) for x in t["leaf"]]
        if any(not 0 <= f < len(FEATURES) for f in feature):
            raise ModelError("a tree splits on a feature this code does not compute")
        return cls(np.asarray(feature, np.int64), np.asarray(threshold, np.float64), np.asarray(left, np.int64),
                   np.asarray(right, np.int64), np.asarray(leaf, np.float64), np.asarray(root, np.int64),
                   _depth(trees))

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The forest's score per row: every (tree, row) pair walked one level at a time, all at once."""
        count, width = rows.shape
        values = rows.ravel()
        offsets = np.tile(np.arange(count) * width, len(self.root))  # where each pair's row starts
        node = np.repeat(self.root, count)
        for _ in range(self.depth):
            inner = node >= 0
            if not inner.any():
                break
            at = np.where(inner, node, 0)
            goes_left = values[offsets + self.feature[at]] <= self.threshold[at]
            node = np.where(inner, np.where(goes_left, self.left[at], self.right[at]), node)
        return self.leaf[~node].reshape(len(self.root), count).sum(axis=0)


def _depth(trees: list[dict[str, list[float]]]) -> int:
    deepest = 0
    for t in trees:
        stack = [(0, 1)] if t["feature"] else []
        while stack:
            node, depth = stack.pop()
            deepest = max(deepest, depth)
            for child in (t["left"][node], t["right"][node]):
                if child >= 0:
                    stack.append((int(child), depth + 1))
    return deepest


@dataclass(frozen=True)
class LearnedRanker:
    """Orders a query's candidates by the trees' score, as the rules' `rerank` does by theirs."""

    trees: Trees
    from_rules: bool  # the trees add to the rules' score (log of it): they were boosted from it
    tiers: bool  # an identifier's definitions (ranking's tiers) stay above the rest
    file_decay: float  # each further hit of a file: score x this (scores are exp(tree score))
    question_file_decay: float

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> LearnedRanker:
        if tuple(saved.get("features", ())) != FEATURES:
            raise ModelError("the ranker was trained on other features than features.py computes: retrain it "
                             "with bench/learn.py")
        try:
            return cls(Trees.from_json(saved["trees"]), bool(saved.get("from_rules", False)), bool(saved["tiers"]),
                       float(saved["file_decay"]), float(saved["question_file_decay"]))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"a malformed ranker: {exc!r}") from exc

    def rank(self, query: Query, candidates: list[Candidate], lists: ListSummary, fetch: int) -> list[Candidate]:
        """Candidates in their final order, as copies carrying the trees' score (exp, relative to the best)."""
        if not candidates:
            return []
        judged = judge(query, candidates, DEFAULT)
        rows = features(query, judged, lists, fetch)
        scores = self.trees.predict(rows)
        if self.from_rules:
            scores += np.log(np.maximum(rows[:, _RULE_SCORE].astype(np.float64), RULE_FLOOR))
        best = float(scores.max())
        tiers = [j.tier for j in judged] if self.tiers else [0] * len(judged)
        decay = self.question_file_decay if query.is_question else self.file_decay
        return decayed(judged, tiers, [math.exp(s - best) for s in scores.tolist()], decay)


def load(path: Path) -> LearnedRanker:
    """A ranker from the file bench/learn.py wrote; a file that is not one is a ModelError."""
    try:
        saved = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read a ranker from {path}: {exc}") from exc
    if not isinstance(saved, dict) or "trees" not in saved:
        raise ModelError(f"{path} is not a ranker written by bench/learn.py")
    return LearnedRanker.from_json(saved)
