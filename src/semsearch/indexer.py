"""Walk → chunk → store → embed, for a source tree or a file of ready-made structures.

Two passes over one collection, so a tree is searchable in seconds rather than after its
last structure has been through the model:
  1. lexical: every new or changed file is parsed and its structures are written with their
     payload and BM25 vector (and their dense vectors when the vector cache already knows
     them); the collection answers lexical and ranking-only queries from here on.
  2. dense: every point still without dense vectors gets them (length-sorted batches, the
     vector cache), written with update-vectors, batch by batch; between batches another
     process waiting for the embedded store gets it (Store.yield_to_readers).
A killed run leaves points without vectors, and the next run's second pass fills them
in; `lexical_only` stops after pass 1 (no model is loaded at all).

Re-indexing is incremental at two levels. Per file: each point carries its file's content
hash and the number of structures the file produced, so an unchanged file is skipped
without touching the model, a changed file's points are replaced, and a file whose points
were cut short by a crash (fewer points than it should have) is redone; deleted files lose
their points. Per structure: vectors come through the content-keyed vector cache, so in an
edited file only the structures whose text changed reach the model, and a collection
rebuilt with --recreate costs no model time at all.

Several trees share one collection as repositories (repos.py): each point carries `repo`, its
id includes it, and the per-file bookkeeping (known files, replaced and removed files) is
scoped to the repository being indexed, so updating one never touches another's points.

Parsing runs in a worker thread ahead of the embedding loop (the model releases the GIL).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from semsearch import lexical
from semsearch.chunking import chunk_source
from semsearch.embedding import MINILM, Encoder, backend_for, encoder, model_dim
from semsearch.models import LEXICAL, Models, resolve_models
from semsearch.repos import FIELD as REPO, Repo, as_metadata, claim, git_revision, now, recorded
from semsearch.store import CollectionSpec, DenseVector, Filter, HasVector, Match, Point, Store, StoreError
from semsearch.structures import FOLDERS, Structure, folders
from semsearch.textify import textify
from semsearch.vector_cache import VectorCache, default_path
from semsearch.walk import DEFAULT_MAX_BYTES, SourceFile, WalkSummary, walk

CODE_COLLECTION = "code"
KEYWORD_FIELDS = ["language", "context.file_path", "context.module", "code_type",
                  "context.file_name", "context.struct_name", "name", FOLDERS, "file_key", REPO]
HASH_CHARS = 16  # of a file's SHA-1, enough to tell its versions apart (collections made before kept all 40)
FACET_LIMIT = 10_000_000  # more files than any tree: the facet must list them all
EMBED_BATCH = 256  # structures per embed + update-vectors round: the unit of progress and of crash loss
LEXICAL_BATCH = 2048  # structures per upsert in the lexical pass
DELETE_BATCH = 1024  # files whose points one delete removes
MISSING_VECTORS = Filter(must_not=[HasVector("text")])  # points the dense pass has not reached


@dataclass
class IndexSummary:
    walk: WalkSummary = field(default_factory=WalkSummary)
    files_unchanged: int = 0
    files_indexed: int = 0
    files_removed: int = 0
    structures_embedded: int = 0
    vectors_cached: int = 0  # of the 2 per structure, how many came from the vector cache
    embedding_seconds: float = 0.0  # inside the encoders (and the cache): the model's share of `seconds`
    points: int = 0
    without_vectors: int = 0  # points the dense pass has not reached (lexical only, or stopped)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class Progress:
    """Counters handed to the caller's callback after each step (and shown by the API)."""

    phase: str = "scanning"  # scanning → parsing (pass 1) → embedding (pass 2) → optimizing → done
    files: int = 0  # seen by the walk
    files_to_parse: int = 0  # new or changed
    files_parsed: int = 0
    structures: int = 0  # written by the lexical pass
    to_embed: int = 0  # points without dense vectors when the dense pass began
    embedded: int = 0
    started: float = field(default_factory=time.monotonic)
    embedding_started: float | None = None

    def rate(self) -> float | None:
        """Structures per second since embedding began."""
        if self.embedding_started is None:
            return None
        elapsed = time.monotonic() - self.embedding_started
        return self.embedded / elapsed if elapsed > 0.5 and self.embedded else None

    def eta(self) -> float | None:
        """Seconds left in the dense pass."""
        rate = self.rate()
        if rate is None or self.phase != "embedding":
            return None
        return max(0.0, (self.to_embed - self.embedded) / rate)

    def as_dict(self) -> dict[str, Any]:
        rate, eta = self.rate(), self.eta()
        return {"phase": self.phase, "files": self.files, "files_to_parse": self.files_to_parse,
                "files_parsed": self.files_parsed, "structures": self.structures, "structures_to_embed": self.to_embed,
                "structures_embedded": self.embedded, "elapsed_s": round(time.monotonic() - self.started, 1),
                "structures_per_s": round(rate, 1) if rate else None, "eta_s": round(eta) if eta is not None else None}


ProgressCallback = Callable[[Progress], None]


def prepare_query_encoder(models: Models) -> None:
    """Export the query encoder now, while torch is loaded, so the first search starts fast."""
    if MINILM in models.as_dict().values():
        try:
            from semsearch.onnx import export

            export(MINILM, quantized=models.precision == "int8")
        except Exception:  # noqa: BLE001 - searches fall back to torch
            pass


def file_hash(text: str, generated: bool = False) -> str:
    """The file's content, and whether .gitattributes marks it generated (a change there re-indexes it)."""
    content = text.encode("utf-8", errors="replace") + (b"\0generated" if generated else b"")
    return hashlib.sha1(content).hexdigest()[:HASH_CHARS]


class Indexer:
    def __init__(self, store: Store, collection: str = CODE_COLLECTION, *,
                 text_model: str | None = None, code_model: str | None = None, backend: str | None = None,
                 device: str | None = None, on_progress: ProgressCallback | None = None,
                 cache: VectorCache | None = None) -> None:
        self.store = store
        self.collection = collection
        self._requested = (text_model, code_model, backend)
        self.device = device
        self.on_progress = on_progress or (lambda progress: None)
        self.progress = Progress()
        self.cache = cache if cache is not None else VectorCache(default_path())
        self.repo: str | None = None  # the repository being written; None: no `repo` (imports, older collections)

    # -- public --------------------------------------------------------------------
    def index_tree(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, recreate: bool = False,
                   hidden: bool = False, lexical_only: bool = False, repo: str | None = None,
                   source_url: str | None = None) -> IndexSummary:
        """Index the tree at root as repository `repo` (default: the folder's name) of the collection,
        leaving its other repositories as they are; source_url: where its files are browsable."""
        started = time.perf_counter()
        summary = IndexSummary()
        existing = self.store.metadata(self.collection) if self.store.exists(self.collection) and not recreate else None
        claimed = claim(existing, root, repo)  # refused before anything is written
        models = self._prepare(recreate, {"root": str(root.resolve()), "repos": {}})
        self.repo = None if claimed.legacy else claimed.name
        claimed.revision = git_revision(root)
        claimed.source_url = source_url or claimed.source_url
        self._record(claimed)
        known = self._known_files()
        changed: list[tuple[SourceFile, str]] = []
        seen: set[str] = set()
        for source in walk(root, max_bytes=max_bytes, summary=summary.walk, hidden=hidden):
            seen.add(source.path)
            digest = file_hash(source.text, source.generated)
            self.progress.files += 1
            if known.get(source.path) == (digest, True):
                summary.files_unchanged += 1
            else:
                changed.append((source, digest))
            if self.progress.files % 200 == 0:
                self.on_progress(self.progress)
        self.progress.files_to_parse = len(changed)
        self.progress.phase = "parsing"
        self.on_progress(self.progress)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="semsearch-parse") as parser:
            parsed = parser.map(lambda item: self._parse(*item, summary), changed)  # runs ahead of the writes
            self._write_lexical(models, (p for p in parsed if p is not None), set(known), summary)
        removed = sorted(set(known) - seen)
        for start in range(0, len(removed), DELETE_BATCH):
            self.store.delete(self.collection, self._files(removed[start:start + DELETE_BATCH]))
        summary.files_removed += len(removed)
        if not lexical_only:
            self._fill_vectors(models, summary)
        if summary.files_indexed or summary.files_removed or summary.structures_embedded:
            self.progress.phase = "optimizing"
            self.on_progress(self.progress)
            self.store.optimize(self.collection)
        if 2 * summary.structures_embedded > summary.vectors_cached:  # the model ran: export the query encoder now
            prepare_query_encoder(models)
        self.progress.phase = "done"
        self.on_progress(self.progress)
        summary.points = self.store.count(self.collection)
        summary.without_vectors = self.store.count(self.collection, MISSING_VECTORS)
        claimed.updated = now()
        self._record(claimed)
        summary.seconds = time.perf_counter() - started
        return summary

    def import_structures(self, structures: Iterable[Structure]) -> IndexSummary:
        """Add ready-made structures (the seed JSON format), grouped by their file."""
        started = time.perf_counter()
        summary = IndexSummary()
        models = self._prepare(False, {"root": None})
        by_file: dict[str, list[Structure]] = {}
        for structure in structures:
            by_file.setdefault(structure.file_path, []).append(structure)
        pending = [(path, "imported", items) for path, items in by_file.items()]
        self._write_lexical(models, pending, set(), summary)
        self._fill_vectors(models, summary)
        self.store.optimize(self.collection)
        summary.points = self.store.count(self.collection)
        summary.seconds = time.perf_counter() - started
        return summary

    # -- internals -----------------------------------------------------------------
    def _prepare(self, recreate: bool, extra: dict[str, Any]) -> Models:
        exists = self.store.exists(self.collection)
        metadata = self.store.metadata(self.collection) if exists and not recreate else None
        if metadata is not None and metadata.get("kind", "code") != "code":
            raise StoreError(f"collection {self.collection!r} holds {metadata.get('kind')}, not code")
        models = resolve_models(metadata, *self._requested)
        self.backend = backend_for(models.precision, self._requested[2])
        if exists and recreate:
            self.store.drop(self.collection)  # only now that the request is known to be sound
            exists = False
        if not exists:
            spec = CollectionSpec(
                vectors={v: DenseVector(size=model_dim(m, lambda m=m: self._encoder(m).dim), model=m,
                                        precision=models.precision)
                         for v, m in models.as_dict().items()},
                sparse={LEXICAL: lexical.NAME},
                # A store that matches path prefixes filters folders on the path itself.
                keyword_fields=[f for f in KEYWORD_FIELDS if f != FOLDERS or not self.store.matches_prefixes],
                metadata={"kind": "code", **extra},
            )
            self.store.create(self.collection, spec)
        return models

    def _record(self, repo: Repo) -> None:
        """The repository's entry in the collection's metadata (the others as they are)."""
        repos = recorded(self.store.metadata(self.collection))
        repos[repo.name] = repo
        self.store.update_metadata(self.collection, {"repos": as_metadata(repos)})

    def _files(self, paths: list[str]) -> Filter:
        """The points of these files of the repository being indexed."""
        return Filter(must=[Match("context.file_path", paths), *([Match(REPO, self.repo)] if self.repo else [])])

    def _file_key(self, digest: str, count: int, path: str) -> str:
        return f"{digest}:{count}:{self.repo}:{path}" if self.repo else f"{digest}:{count}:{path}"

    def _encoder(self, model: str) -> Encoder:
        return encoder(model, self.backend, self.device)

    def _parse(self, source: SourceFile, digest: str, summary: IndexSummary) -> tuple[str, str, list[Structure]] | None:
        try:
            structures = chunk_source(source.path, source.text)
            if source.generated:
                for structure in structures:
                    structure.extra["generated"] = True
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
            summary.walk.skip("parse error", source.path)
            summary.errors.append(f"{source.path}: {exc}")
            return None
        finally:
            self.progress.files_parsed += 1
        return source.path, digest, structures

    def _known_files(self) -> dict[str, tuple[str, bool]]:
        """path → (content hash, complete?) for every file of this repository already in the collection.

        Every point carries `file_key` = "<hash>:<structures in the file>:<repo>:<path>" (no
        repo in a collection made before repositories), a keyword field, so one facet call
        returns each file with its point count: on the CPython standard library (69k points)
        that is milliseconds where reading the payloads took seconds. Collections made before
        the field existed are read by scrolling.
        """
        if "file_key" in self.store.metadata(self.collection).get("keyword_fields", []):
            known = {}
            prefix = f"{self.repo}:" if self.repo else ""
            for key, count in self.store.facet(self.collection, "file_key", limit=FACET_LIMIT).items():
                if not count:  # a replaced version of a file, kept in the open shard's index with no points
                    continue
                digest, expected, path = key.split(":", 2)
                if not path.startswith(prefix):  # another repository's file
                    continue
                known[path[len(prefix):]] = (digest[:HASH_CHARS], count == int(expected))
            return known
        hashes: dict[str, str] = {}
        expected: dict[str, int] = {}
        counts: dict[str, int] = {}
        for hit in self.store.scroll(self.collection, ["context.file_path", "file_hash", "file_chunks"]):
            path = (hit.payload.get("context") or {}).get("file_path")
            if path is None:
                continue
            hashes[path] = hit.payload.get("file_hash", "")
            expected[path] = int(hit.payload.get("file_chunks") or 0)
            counts[path] = counts.get(path, 0) + 1
        return {p: (h[:HASH_CHARS], counts[p] == expected[p]) for p, h in hashes.items()}

    def _embed(self, models: Models, structures: list[Structure]) -> tuple[np.ndarray, np.ndarray, int]:
        text_encoder, code_encoder = self._encoder(models.text), self._encoder(models.code)
        before = self.cache.hits
        text = self.cache.encode(text_encoder, [textify(s) for s in structures], f"{models.text}@{models.precision}")
        code = self.cache.encode(code_encoder, [s.context.snippet for s in structures],
                                 f"{models.code}@{models.precision}")
        return text, code, self.cache.hits - before

    def _cached(self, models: Models, structures: list[Structure]) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Per structure, both dense vectors if the vector cache holds them (no model is loaded)."""
        dims = self.store.metadata(self.collection)["vectors"]
        text = self.cache.lookup([textify(s) for s in structures], f"{models.text}@{models.precision}",
                                 dims["text"]["size"])
        code = self.cache.lookup([s.context.snippet for s in structures], f"{models.code}@{models.precision}",
                                 dims["code"]["size"])
        return [(t, c) if t is not None and c is not None else None for t, c in zip(text, code)]

    def _write_lexical(self, models: Models, pending: Iterable[tuple[str, str, list[Structure]]],
                       replaced: set[str], summary: IndexSummary) -> None:
        """Pass 1: each file's structures with payload and BM25 vector (dense too when cached)."""
        batch: list[tuple[str, str, list[Structure]]] = []
        size = 0
        file_fields = _file_fields(self.store.metadata(self.collection))
        for item in _then_none(pending):
            if item is not None:
                batch.append(item)
                size += len(item[2])
                if size < LEXICAL_BATCH:
                    continue
            if not batch:
                break
            structures = [s for _, _, items in batch for s in items]
            cached = self._cached(models, structures) if structures else []
            points = []
            row = 0
            stale = [path for path, _, _ in batch if path in replaced]
            if stale:  # one delete for the batch: each write is a flush in an embedded store
                self.store.delete(self.collection, self._files(stale))
            for path, digest, items in batch:
                for structure in items:
                    payload = {**structure.to_dict(), "file_key": self._file_key(digest, len(items), path),
                               **file_fields(path, digest, len(items)), **({REPO: self.repo} if self.repo else {})}
                    vectors: dict[str, Any] = {LEXICAL: lexical.embed_document(lexical.lexical_text(structure))}
                    known = cached[row]
                    if known is not None:
                        vectors.update(text=known[0].tolist(), code=known[1].tolist())
                        summary.structures_embedded += 1
                        summary.vectors_cached += 2
                    points.append(Point(structure.point_id(self.repo), vectors, payload))
                    row += 1
                if items or path in replaced:  # a file with nothing to index (an empty __init__.py) stays so
                    summary.files_indexed += 1
            self.store.upsert(self.collection, points)
            self.progress.structures += len(points)
            self.on_progress(self.progress)
            self.store.yield_to_readers(self.collection)
            batch, size = [], 0

    def _fill_vectors(self, models: Models, summary: IndexSummary) -> None:
        """Pass 2: dense vectors for every point that has none yet (this run's or a killed run's)."""
        missing = [hit.id for hit in self.store.scroll(self.collection, [], MISSING_VECTORS)]
        self.progress.phase = "embedding"
        self.progress.to_embed = len(missing)
        self.progress.embedding_started = time.monotonic()
        self.on_progress(self.progress)
        for start in range(0, len(missing), EMBED_BATCH):
            points = self.store.retrieve(self.collection, missing[start:start + EMBED_BATCH])
            structures = [Structure.from_dict(p.payload) for p in points]
            clock = time.perf_counter()
            text_vectors, code_vectors, cached = self._embed(models, structures)
            summary.embedding_seconds += time.perf_counter() - clock
            self.store.update_vectors(self.collection, {
                p.id: {"text": text_vectors[i].tolist(), "code": code_vectors[i].tolist()}
                for i, p in enumerate(points)})
            summary.structures_embedded += len(points)
            summary.vectors_cached += cached
            self.progress.embedded += len(points)
            self.on_progress(self.progress)
            self.store.yield_to_readers(self.collection)


def _file_fields(metadata: dict[str, Any]) -> Callable[[str, str, int], dict[str, Any]]:
    """What else a point says of its file, as its collection was made. `file_key` carries the hash and
    the structure count, read back by one facet; a collection made before that field reads them from
    `file_hash` and `file_chunks`. `dirs` serves the folder filter in a store that cannot match prefixes."""
    keyword = metadata.get("keyword_fields", [])

    def fields(path: str, digest: str, count: int) -> dict[str, Any]:
        out: dict[str, Any] = {} if "file_key" in keyword else {"file_hash": digest, "file_chunks": count}
        if FOLDERS in keyword:
            out[FOLDERS] = folders(path)
        return out
    return fields


def _then_none(items: Iterable[Any]) -> Iterable[Any]:
    """The items, then None: the write loop's signal to flush its last batch."""
    yield from items
    yield None
