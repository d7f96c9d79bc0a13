"""Each file's `file` vector is its mean text vector, on one point, kept in step with edits; it lifts hybrid
hits and brings the nearest files' best structures to the candidates."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semsearch.indexer import HAS_FILE_VECTOR, Indexer
from semsearch.models import FILE, FILE_POINT
from semsearch.ranking import Candidate
from semsearch.search import FILE_WEIGHT, Searcher, add_file_scores
from semsearch.store import Filter, Match, Search
from semsearch.store.edge import EdgeStore
from semsearch.vector_cache import VectorCache

PARSER = '''
def parse_header(line):
    """Split one HTTP header line into its name and value."""
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip()


def parse_headers(lines):
    """Every header of a request, by lower-case name."""
    return dict(parse_header(line) for line in lines)
'''
COLOURS = '''
def blend(a, b, t):
    """Mix two RGB colours; t = 0 gives a, t = 1 gives b."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))
'''


def two_files(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "headers.py").write_text(PARSER)
    (tree / "colours.py").write_text(COLOURS)
    return tree


def points_by_file(store: EdgeStore) -> dict[str, list]:
    ids = [hit.id for hit in store.scroll("code", [])]
    out: dict[str, list] = {}
    for point in store.retrieve("code", ids, with_vectors=True):
        out.setdefault(point.payload["context"]["file_path"], []).append(point)
    return out


def file_vector_of(points: list) -> np.ndarray:
    """The file's one file vector, checked to be on its first structure and the mean of its text vectors."""
    carriers = [p for p in points if FILE in p.vectors]
    assert len(carriers) == 1
    assert carriers[0] is min(points, key=lambda p: p.payload["line_from"])
    assert {p.payload[FILE_POINT] for p in points} == {carriers[0].id}
    mean = np.mean([p.vectors["text"] for p in points], axis=0)
    mean /= np.linalg.norm(mean)
    assert np.allclose(carriers[0].vectors[FILE], mean, atol=1e-5)
    return np.asarray(carriers[0].vectors[FILE])


def test_each_file_carries_its_mean_text_vector_once_and_an_edit_renews_only_that_file(tmp_path: Path) -> None:
    tree = two_files(tmp_path)
    cache = VectorCache(tmp_path / "cache")
    with EdgeStore(tmp_path / "store") as store:
        Indexer(store, "code", cache=cache).index_tree(tree)
        before = points_by_file(store)
        assert sorted(before) == ["colours.py", "headers.py"] and len(before["headers.py"]) == 2
        headers, colours = file_vector_of(before["headers.py"]), file_vector_of(before["colours.py"])
        assert store.count("code", HAS_FILE_VECTOR) == 2

        (tree / "headers.py").write_text(PARSER + '''

def format_header(name, value):
    """One header line from a name and a value."""
    return f"{name}: {value}"
''')
        Indexer(store, "code", cache=cache).index_tree(tree)
        after = points_by_file(store)
        assert len(after["headers.py"]) == 3
        assert not np.allclose(file_vector_of(after["headers.py"]), headers)
        assert np.array_equal(file_vector_of(after["colours.py"]), colours)
        assert store.count("code", HAS_FILE_VECTOR) == 2


def test_lexical_only_points_get_their_file_vector_with_the_dense_pass(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "headers.py").write_text(PARSER)
    with EdgeStore(tmp_path / "store") as store:
        summary = Indexer(store, "code", cache=VectorCache(None)).index_tree(tree, lexical_only=True)
        assert store.count("code") == summary.points == 2
        assert store.count("code", HAS_FILE_VECTOR) == 0
        Indexer(store, "code", cache=VectorCache(None)).index_tree(tree)
        file_vector_of(points_by_file(store)["headers.py"])


def test_a_run_killed_before_the_file_step_is_finished_by_the_next(tmp_path: Path, monkeypatch) -> None:
    tree = two_files(tmp_path)
    cache = VectorCache(tmp_path / "cache")
    with EdgeStore(tmp_path / "store") as store:
        with monkeypatch.context() as patch:
            patch.setattr(Indexer, "_fill_file_vectors", lambda self: None)
            Indexer(store, "code", cache=cache).index_tree(tree)
        assert store.count("code", HAS_FILE_VECTOR) == 0
        summary = Indexer(store, "code", cache=cache).index_tree(tree)
        assert summary.files_indexed == 0  # nothing changed, and still the step ran
        for points in points_by_file(store).values():
            file_vector_of(points)


def test_a_hybrid_candidate_is_lifted_by_its_files_closeness_to_the_query(tmp_path: Path) -> None:
    tree = two_files(tmp_path)
    with EdgeStore(tmp_path / "store") as store:
        Indexer(store, "code", cache=VectorCache(tmp_path / "cache")).index_tree(tree)
        searcher = Searcher(store, "code")
        assert searcher.has_file
        query = "parse HTTP request headers"
        vector = np.asarray(searcher._embed("text", query))
        by_path = points_by_file(store)
        files = {points[0].payload[FILE_POINT]: float(vector @ file_vector_of(points)) for points in by_path.values()}
        points = [p for ps in by_path.values() for p in ps]
        candidates = [Candidate(p.id, p.payload, score=1.0) for p in points]
        add_file_scores(candidates, files)
        for c in candidates:
            assert abs(c.score - (1.0 + FILE_WEIGHT * files[c.payload[FILE_POINT]])) < 1e-4
        by_file = {c.path: c.score for c in candidates}
        assert by_file["headers.py"] > by_file["colours.py"]
        assert searcher.search(query, limit=1)[0].path == "headers.py"
        unknown = Candidate("new", {FILE_POINT: "elsewhere"}, score=1.0)  # no file vector yet: the floor
        add_file_scores([unknown], files)
        assert abs(unknown.score - (1.0 + FILE_WEIGHT * min(files.values()))) < 1e-4


def test_a_near_file_brings_its_best_structure_to_the_candidates(tmp_path: Path) -> None:
    tree = two_files(tmp_path)
    with EdgeStore(tmp_path / "store") as store:
        Indexer(store, "code", cache=VectorCache(tmp_path / "cache")).index_tree(tree)
        searcher = Searcher(store, "code")
        query = "parse HTTP request headers"
        vector = searcher._embed("text", query)
        (nearest,) = store.search("code", [Search(FILE, vector, 1, with_payload=["context.file_path"])])
        assert nearest[0].payload["context"]["file_path"] == "headers.py"
        headers = points_by_file(store)["headers.py"]
        carrier = nearest[0].id
        best = max(headers, key=lambda p: float(np.dot(vector, p.vectors["text"])))
        added = searcher._near_files([], [carrier], vector, code_floor=0.1, flt=None)
        assert [c.id for c in added] == [best.id]
        assert abs(added[0].score - (float(np.dot(vector, best.vectors["text"])) + 0.5 * 0.1)) < 1e-4
        # a structure already among the candidates is not added twice
        known = Candidate(best.id, best.payload, score=1.0)
        assert searcher._near_files([known], [carrier], vector, code_floor=0.1, flt=None) == []
        # the user's filter holds for what joins
        assert searcher._near_files([], [carrier], vector, code_floor=0.1,
                                    flt=Filter(must=[Match("language", "rust")])) == []
