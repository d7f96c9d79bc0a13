"""Each point's `file` vector is its file's mean text vector, kept in step with edits, and lifts hybrid hits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semsearch.indexer import STALE_FILE_VECTORS, Indexer
from semsearch.models import FILE
from semsearch.ranking import Candidate
from semsearch.search import FILE_WEIGHT, Searcher, add_file_scores
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


def file_vectors(store: EdgeStore) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """path -> (text vector, file vector) of each of its points."""
    ids = [hit.id for hit in store.scroll("code", [])]
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for point in store.retrieve("code", ids, with_vectors=True):
        path = point.payload["context"]["file_path"]
        out.setdefault(path, []).append((np.asarray(point.vectors["text"]), np.asarray(point.vectors[FILE])))
    return out


def check_means(vectors: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> None:
    for path, points in vectors.items():
        mean = np.mean([text for text, _ in points], axis=0)
        mean /= np.linalg.norm(mean)
        for _, file_vector in points:
            assert np.allclose(file_vector, mean, atol=1e-5), path


def test_every_point_carries_its_files_mean_text_vector_and_an_edit_renews_only_that_file(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "headers.py").write_text(PARSER)
    (tree / "colours.py").write_text(COLOURS)
    cache = VectorCache(tmp_path / "cache")
    with EdgeStore(tmp_path / "store") as store:
        Indexer(store, "code", cache=cache).index_tree(tree)
        before = file_vectors(store)
        assert sorted(before) == ["colours.py", "headers.py"] and len(before["headers.py"]) == 2
        check_means(before)
        assert store.count("code", STALE_FILE_VECTORS) == 0

        (tree / "headers.py").write_text(PARSER + '''

def format_header(name, value):
    """One header line from a name and a value."""
    return f"{name}: {value}"
''')
        Indexer(store, "code", cache=cache).index_tree(tree)
        after = file_vectors(store)
        check_means(after)
        assert len(after["headers.py"]) == 3
        assert not np.allclose(after["headers.py"][0][1], before["headers.py"][0][1])
        assert np.array_equal(after["colours.py"][0][1], before["colours.py"][0][1])


def test_lexical_only_points_get_their_file_vector_with_the_dense_pass(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "headers.py").write_text(PARSER)
    with EdgeStore(tmp_path / "store") as store:
        summary = Indexer(store, "code", cache=VectorCache(None)).index_tree(tree, lexical_only=True)
        assert store.count("code") == summary.points == 2
        ids = [hit.id for hit in store.scroll("code", [])]
        assert all(FILE not in p.vectors for p in store.retrieve("code", ids, with_vectors=True))
        Indexer(store, "code", cache=VectorCache(None)).index_tree(tree)
        check_means(file_vectors(store))


def cosines(vector: list[float], points: list) -> dict[str, float]:
    return {p.id: float(np.dot(vector, p.vectors[FILE])) for p in points}


def test_a_hybrid_candidate_is_lifted_by_its_files_closeness_to_the_query(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "headers.py").write_text(PARSER)
    (tree / "colours.py").write_text(COLOURS)
    with EdgeStore(tmp_path / "store") as store:
        Indexer(store, "code", cache=VectorCache(tmp_path / "cache")).index_tree(tree)
        searcher = Searcher(store, "code")
        assert searcher.has_file
        query = "parse HTTP request headers"
        vector = searcher._embed("text", query)
        points = store.retrieve("code", [hit.id for hit in store.scroll("code", [])], with_vectors=True)
        candidates = [Candidate(p.id, p.payload, score=1.0) for p in points]
        add_file_scores(candidates, cosines(vector, points))
        for point, c in zip(points, candidates):
            expected = 1.0 + FILE_WEIGHT * float(np.dot(vector, point.vectors[FILE]))
            assert abs(c.score - expected) < 1e-4
        by_file = {c.path: c.score for c in candidates}
        assert by_file["headers.py"] > by_file["colours.py"]
        assert searcher.search(query, limit=1)[0].path == "headers.py"
        unknown = Candidate("new", {}, score=1.0)  # written after the last file-vector step: the floor
        add_file_scores([unknown, *candidates], cosines(vector, points))
        floor = min(float(np.dot(vector, p.vectors[FILE])) for p in points)
        assert abs(unknown.score - (1.0 + FILE_WEIGHT * floor)) < 1e-4
