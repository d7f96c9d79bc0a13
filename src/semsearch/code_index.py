"""An indexed source tree as one object: bring it up to date, search it, find related code, read it.

This is semsearch's public Python API and the core the faces share: the CLI, the HTTP API
and the MCP server each turn a request into one call here and the answer into their own
format. It holds no I/O of its own beyond the store and the tree it indexes.

    import semsearch
    with semsearch.open_index("~/src/myrepo") as index:
        index.update()
        for hit in index.search("retry with backoff", limit=5):
            print(hit.path, hit.line_from, hit.payload["name"])

Every error a caller can fix (a bad filter, a path outside the tree, an unknown mode) is a
`QueryError` with a one-line message; each face turns it into its own answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semsearch.chunking.languages import CONFIG_LANGUAGES, DOC_LANGUAGES
from semsearch.search import (DEFAULT_MODE, Group, NotFound, QueryError, SearchHit, Searcher, field_path,
                              parse_filters)
from semsearch.store import STORE_DIR, Filter, HasVector, Match, Store, StoreError, find_store_dir, open_store
from semsearch.store.shared import SharedStore

if TYPE_CHECKING:
    from semsearch.index_job import IndexJob
    from semsearch.indexer import IndexSummary, Progress

CODE_COLLECTION = "code"
CONTENT = ("code", "docs", "config", "all")
MAX_READ_LINES = 400  # lines one read() returns at most
MAX_READ_CHARS = 64_000  # ... and characters
FILES_FACET = 10_000_000
# What a hit's score is, per mode; only its order within one answer means something to a person.
# fused: cos(text) + 0.5 cos(code) + 0.15 BM25/best, then re-ranked (search.py, ranking.py).
SCORE_KINDS = {"hybrid": "fused", "text": "cosine", "code": "cosine", "both": "cosine", "lexical": "bm25"}


@dataclass
class FileLines:
    path: str
    line_from: int
    line_to: int
    total_lines: int
    lines: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IndexStatus:
    root: str | None
    collection: str
    location: str
    files: int
    structures: int
    embedded: int  # structures with dense vectors; fewer than structures while the dense pass runs
    languages: dict[str, int]
    indexing: dict[str, Any] | None = None  # the background job's state and progress, when one runs

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Options:
    """Models and embedding backend; None takes the collection's own (or the defaults)."""

    text_model: str | None = None
    code_model: str | None = None
    backend: str | None = None
    device: str | None = None
    hidden: bool = False  # also index dot-files and dot-folders
    max_bytes: int | None = None


def repository_root(start: Path) -> Path:
    """The repository around start: the nearest folder holding `.git`, else start itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def content_conditions(content: str) -> tuple[list[Match], list[Match]]:
    """(must, must_not) for code (the default: no docs, no config), docs, config or all."""
    if content not in CONTENT:
        raise QueryError(f"unknown content {content!r}: choose one of {', '.join(CONTENT)}")
    if content == "code":
        return [], [Match("language", sorted(DOC_LANGUAGES | CONFIG_LANGUAGES))]
    if content == "docs":
        return [Match("language", sorted(DOC_LANGUAGES))], []
    if content == "config":
        return [Match("language", sorted(CONFIG_LANGUAGES))], []
    return [], []


class CodeIndex:
    """One code collection and, when known, the tree it indexes."""

    def __init__(self, store: Store, collection: str = CODE_COLLECTION, root: Path | None = None,
                 options: Options | None = None, *, owns_store: bool = True) -> None:
        self.store = store if isinstance(store, SharedStore) else SharedStore(store)
        self._inner = store
        self._owns_store = owns_store
        self.collection = collection
        self.options = options or Options()
        self._root = root.resolve() if root is not None else None
        self._searcher: Searcher | None = None
        self.job: IndexJob | None = None

    # -- the tree ------------------------------------------------------------------
    @property
    def root(self) -> Path | None:
        """The indexed tree: as given, else as the collection recorded it."""
        if self._root is None and self.store.exists(self.collection):
            recorded = self.store.metadata(self.collection).get("root")
            self._root = Path(recorded) if recorded else None
        return self._root

    def update(self, *, recreate: bool = False, lexical_only: bool = False,
               on_progress: Callable[[Progress], None] | None = None) -> IndexSummary:
        """Bring the index up to date with the tree: only new and changed files are parsed, and only
        structures without vectors embedded (none with lexical_only)."""
        from semsearch.indexer import Indexer

        root = self._require_root()
        o = self.options
        indexer = Indexer(self.store, self.collection, text_model=o.text_model, code_model=o.code_model,
                          backend=o.backend, device=o.device, on_progress=on_progress)
        kwargs: dict[str, Any] = {"recreate": recreate, "hidden": o.hidden, "lexical_only": lexical_only}
        if o.max_bytes is not None:
            kwargs["max_bytes"] = o.max_bytes
        summary = indexer.index_tree(root, **kwargs)
        self._searcher = None  # models may have been recorded just now
        return summary

    def keep_fresh(self, *, watch: bool = True) -> IndexJob:
        """Update in a background thread (then follow file changes when watch): searches answer meanwhile."""
        from semsearch.index_job import IndexJob

        self._require_root()
        if self.job is None:
            self.job = IndexJob(self.store, self._require_root(), self.collection, watch=watch,
                                hidden=self.options.hidden).start()
        return self.job

    # -- questions -----------------------------------------------------------------
    def search(self, query: str, *, limit: int = 10, mode: str = DEFAULT_MODE, content: str = "code",
               filters: Iterable[str] = (), language: str | None = None, path: str | None = None) -> list[SearchHit]:
        """Best structures for a query. filters: `FIELD=VALUE` strings; language and path (a file or
        folder prefix) are shorthands for the two filters users want most."""
        user, scope, exclude = self._conditions(content, filters, language, path)
        with self.store.lock:
            return self.searcher().search(query, mode=mode, limit=limit, filters=user, scope=scope, exclude=exclude)

    def partial(self) -> dict[str, int] | None:
        """{"embedded": N, "total": M} while points still lack dense vectors, else None."""
        with self.store.lock:
            embedded, total = self.searcher().coverage()
        return {"embedded": embedded, "total": total} if embedded < total else None

    def search_groups(self, query: str, *, group_by: str, group_size: int = 1, limit: int = 10,
                      mode: str = DEFAULT_MODE, content: str = "code", filters: Iterable[str] = (),
                      language: str | None = None, path: str | None = None) -> list[Group]:
        """The best `group_size` hits for each of `limit` values of a payload field (e.g. module)."""
        user, scope, exclude = self._conditions(content, filters, language, path)
        with self.store.lock:
            return self.searcher().search_groups(query, group_by=group_by, group_size=group_size, mode=mode,
                                                 limit=limit, filters=user, scope=scope, exclude=exclude)

    def related(self, path: str, line: int, *, limit: int = 5, content: str = "code") -> list[SearchHit]:
        """Code like the structure at path:line, elsewhere in the tree (by its stored vectors)."""
        if not 1 <= limit <= 100:
            raise QueryError("limit must be between 1 and 100")
        must, exclude = content_conditions(content)
        with self.store.lock:
            anchor = self.structure_at(path, line)
            flt = Filter(must=must, must_not=[*exclude, Match(field_path("path"), anchor.path)])
            return self.searcher().related(anchor.id, limit=limit, flt=flt)

    def structure_at(self, path: str, line: int) -> SearchHit:
        """The innermost indexed structure covering path:line (a line window when nothing else does)."""
        path = _clean(path)
        if line < 1:
            raise QueryError("line numbers start at 1")
        hits = list(self.store.scroll(self.collection, ["name", "code_type", "line_from", "line_to", "context.file_path"],
                                      Filter(must=[Match(field_path("path"), path)])))
        if not hits:
            raise NotFound(f"{path[:200]!r} is not in the index")
        covering = [h for h in hits if h.payload.get("line_from", 0) <= line <= h.payload.get("line_to", 0)]
        if not covering:
            raise NotFound(f"no indexed structure covers {path[:200]!r} line {line}")
        best = min(covering, key=lambda h: (h.payload.get("code_type") == "Block",
                                            h.payload["line_to"] - h.payload["line_from"]))
        return SearchHit(best.id, 0.0, best.payload)

    def read(self, path: str, line_from: int = 1, line_to: int | None = None) -> FileLines:
        """Lines of an indexed file, never outside the tree, at most MAX_READ_LINES of them."""
        path = _clean(path)
        if line_from < 1 or (line_to is not None and line_to < line_from):
            raise QueryError("line range must satisfy 1 <= line_from <= line_to")
        root = self._require_root()
        with self.store.lock:
            indexed = self.store.count(self.collection, Filter(must=[Match(field_path("path"), path)])) > 0
        target = _inside(root, path)
        if target is None or not indexed:
            raise NotFound(f"{path[:200]!r} is not an indexed file of {root}")
        lines = target.read_text(encoding="utf-8", errors="replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        last = min(len(lines), line_to if line_to is not None else line_from + 99, line_from + MAX_READ_LINES - 1)
        chosen, size = [], 0
        for text in lines[line_from - 1:last]:
            size += len(text) + 1
            if size > MAX_READ_CHARS and chosen:
                break
            chosen.append(text)
        return FileLines(path, line_from, line_from + len(chosen) - 1, len(lines), chosen)

    def status(self) -> IndexStatus:
        with self.store.lock:
            exists = self.store.exists(self.collection)
            structures = self.store.count(self.collection) if exists else 0
            embedded = structures - (self.store.count(self.collection, Filter(must_not=[HasVector("text")]))
                                     if structures else 0)
            languages = self.store.facet(self.collection, "language", limit=1000) if exists else {}
            files = len(self.store.facet(self.collection, "file_key", limit=FILES_FACET)) if exists else 0
        root = self.root
        return IndexStatus(str(root) if root else None, self.collection, self.store.location, files, structures,
                           embedded, dict(sorted(languages.items(), key=lambda kv: -kv[1])),
                           self.job.status() if self.job is not None else None)

    def searcher(self) -> Searcher:
        if self._searcher is None:
            o = self.options
            self._searcher = Searcher(self.store, self.collection, text_model=o.text_model, code_model=o.code_model,
                                      device=o.device)
        return self._searcher

    # -- lifetime ------------------------------------------------------------------
    def close(self) -> None:
        """Stop the background job (its batch under way ends first), then close the store if it is ours."""
        if self.job is not None:
            self.job.stop.set()
            self.job.join(timeout=30)
        if self._owns_store:
            with self.store.lock:
                self._inner.close()

    def __enter__(self) -> CodeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------
    def _require_root(self) -> Path:
        root = self.root
        if root is None:
            raise QueryError(f"collection {self.collection!r} records no source tree: open it with the tree's path")
        return root

    def _conditions(self, content: str, filters: Iterable[str], language: str | None,
                    path: str | None) -> tuple[list[Match], list[Match], list[Match]]:
        """(the user's filters, the content's scope, what the content excludes)."""
        scope, exclude = content_conditions(content)
        extra = list(filters)
        if language:
            extra.append(f"language={language}")
        if path:
            cleaned = _clean(path.rstrip("/"))
            extra.append(f"dir={cleaned}" if self._is_folder(cleaned) else f"path={cleaned}")
        return parse_filters(extra), scope, exclude

    def _is_folder(self, path: str) -> bool:
        return self.store.count(self.collection, Filter(must=[Match(field_path("path"), path)])) == 0


def open_index(location: str | os.PathLike[str] | None = None, *, collection: str = CODE_COLLECTION,
               store: str | os.PathLike[str] | None = None, url: str | None = None, api_key: str | None = None,
               wait: float = 120.0, **options: Any) -> CodeIndex:
    """An index, opened (and created on the first update) where a user would expect it.

    location is a source tree (its store is `<tree>/.semsearch/`) or a store folder; None means
    the repository around the working directory. url (or QDRANT_URL) uses a Qdrant server,
    location then naming the tree. wait: seconds to wait for an embedded store that another
    process holds (it lets go between its batches). options: text_model, code_model, backend,
    device, hidden, max_bytes.
    """
    given = Path(location).expanduser() if location is not None else None
    root: Path | None
    if given is not None and (given.name == STORE_DIR or _is_store(given)):
        root, store_path = None, given
    else:
        root = given if given is not None else repository_root(Path.cwd())
        if not root.is_dir():
            raise StoreError(f"no such directory: {root}")
        store_path = Path(store).expanduser() if store is not None else root / STORE_DIR
        if location is None and store is None and not store_path.is_dir():
            store_path = find_store_dir(Path.cwd()) or store_path
    db = open_store(path=store_path, url=url, api_key=api_key, wait=wait)
    return CodeIndex(db, collection, root, Options(**options))


def _is_store(path: Path) -> bool:
    return path.is_dir() and any((child / "collection.json").is_file() for child in path.iterdir() if child.is_dir())


def _clean(path: str) -> str:
    """A tree-relative path as the index spells it, or a QueryError."""
    if not isinstance(path, str) or not path.strip() or len(path) > 4096 or "\0" in path:
        raise NotFound("give a file path relative to the indexed tree")
    cleaned = path.strip()
    if "\\" in cleaned:
        raise NotFound(f"{path[:200]!r} is not in the index: write paths with '/', relative to the indexed tree")
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    if cleaned.startswith("/") or any(part == ".." for part in cleaned.split("/")):
        raise NotFound(f"{path[:200]!r} is outside the indexed tree: give a path relative to it, without '..'")
    return cleaned


def _inside(root: Path, path: str) -> Path | None:
    """The file at root/path when it really lies inside root: no '..', no absolute path, no symlink out."""
    try:
        base = root.resolve(strict=True)
        target = (base / path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target
