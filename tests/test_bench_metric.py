"""The benchmark's NDCG@10, checked against hand-computed values from the set's README."""

import math

import pytest

from code_search import Target, ndcg_at_k  # bench/ is put on sys.path by conftest

INDEXED = [("pkg/a.py", 1, 50), ("pkg/b.py", 1, 30), ("pkg/c.py", 10, 20)]


def test_perfect_and_missing() -> None:
    targets = [Target("pkg/a.py")]
    assert ndcg_at_k([("pkg/a.py", 1, 5)], targets, INDEXED) == 1.0
    assert ndcg_at_k([("pkg/b.py", 1, 5)], targets, INDEXED) == 0.0
    assert ndcg_at_k([("pkg/b.py", 1, 5)], [Target("pkg/zzz.py")], INDEXED) == 0.0  # no target indexed: 0, as for the peers


def test_ranks_and_ideal_use_covered_targets_only() -> None:
    targets = [Target("pkg/a.py"), Target("pkg/b.py"), Target("pkg/never.py")]
    results = [("pkg/x.py", 1, 2), ("pkg/b.py", 3, 4), ("pkg/y.py", 1, 2), ("pkg/a.py", 9, 9)]
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)  # n = 2 targets an indexed chunk covers
    assert ndcg_at_k(results, targets, INDEXED) == pytest.approx(dcg / ideal)


def test_spans_must_overlap_and_suffix_paths_match() -> None:
    span = Target("pkg/c.py", 15, 18)
    assert span.covered_by("root/pkg/c.py", 18, 40)
    assert not span.covered_by("pkg/c.py", 19, 40)
    assert not span.covered_by("xpkg/c.py", 15, 18)
    results = [("pkg/c.py", 1, 9)] * 10 + [("pkg/c.py", 10, 20)]
    assert ndcg_at_k(results, [span], INDEXED) == 0.0  # the covering hit is 11th
