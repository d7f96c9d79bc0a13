"""An indexed source tree as one object: bring it up to date, search it, find related code, read it.

This is semsearch's public Python API and the core the faces share: the CLI, the HTTP API
and the MCP server each turn a request into one call here and the answer into their own
format. It holds no I/O of its own beyond the store and the tree it indexes.

    import semsearch
    with semsearch.open_index("~/src/myrepo") as index:
        index.update()
        for hit in index.search("retry with backoff", limit=5):
            print(hit.path, hit.line_from, hit.payload["name"])

One collection can hold several trees, each a repository under its own name (repos.py):
`open_index(["~/src/a", "b=~/src/b"], store=...)`. Every hit names its `repo`, `repos=[...]`
narrows a search to some, and paths stay relative to their own repository.

Every error a caller can fix (a bad filter, a path outside the tree, an unknown mode or
repository) is a `QueryError` with a one-line message; each face turns it into its own answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from semsearch.hits import Group, SearchHit
from semsearch.ranking import home_first
from semsearch.repos import FIELD as REPO, Repo, Tree, around, as_metadata, parse_tree, parse_trees, recorded, \
    repository_root, source_link, unknown
from semsearch.search import DEFAULT_MODE, NotFound, QueryError, Searcher, content_conditions, field_path, \
    parse_filters
from semsearch.store import STORE_DIR, Filter, HasVector, Match, Store, StoreError, find_store_dir, open_store
from semsearch.source_lines import MAX_READ_LINES, FileLines, clean_path, inside, read_lines  # noqa: F401
from semsearch.store.shared import SharedStore

if TYPE_CHECKING:
    from semsearch.index_job import IndexJob
    from semsearch.indexer import IndexSummary, Progress

CODE_COLLECTION = "code"
FILES_FACET = 10_000_000
# What a hit's score is, per mode; only its order within one answer means something to a person.
# fused: cos(text) + 0.5 cos(code) + 0.15 BM25/best, then re-ranked (search.py, ranking.py).
SCORE_KINDS = {"hybrid": "fused", "text": "cosine", "code": "cosine", "both": "cosine", "lexical": "bm25"}


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
    repos: list[dict[str, Any]] | None = None  # each repository: name, root, revision, updated, files, structures

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


class UnknownRepo(NotFound):
    """A repository named that the collection does not hold (or no longer does)."""


class AmbiguousPath(QueryError):
    """A path several repositories hold, asked for without naming one."""


class CodeIndex:
    """One code collection and, when known, the trees it indexes (its repositories)."""

    def __init__(self, store: Store, collection: str = CODE_COLLECTION, root: Path | None = None,
                 options: Options | None = None, *, owns_store: bool = True, trees: Sequence[Tree] = (),
                 source_urls: Mapping[str, str] | None = None) -> None:
        """trees: what update() indexes (root alone: one tree, named after its folder); source_urls:
        repository → the base URL its paths are browsable under, over what the collection records."""
        self.store = store if isinstance(store, SharedStore) else SharedStore(store)
        self._inner = store
        self._owns_store = owns_store
        self.collection = collection
        self.options = options or Options()
        self.trees = list(trees) or ([parse_tree(root)] if root is not None else [])
        self._root = self.trees[0].root if self.trees else None
        self.source_urls = dict(source_urls or {})
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
        """Bring the index up to date with its trees, one repository after the other: only new and changed
        files are parsed, and only structures without vectors embedded (none with lexical_only). With
        recreate the collection is rebuilt (by the first tree; the others are added to it). The summary is
        the last tree's; each is in `summaries`."""
        from semsearch.indexer import Indexer

        o = self.options
        self.summaries: dict[str, IndexSummary] = {}
        for number, tree in enumerate(self._trees()):
            indexer = Indexer(self.store, self.collection, text_model=o.text_model, code_model=o.code_model,
                              backend=o.backend, device=o.device, on_progress=on_progress)
            kwargs: dict[str, Any] = {"recreate": recreate and number == 0, "hidden": o.hidden,
                                      "lexical_only": lexical_only, "repo": tree.requested,
                                      "source_url": self.source_urls.get(tree.name)}
            if o.max_bytes is not None:
                kwargs["max_bytes"] = o.max_bytes
            summary = self.summaries[tree.name] = indexer.index_tree(tree.root, **kwargs)
        self._searcher = None  # models may have been recorded just now
        return summary

    def keep_fresh(self, *, watch: bool = True) -> IndexJob:
        """Update in a background thread (then follow file changes when watch): searches answer meanwhile."""
        from semsearch.index_job import IndexJob

        if self.job is None:
            self.job = IndexJob(self.store, self._trees(), self.collection, watch=watch,
                                hidden=self.options.hidden).start()
        return self.job

    # -- repositories --------------------------------------------------------------
    def repos(self) -> dict[str, Repo]:
        """The repositories the collection holds, by name (one, named after its root, in an older collection)."""
        with self.store.lock:
            return recorded(self.store.metadata(self.collection)) if self.store.exists(self.collection) else {}

    def repo_status(self) -> list[dict[str, Any]]:
        """Each repository with its files and structures, as `semsearch repos` lists them."""
        with self.store.lock:
            repos = self.repos()
            structures = self.store.facet(self.collection, REPO, limit=10_000) if repos else {}
            keys = self.store.facet(self.collection, "file_key", limit=FILES_FACET) if repos else {}
            total = self.store.count(self.collection) if repos else 0
        out = []
        for repo in repos.values():
            if repo.legacy:
                files, count = sum(1 for n in keys.values() if n), total
            else:
                files = sum(1 for key, n in keys.items() if n and key.split(":", 3)[2:3] == [repo.name])
                count = structures.get(repo.name, 0)
            out.append({**repo.to_json(), "files": files, "structures": count})
        return out

    def remove_repo(self, name: str) -> int:
        """Drop one repository's points and its entry; the others stay as they are. Returns the points removed."""
        with self.store.lock:
            repos = self.repos()
            message = unknown([name], repos)
            if message:
                raise UnknownRepo(message)
            if repos[name].legacy:
                raise QueryError(f"{name!r} was indexed before repositories: its points carry no name, so it goes "
                                 f"only with the whole collection (`semsearch index --recreate`)")
            before = self.store.count(self.collection)
            self.store.delete(self.collection, Filter(must=[Match(REPO, name)]))
            del repos[name]
            self.store.update_metadata(self.collection, {"repos": as_metadata(repos)})
            return before - self.store.count(self.collection)

    # -- questions -----------------------------------------------------------------
    def search(self, query: str, *, limit: int = 10, mode: str = DEFAULT_MODE, content: str = "code",
               filters: Iterable[str] = (), language: str | None = None, path: str | None = None,
               repos: Iterable[str] | None = None, prefer: str | None = None) -> list[SearchHit]:
        """Best structures for a query. filters: `FIELD=VALUE` strings; language and path (a file or
        folder prefix) are shorthands for the two filters users want most; repos: only these repositories;
        prefer: the repository searched from, whose hits come first, another's only when near the top of all."""
        wanted = set(repos or ())
        with self.store.lock:
            user, scope, exclude = self._conditions(content, filters, language, path)
            known = self._scope_repos(wanted, scope)
            if prefer is not None and (message := unknown([prefer], known)):
                raise UnknownRepo(message)
            searcher = self.searcher()
            hits = searcher.search(query, mode=mode, limit=limit, filters=user, scope=scope, exclude=exclude)
            if self.preferring(prefer, wanted, known):
                own = searcher.search(query, mode=mode, limit=limit, filters=user, scope=[*scope, Match(REPO, prefer)],
                                      exclude=exclude)
                hits = home_first(own, hits, prefer)[:limit]
            return self._named(hits, known)

    def preferring(self, prefer: str | None, repos: Iterable[str] | None = None,
                   known: Mapping[str, Repo] | None = None) -> str | None:
        """`prefer` where a search from inside it orders something: the scope (every repository, or
        `repos`) holds it beside others. Narrowed to others, to it alone, or in a collection of one
        repository, its own ranking is the answer and a second, narrowed search would be wasted."""
        known = self.repos() if known is None else known
        if prefer is None or prefer not in known or known[prefer].legacy:
            return None
        scope = set(repos or ()) or set(known)
        return prefer if prefer in scope and len(scope) > 1 else None

    def home(self, folder: Path) -> str | None:
        """The repository a search from `folder` (a working directory) is made inside, when the
        collection holds several: the one whose indexed tree holds it, else (a developer's own
        checkout of a team's shared collection) the one named as the checkout's folder."""
        known = self.repos()
        return around(known, folder) if len(known) > 1 else None

    def partial(self) -> dict[str, int] | None:
        """{"embedded": N, "total": M} while points still lack dense vectors, else None."""
        with self.store.lock:
            embedded, total = self.searcher().coverage()
        return {"embedded": embedded, "total": total} if embedded < total else None

    def search_groups(self, query: str, *, group_by: str, group_size: int = 1, limit: int = 10,
                      mode: str = DEFAULT_MODE, content: str = "code", filters: Iterable[str] = (),
                      language: str | None = None, path: str | None = None,
                      repos: Iterable[str] | None = None) -> list[Group]:
        """The best `group_size` hits for each of `limit` values of a payload field (e.g. module)."""
        with self.store.lock:
            user, scope, exclude = self._conditions(content, filters, language, path)
            known = self._scope_repos(repos, scope)
            groups = self.searcher().search_groups(query, group_by=group_by, group_size=group_size, mode=mode,
                                                   limit=limit, filters=user, scope=scope, exclude=exclude)
            for group in groups:
                self._named(group.hits, known)
            return groups

    def related(self, path: str, line: int, *, limit: int = 5, content: str = "code",
                repo: str | None = None) -> list[SearchHit]:
        """Code like the structure at path:line (of repository repo, needed only when several hold
        path), elsewhere in the collection (by its stored vectors)."""
        if not 1 <= limit <= 100:
            raise QueryError("limit must be between 1 and 100")
        must, exclude = content_conditions(content)
        with self.store.lock:
            anchor = self.structure_at(path, line, repo=repo)
            known = self.repos()
            if anchor.payload.get(REPO):  # the anchor's file in its repository, not the same path in another
                same = [h.id for h in self.store.scroll(self.collection, [], self._in_repo(anchor.path, anchor.repo))]
                flt = Filter(must=must, must_not=exclude, exclude_ids=same)
            else:
                flt = Filter(must=must, must_not=[*exclude, Match(field_path("path"), anchor.path)])
            return self._named(self.searcher().related(anchor.id, limit=limit, flt=flt), known)

    def structure_at(self, path: str, line: int, *, repo: str | None = None) -> SearchHit:
        """The innermost indexed structure covering path:line (a line window when nothing else does)."""
        path = clean_path(path)
        if line < 1:
            raise QueryError("line numbers start at 1")
        known = self.repos()
        repo = self._one_repo(path, repo, known)
        hits = list(self.store.scroll(self.collection, ["name", "code_type", "line_from", "line_to",
                                                        "context.file_path", REPO], self._in_repo(path, repo)))
        if not hits:
            raise NotFound(f"{path[:200]!r} is not in the index" + (f" of repository {repo!r}" if repo else ""))
        covering = [h for h in hits if h.payload.get("line_from", 0) <= line <= h.payload.get("line_to", 0)]
        if not covering:
            raise NotFound(f"no indexed structure covers {path[:200]!r} line {line}")
        best = min(covering, key=lambda h: (h.payload.get("code_type") == "Block",
                                            h.payload["line_to"] - h.payload["line_from"]))
        return self._named([SearchHit(best.id, 0.0, best.payload)], known)[0]

    def read(self, path: str, line_from: int = 1, line_to: int | None = None, *,
             repo: str | None = None) -> FileLines:
        """Lines of an indexed file of repository repo (needed only when several hold path), never outside
        its tree, at most MAX_READ_LINES of them."""
        path = clean_path(path)
        if line_from < 1 or (line_to is not None and line_to < line_from):
            raise QueryError("line range must satisfy 1 <= line_from <= line_to")
        with self.store.lock:
            known = self.repos()
            repo = self._one_repo(path, repo, known)
            root = self._require_root(repo, known)
            indexed = self.store.count(self.collection, self._in_repo(path, repo)) > 0
        target = inside(root, path)
        if target is None or not indexed:
            raise NotFound(f"{path[:200]!r} is not an indexed file of {root}")
        return read_lines(target, path, line_from, line_to)

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
                           self.job.status() if self.job is not None else None,
                           self.repo_status() if exists else [])

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
    def _trees(self) -> list[Tree]:
        """What update() indexes: the trees given, else every repository the collection records a tree for."""
        if self.trees:
            return self.trees
        trees = [Tree(name, Path(repo.root), named=not repo.legacy) for name, repo in self.repos().items()
                 if repo.root]
        if not trees:
            raise QueryError(f"collection {self.collection!r} records no source tree: open it with the tree's path")
        return trees

    def _require_root(self, repo: str | None = None, known: Mapping[str, Repo] | None = None) -> Path:
        """The tree of repository repo: as given to this index, else as recorded; else the index's own tree."""
        given = {tree.name: tree.root for tree in self.trees}
        if repo in given:
            return given[repo]
        if repo is not None and known is not None and repo in known and known[repo].root:
            return Path(str(known[repo].root))
        root = self.root
        if root is None:
            raise QueryError(f"collection {self.collection!r} records no source tree: open it with the tree's path")
        return root

    def _scope_repos(self, repos: Iterable[str] | None, scope: list[Match]) -> dict[str, Repo]:
        """Add the repository condition to scope (none for an older collection's one tree); the known ones."""
        known = self.repos()
        wanted = sorted(set(repos or ()))
        message = unknown(wanted, known)
        if message:
            raise UnknownRepo(message)
        if wanted and not any(known[name].legacy for name in wanted):
            scope.append(Match(REPO, wanted))
        return known

    def _named(self, hits: list[SearchHit], known: Mapping[str, Repo]) -> list[SearchHit]:
        """Each hit with its repository (an older collection's one tree by its name) and link to its lines."""
        legacy = next((name for name, repo in known.items() if repo.legacy), None)
        for hit in hits:
            hit.repo = hit.payload.get(REPO) or legacy
            base = self.source_urls.get(hit.repo or "") or (known[hit.repo].source_url if hit.repo in known else None)
            hit.url = source_link(base, hit.path, hit.line_from, hit.line_to) if base else None
        return hits

    def _in_repo(self, path: str, repo: str | None) -> Filter:
        return Filter(must=[Match(field_path("path"), path), *([Match(REPO, repo)] if repo else [])])

    def _one_repo(self, path: str, repo: str | None, known: Mapping[str, Repo]) -> str | None:
        """The repository a path names: repo when given (checked), else the one holding path; None in an
        older collection. Several holding it is a QueryError asking for one."""
        if repo is not None:
            message = unknown([repo], known)
            if message:
                raise UnknownRepo(message)
            return None if known[repo].legacy else repo
        if len(known) <= 1 or any(r.legacy for r in known.values()):
            return next((name for name, r in known.items() if not r.legacy), None)
        holding = sorted({h.payload.get(REPO) for h in self.store.scroll(
            self.collection, [REPO], Filter(must=[Match(field_path("path"), path)]))} - {None})
        if len(holding) > 1:
            raise AmbiguousPath(f"{path[:200]!r} is in repositories {', '.join(holding)}: name one (repo)")
        return holding[0] if holding else None

    def _conditions(self, content: str, filters: Iterable[str], language: str | None,
                    path: str | None) -> tuple[list[Match], list[Match], list[Match]]:
        """(the user's filters, the content's scope, what the content excludes)."""
        scope, exclude = content_conditions(content)
        extra = list(filters)
        if language:
            extra.append(f"language={language}")
        if path:
            cleaned = clean_path(path.rstrip("/"))
            extra.append(f"dir={cleaned}" if self._is_folder(cleaned) else f"path={cleaned}")
        return parse_filters(extra), scope, exclude

    def _is_folder(self, path: str) -> bool:
        return self.store.count(self.collection, Filter(must=[Match(field_path("path"), path)])) == 0


Location = str | os.PathLike[str]


def open_index(location: Location | Sequence[Location] | Mapping[str, Location] | None = None, *,
               collection: str = CODE_COLLECTION, store: Location | None = None, url: str | None = None,
               api_key: str | None = None, wait: float = 120.0, source_urls: Mapping[str, str] | None = None,
               **options: Any) -> CodeIndex:
    """An index, opened (and created on the first update) where a user would expect it.

    location is a source tree (its store is `<tree>/.semsearch/`) or a store folder; None means
    the repository around the working directory. Several trees (a list of folders or `NAME=DIR`
    strings, or a {name: folder} mapping) go into one collection as repositories; their store
    is `store`, else `./.semsearch/` in the working directory. url (or QDRANT_URL) uses a Qdrant
    server, location then naming the trees. wait: seconds to wait for an embedded store that
    another process holds (it lets go between its batches). source_urls: repository → base URL
    its files are browsable under. options: text_model, code_model, backend, device, hidden, max_bytes.
    """
    trees: list[Tree] = []
    if isinstance(location, Mapping):
        trees = parse_trees(f"{name}={Path(folder).expanduser()}" for name, folder in location.items())
    elif isinstance(location, Sequence) and not isinstance(location, str):
        trees = parse_trees(location)
    given = Path(location).expanduser() if isinstance(location, (str, os.PathLike)) else None
    if trees:
        store_path = Path(store).expanduser() if store is not None else (
            trees[0].root / STORE_DIR if len(trees) == 1 else Path.cwd() / STORE_DIR)
    elif given is not None and (given.name == STORE_DIR or _is_store(given)):
        store_path = given
    else:
        root = given if given is not None else repository_root(Path.cwd())
        if not root.is_dir():
            raise StoreError(f"no such directory: {root}")
        trees = [parse_tree(root)]
        store_path = Path(store).expanduser() if store is not None else root / STORE_DIR
        if location is None and store is None and not store_path.is_dir():
            store_path = find_store_dir(Path.cwd()) or store_path
    db = open_store(path=store_path, url=url, api_key=api_key, wait=wait)
    return CodeIndex(db, collection, options=Options(**options), trees=trees, source_urls=source_urls)


def _is_store(path: Path) -> bool:
    return path.is_dir() and any((child / "collection.json").is_file() for child in path.iterdir() if child.is_dir())
