"""The learned ranker: its trees' evaluation, its file, and what the shipped weights do."""

import json

import numpy as np
import pytest

from semsearch.features import FEATURES, ListSummary
from semsearch.learned import LearnedRanker, ModelError, Trees, load
from semsearch.query import analyse
from semsearch.ranking import Candidate, rerank

# One tree: split on feature 0 at 0.5, then (right) on feature 2 at -1; leaves 10, 20, 30.
TREE = {"feature": [0, 2], "threshold": [0.5, -1.0], "left": [-1, -2], "right": [1, -3], "leaf": [10.0, 20.0, 30.0]}


def test_trees_walk_as_lightgbm_splits() -> None:
    trees = Trees.from_json([TREE, {"feature": [], "threshold": [], "left": [], "right": [], "leaf": [0.5]}])
    rows = np.zeros((4, len(FEATURES)), np.float32)
    rows[:, 0] = [0.5, 0.6, 0.6, -3.0]  # <= 0.5 goes left
    rows[:, 2] = [9.0, -1.0, 0.0, 9.0]
    assert trees.predict(rows).tolist() == [10.5, 20.5, 30.5, 10.5]  # the one-leaf tree adds 0.5 to every row


def model(*trees: dict, from_rules: bool = True) -> dict:
    """A ranker file as bench/learn.py writes one."""
    return {"features": list(FEATURES), "tiers": True, "from_rules": from_rules, "file_decay": 0.8,
            "question_file_decay": 0.4, "trained": {"command": "by hand"}, "trees": list(trees)}


def split_on(feature: str, threshold: float, below: float, above: float) -> dict:
    return {"feature": [FEATURES.index(feature)], "threshold": [threshold], "left": [-1], "right": [-2],
            "leaf": [below, above]}


ZERO = {"feature": [], "threshold": [], "left": [], "right": [], "leaf": [0.0]}


def test_a_ranker_file_that_does_not_fit_this_code_is_refused(tmp_path) -> None:
    saved = model(TREE)
    LearnedRanker.from_json(saved)
    with pytest.raises(ModelError, match="other features"):
        LearnedRanker.from_json({**saved, "features": saved["features"][:-1]})
    with pytest.raises(ModelError, match="does not compute"):
        Trees.from_json([{**TREE, "feature": [0, len(FEATURES)]}])
    with pytest.raises(ModelError, match="malformed"):
        Trees.from_json([{**TREE, "left": [-1]}])
    with pytest.raises(ModelError, match="malformed"):
        LearnedRanker.from_json({k: v for k, v in saved.items() if k != "file_decay"})
    (tmp_path / "ranker.json").write_text(json.dumps(saved))
    assert load(tmp_path / "ranker.json").file_decay == 0.8
    (tmp_path / "broken.json").write_text('{"features": [')
    for bad in (tmp_path / "broken.json", tmp_path / "missing.json"):
        with pytest.raises(ModelError, match="cannot read a ranker"):
            load(bad)
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="not a ranker"):
        load(tmp_path / "other.json")


def cand(id: str, path: str, name: str, score: float, code_type: str = "Function", **ranks: int) -> Candidate:
    c = Candidate(id, {"name": name, "code_type": code_type, "language": "python", "line_from": 1, "line_to": 20,
                       "context": {"file_path": path}}, score=score)
    for vector, rank in ranks.items():
        c.ranks[vector] = rank
        c.scores[vector] = {"text": 0.6, "code": 0.5, "lex": 10.0}[vector] - 0.01 * rank
    return c


def lists_for(candidates: list[Candidate]) -> ListSummary:
    return ListSummary.of({v: sorted(((c.id, c.scores[v]) for c in candidates if v in c.ranks), key=lambda x: -x[1])
                           for v in ("text", "code", "lex")})


def ranked(saved: dict, query: str, candidates: list[Candidate]) -> list[str]:
    ranker = LearnedRanker.from_json(saved)
    return [c.id for c in ranker.rank(analyse(query), candidates, lists_for(candidates), 100)]


def items() -> list[Candidate]:
    return [cand("test", "tests/test_retry.py", "test_retry_backoff", 1.0, text=1, code=1, lex=1),
            cand("lib", "src/retry.py", "retry_with_backoff", 0.99, text=2, code=2, lex=2),
            cand("mention", "app/views.py", "render_backoff", 0.9, text=3, code=3),
            cand("def", "app/backoff.py", "Backoff", 0.8, "Class", text=4, code=5, lex=3)]


def test_trees_that_add_nothing_keep_the_rules_order() -> None:
    query = analyse("retry with exponential backoff")
    assert ranked(model(ZERO), query.text, items()) == [c.id for c in rerank(query, items())]
    identifier = analyse("Backoff")
    assert ranked(model(ZERO), "Backoff", items()) == [c.id for c in rerank(identifier, items())]
    assert ranked(model(ZERO), "Backoff", items())[0] == "def"


def test_the_trees_score_moves_a_candidate_past_the_rules() -> None:
    rules = ranked(model(ZERO), "retry with exponential backoff", items())
    assert rules[0] == "lib"
    sinks_library = split_on("role_test", 0.5, -5.0, 0.0)  # everything but tests pushed down
    assert ranked(model(sinks_library), "retry with exponential backoff", items())[0] == "test"
    # an identifier's definitions keep their tier above the rest, whatever the trees say
    assert ranked(model(split_on("definition", 0.5, 0.0, -5.0)), "Backoff", items())[0] == "def"
    without_tiers = {**model(split_on("definition", 0.5, 0.0, -5.0)), "tiers": False}
    assert ranked(without_tiers, "Backoff", items())[0] != "def"


def test_feature_rows_say_what_the_rules_and_the_lists_say() -> None:
    from semsearch.features import features
    from semsearch.ranking import judge

    items = [cand("t", "tests/test_retry.py", "test_retry_backoff", 1.0, text=1, code=1, lex=1),
             cand("lib", "src/retry.py", "retry_with_backoff", 0.9, text=2, code=2),
             cand("named", "src/other.py", "Backoff", 0.0)]
    query = analyse("retry with backoff")
    rows = features(query, judge(query, items), lists_for(items), 100)
    col = {name: rows[:, n].tolist() for n, name in enumerate(FEATURES)}
    assert rows.shape == (3, len(FEATURES))
    assert col["role_test"] == [1.0, 0.0, 0.0] and col["role_factor"][0] == 0.5
    assert col["text_rank"][:2] == pytest.approx([0.0, np.log(2)])
    assert col["lex"] == [1.0, 0.0, 0.0] and col["lex_rank"][1] == pytest.approx(np.log(101))  # not in the list
    assert col["named_only"] == [0.0, 0.0, 1.0]
    assert col["path_lift"][1] > 1.0  # "retry" names src/retry.py
