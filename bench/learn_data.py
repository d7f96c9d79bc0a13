"""The learned ranker's data: every query of a corpus as the product sees it, with its labels.

A query becomes one group of rows: its candidate pool rebuilt exactly as the product builds
it (offline.pool), the rules' judgement of each candidate (ranking.judge), the features the
product would compute (features.features), a label per candidate (it covers one of the
query's targets), where each candidate lies (to score an order with the benchmark's NDCG@10)
and the rules' own order (today's product). Two sources: the nine development repositories
(`../shared/bench/code-search`), the mined corpus (bench/corpus.py: many packages in
many languages, split into folds) and the hand-written queries (bench/handwritten.py: real
developer-style queries over 50 packages, each in its package's fold).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from code_search import K, Target
from corpus_queries import read_queries
from csn import MAX_PAIRS, pairs_for, store_for
from csn import SOURCES as CSN_SOURCES
from offline import Corpus, embed_queries, pool, read_corpus, scores, summary
from sources import DEFAULT_DATA, WORK, manifest, prefix, tasks

from semsearch.features import features
from semsearch.ranking import DEFAULT, judge, rerank
from semsearch.search import CANDIDATES

HERE = Path(__file__).resolve().parent
CORPUS = WORK / "corpus"
PACKAGES = HERE / "corpus_packages.json"
CACHE = WORK / "learn"
NINE_FOLD = -1  # the nine development repositories are no fold of the mined corpus
CSN_FOLD = -2  # nor are the CodeSearchNet-style pairs
HANDWRITTEN_FOLD = 10  # a hand-written package's group has fold 10 + its package's fold (0-4)


@dataclass
class Group:
    """One query: its candidates' rows and what is needed to score any order of them."""

    repo: str
    language: str
    fold: int
    category: str
    rows: np.ndarray  # candidates x FEATURES
    labels: np.ndarray  # 1 where the candidate covers a target
    tiers: np.ndarray  # ranking's tiers (identifier queries)
    paths: list[str]  # each candidate's file (the file decay)
    covers: list[list[int]]  # per candidate, which targets it covers
    targets: int  # targets some indexed chunk covers: the ideal DCG's length
    question: bool
    rules: list[int]  # the product's order today (indices into the candidates)


def ndcg(order: list[int], group: Group) -> float:
    """The benchmark's NDCG@10 of an order of the group's candidates (code_search.ndcg_at_k)."""
    if group.targets == 0:
        return 0.0
    first: dict[int, int] = {}
    for rank, i in enumerate(order[:K], start=1):
        for t in group.covers[i]:
            first.setdefault(t, rank)
    dcg = sum(1 / math.log2(r + 1) for r in first.values())
    return dcg / sum(1 / math.log2(i + 1) for i in range(1, min(K, group.targets) + 1))


def decayed_order(group: Group, scores: np.ndarray, decay: float, tiers: bool = True) -> list[int]:
    """The order `ranking.decayed` gives for these scores (exp of the model's score), as indices."""
    values = np.exp(scores - scores.max())
    tier = group.tiers if tiers else np.zeros(len(values))
    first = sorted(range(len(values)), key=lambda i: (-tier[i], -values[i], i))
    seen: dict[str, int] = {}
    final = []
    for i in first:
        n = seen.get(group.paths[i], 0)
        seen[group.paths[i]] = n + 1
        final.append((-tier[i], -values[i] * decay ** n, i))
    final.sort()
    return [i for _, _, i in final]


@dataclass
class Task:
    """A query and how to tell which chunks answer it."""

    query: str
    category: str
    covers: Callable[[str, int, int, str], list[int]]  # (path, line_from, line_to, point id) -> targets covered
    targets: int  # targets some indexed chunk covers
    # A file-level query written from one structure's doc (the mined corpus's "doc" rule): that
    # structure answers it best; (path, line) of its doc.
    origin: tuple[str, int] | None = None


def file_tasks(corpus: Corpus, queries: list[dict[str, Any]], head: str) -> list[Task]:
    """Queries with targets in the benchmark's format (files or line spans, paths under `head`)."""
    located = [(head + p["context"]["file_path"], p["line_from"], p["line_to"]) for p in corpus.payloads]
    out = []
    for task in queries:
        targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
        indexed = sum(any(t.covered_by(*chunk) for chunk in located) for t in targets)

        def covers(path: str, lo: int, hi: int, point: str, targets: list[Target] = targets) -> list[int]:
            return [n for n, t in enumerate(targets) if t.covered_by(head + path, lo, hi)]
        origin = (task["from"]["path"], int(task["from"]["line"])) if task.get("rule") == "doc" else None
        out.append(Task(task["query"], task.get("category", ""), covers, indexed, origin))
    return out


def graded(task: Task, candidates: list[Any], covers: list[list[int]]) -> np.ndarray:
    """1 for a candidate covering a target; 2 for the structure a "doc" query was written from
    (the smallest chunk of its file that holds the doc's line or starts within three lines after it)."""
    labels = np.asarray([float(bool(c)) for c in covers], np.float32)
    if task.origin is not None:
        path, line = task.origin
        near = [n for n, c in enumerate(candidates) if covers[n] and c.path == path
                and int(c.payload["line_from"]) <= line + 3 and int(c.payload["line_to"]) >= line]
        if near:
            labels[min(near, key=lambda n: int(candidates[n].payload["line_to"]) - int(candidates[n].payload["line_from"]))] = 2.0
    return labels


def groups_of(name: str, language: str, fold: int, corpus: Corpus, tasks: list[Task],
              vectors: dict[str, np.ndarray]) -> list[Group]:
    """Every task of one corpus as a Group (a task none of whose targets is indexed counts 0)."""
    out = []
    for task in tasks:
        qs = scores(corpus, task.query, vectors[task.query])
        candidates = pool(corpus, qs)
        judged = judge(qs.query, candidates, DEFAULT)
        rows = features(qs.query, judged, summary(corpus, qs), CANDIDATES)
        covers = [task.covers(c.path, int(c.payload["line_from"]), int(c.payload["line_to"]), c.id)
                  for c in candidates]
        index = {c.id: n for n, c in enumerate(candidates)}
        out.append(Group(name, language, fold, task.category, rows, graded(task, candidates, covers),
                         np.asarray([j.tier for j in judged], np.float32), [c.path for c in candidates], covers,
                         task.targets, qs.query.is_question,
                         [index[c.id] for c in rerank(qs.query, candidates, DEFAULT)]))
    return out


def nine(data: Path = DEFAULT_DATA) -> list[Group]:
    """The development set's queries, from the stores bench/code_search.py built."""
    out = []
    for entry in manifest(data):
        store = WORK / "stores" / entry["name"]
        if not store.is_dir():
            raise SystemExit(f"no store for {entry['name']}: run bench/code_search.py first")
        corpus = read_corpus(store, "code", WORK / "offline" / entry["name"])
        queries = tasks(entry, data)
        vectors = embed_queries([t["query"] for t in queries], WORK / "offline" / "queries.json")
        out += groups_of(entry["name"], entry["language"], NINE_FOLD, corpus, file_tasks(corpus, queries, prefix(entry)),
                         vectors)
    return out


def mined(wanted: set[str] | None = None) -> list[Group]:
    """The mined corpus's queries, from the stores bench/corpus.py built (packages without one are skipped)."""
    out = []
    for package in json.loads(PACKAGES.read_text()):
        store = CORPUS / "stores" / package["id"]
        finished = (CORPUS / "indexed" / f"{package['id']}.json").is_file()  # bench/corpus.py index wrote it
        if (wanted and package["id"] not in wanted) or not finished:
            continue
        queries = read_queries(package["id"])
        if not queries:
            continue
        try:
            corpus = read_corpus(store, "code", CACHE / "corpora" / package["id"])
        except Exception as exc:  # noqa: BLE001 - a store still being built (locked) or empty is skipped
            print(f"skipped {package['id']}: {exc}")
            continue
        vectors = embed_queries([q["query"] for q in queries], CACHE / "queries" / f"{package['id']}.json")
        out += groups_of(package["id"], package["language"], int(package["fold"]), corpus,
                         file_tasks(corpus, queries, ""), vectors)
    return out


def handwritten() -> list[Group]:
    """The hand-written queries, from the stores bench/handwritten.py index built (packages without one skipped)."""
    from handwritten import QUERIES, STORES, packages  # the hand-written set's own list and stores

    out = []
    for package in packages():
        store = STORES / package.id
        if not store.is_dir():
            continue
        queries = json.loads((QUERIES / f"{package.id}.json").read_text())
        try:
            corpus = read_corpus(store, "code", CACHE / "handwritten" / package.id)
        except Exception as exc:  # noqa: BLE001 - a store still being built (locked) is skipped
            print(f"skipped {package.id}: {exc}")
            continue
        vectors = embed_queries([q["query"] for q in queries], CACHE / "handwritten-queries.json")
        out += groups_of(package.id, package.language, HANDWRITTEN_FOLD + package.fold, corpus,
                         file_tasks(corpus, queries, ""), vectors)
    return out


def csn() -> list[Group]:
    """bench/csn.py's doc-sentence → function pairs per language (scored by MRR@10, never trained on)."""
    out = []
    for language in CSN_SOURCES:
        structures, pairs = pairs_for(language, MAX_PAIRS)
        corpus = read_corpus(store_for(language, structures), "csn", WORK / "offline" / f"csn-{language}")
        vectors = embed_queries([q for q, _ in pairs], WORK / "offline" / f"csn-{language}-queries.json")
        tasks = [Task(query, "csn", lambda path, lo, hi, point, target=target: [0] if point == target else [], 1)
                 for query, target in pairs]
        out += groups_of(f"csn-{language}", language, CSN_FOLD, corpus, tasks, vectors)
    return out


def mrr(order: list[int], group: Group) -> float:
    """MRR@10: 1 / the rank of the first candidate covering a target."""
    for rank, i in enumerate(order[:K], start=1):
        if group.covers[i]:
            return 1 / rank
    return 0.0
