"""The HTTP API: search code and record collections, read indexed files.

    GET /api/search?q=&collection=&mode=&limit=&group_by=&group_size=&filter=FIELD:VALUE&content=&repo=
    GET /api/related?collection=&path=&line=&limit=&repo=   (code like the structure at path:line)
    GET /api/similar?collection=&id=&limit=                 (records like a record)
    GET /api/file?collection=&path=&start=&end=&repo=
    GET /api/collections · GET /api/health · OpenAPI at /docs
    GET /api/index  (the indexing job's progress, when started with `serve --index DIR`)

A hit's `score` is kept raw; `score_kind` in the answer says what it is: `fused` (code's
weighted sum of cosines and BM25, re-ranked), `rrf` (reciprocal rank fusion, records'
hybrid), `cosine` or `bm25`. It orders one answer and means nothing across answers. A
record hit also carries `relevance`, what the page's bar shows relative to the best hit: its
cosine to the query in hybrid mode (an RRF score ranks a hit but does not say how near it
is), else its score.

A code hit names its repository (`repo`: a collection can hold several trees) and, when the
repository has a source URL, links its lines (`url`); `repo=` (repeatable) narrows a search.
/api/collections lists each code collection's repositories.

/api/collections says, for a record collection, which fields are a record's title, link,
picture and labels (`display`), and for every collection a few queries drawn from its own
data (`examples`, the page's "Try:").

Every error is a 4xx with {"detail": one line}: 400 a request the core refuses (a bad
filter field, a mode that does not fit the collection), 404 what the request names is not
there, 422 a parameter outside what the OpenAPI document declares. With an API key
configured, every /api route requires `Authorization: Bearer <key>` (else 401).
"""

from __future__ import annotations

import hmac
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from uuid import UUID

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from semsearch import __version__
from semsearch.code_index import SCORE_KINDS, AmbiguousPath, CodeIndex, UnknownRepo
from semsearch.examples import code_examples, record_examples
from semsearch.index_job import IndexJob
from semsearch.repos import REPO_NAME
from semsearch.records.search import RECORD_MODES, SCORE_KINDS as RECORD_SCORE_KINDS, RecordNotFound, \
    RecordQueryError, RecordSearcher
from semsearch.search import BLANK, FIELD_PATH, MODES, NotFound, QueryError, parse_pairs
from semsearch.store import COLLECTION_NAME, CollectionNotFound, Store, StoreError
from semsearch.store.shared import SharedStore

MAX_QUERY = 1000
FIELD = f"^{FIELD_PATH}$"
FILTER = f"^{FIELD_PATH}" + r"[:=]\s*[^\s\x00][^\x00]{0,998}$"
# The other kind's modes mean the nearest thing: dense only, words only.
CODE_MODE_FOR = {"neural": "text", "fulltext": "lexical"}
RECORD_MODE_FOR = {"text": "neural", "code": "neural", "both": "neural", "lexical": "fulltext"}
ALL_MODES = sorted({*MODES, *RECORD_MODES})
MAX_LINE = 10_000_000


CollectionParam = Annotated[str, Query(pattern=COLLECTION_NAME, description="Collection name.")]
RepoParam = Annotated[str | None, Query(pattern=REPO_NAME, description="The repository path is in, when several "
                                                                       "of the collection hold it.")]


class ErrorBody(BaseModel):
    detail: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    said = {400: "A request the collection cannot answer as asked (the detail says why).",
            401: "Missing or wrong API key (only when the server has one).",
            404: "The collection, repository, file, line or record named is not there.",
            422: "A parameter outside what this document declares."}
    return {code: {"model": ErrorBody, "description": said[code]} for code in (*codes, 401, 422)}
WEB = Path(__file__).parent / "web"  # the page's assets ship inside the package


class Service:
    """The store and one searcher per collection (the core's CodeIndex for code), shared by all requests."""

    def __init__(self, store: Store, source_urls: dict[str, str] | None = None) -> None:
        # One store call at a time (Edge shards are not shared across threads); a request
        # holds the same lock across its calls, so it sees no indexing batch half-way.
        self.store = store if isinstance(store, SharedStore) else SharedStore(store)
        self.lock = self.store.lock
        self._searchers: dict[str, CodeIndex | RecordSearcher] = {}
        self._examples: dict[str, tuple[int, list[str]]] = {}  # collection -> (its points then, examples)
        self.source_urls = source_urls or {}  # repository (or collection) → base URL of its files

    def metadata(self, collection: str) -> dict[str, Any]:
        try:
            return self.store.metadata(collection)
        except CollectionNotFound as exc:
            raise HTTPException(404, str(exc)) from None

    def searcher(self, collection: str) -> CodeIndex | RecordSearcher:
        if collection not in self._searchers:
            kind = self.metadata(collection).get("kind", "code")
            self._searchers[collection] = (RecordSearcher(self.store, collection) if kind == "records"
                                           else CodeIndex(self.store, collection, owns_store=False,
                                                          source_urls=self.source_urls))
        return self._searchers[collection]

    def examples(self, collection: str, points: int) -> list[str]:
        """Queries for the page's "Try:", drawn from this collection's data; redrawn when it changes."""
        known = self._examples.get(collection)
        if known is None or known[0] != points:
            searcher = self.searcher(collection)
            drawn = (record_examples(self.store, collection, searcher.text_fields) if isinstance(searcher, RecordSearcher)
                     else code_examples(self.store, collection))
            self._examples[collection] = known = (points, drawn)
        return known[1]

    def code(self, collection: str) -> CodeIndex:
        index = self.searcher(collection)
        if not isinstance(index, CodeIndex):
            raise HTTPException(400, f"collection {collection!r} holds records, not code")
        return index


def create_app(store: Store, *, api_key: str | None = None, cors_origins: list[str] | None = None,
               default_collection: str = "code", source_urls: dict[str, str] | None = None,
               job: IndexJob | None = None) -> FastAPI:
    """The API, the page at / and OpenAPI at /docs.

    source_urls maps a collection to the base URL its paths are browsable under (e.g. a
    GitHub tree at a commit), so the page links every hit to its exact lines.
    """
    source_urls = source_urls or {}
    app = FastAPI(title="semsearch", version=__version__,
                  description="Semantic search over code and records, on Qdrant.")
    service = Service(store, source_urls)
    store = service.store
    app.state.service = service
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET"],
                           allow_headers=["Authorization"])

    def authorize(request: Request) -> None:
        if not api_key:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
            raise HTTPException(401, "missing or wrong API key: send Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})

    secured = [Depends(authorize)]

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        status = 404 if isinstance(exc, (CollectionNotFound, NotFound)) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "path"))
        return JSONResponse({"detail": f"{where}: {first.get('msg')}" if where else str(first.get("msg"))},
                            status_code=422)

    @app.get("/api/health", dependencies=secured, responses=_errors())
    def health() -> dict[str, Any]:
        with service.lock:
            return {"status": "ok", "version": __version__, "collections": len(store.collections())}

    @app.get("/api/index", dependencies=secured, responses=_errors(404))
    def index_status() -> dict[str, Any]:
        """Progress of the server's indexing job: phase, files, structures, rate, ETA; then the last run."""
        if job is None:
            raise HTTPException(404, "this server runs no indexing job: start it with `semsearch serve --index DIR`")
        return job.status()

    @app.get("/api/collections", dependencies=secured, responses=_errors())
    def collections() -> list[dict[str, Any]]:
        out = []
        with service.lock:
            for name in store.collections():
                meta = store.metadata(name)
                points = store.count(name)
                searcher = service.searcher(name)
                out.append({
                    "name": name, "kind": meta.get("kind", "code"), "points": points,
                    "vectors": meta.get("vectors", {}), "text_fields": meta.get("text_fields", []),
                    "filter_fields": sorted(set(meta.get("keyword_fields", [])) | set(meta.get("integer_fields", []))),
                    "modes": list(RECORD_MODES if meta.get("kind") == "records" else MODES),
                    "source_url": source_urls.get(name),
                    "display": searcher.display.to_json() if isinstance(searcher, RecordSearcher) else None,
                    "repos": [] if isinstance(searcher, RecordSearcher) else [
                        {k: r[k] for k in ("name", "revision", "updated", "source_url", "files", "structures")}
                        for r in searcher.repo_status()],
                    "examples": service.examples(name, points),
                })
        return out

    @app.get("/api/search", dependencies=secured, responses=_errors(400, 404))
    def search(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, pattern=f"[^{BLANK}]", description="The query.")],
        collection: CollectionParam = default_collection,
        mode: Annotated[Literal[tuple(ALL_MODES)] | None, Query(  # type: ignore[valid-type]
            description="Code: hybrid, text, code, lexical, both; records: hybrid, neural, fulltext. The other "
                        "kind's modes mean the nearest: neural = dense only, fulltext = words only.")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        group_by: Annotated[str | None, Query(pattern=FIELD, max_length=200, description=(
            "Payload field (module, path, language, repo…); dir: the folder holding each hit's file."))] = None,
        group_size: Annotated[int, Query(ge=1, le=20)] = 1,
        filter: Annotated[list[str] | None, Query(description="FIELD:VALUE, repeatable.",
                                                  json_schema_extra={"items": {"pattern": FILTER, "maxLength": 2000}})] = None,
        neural: bool | None = None,
        content: Annotated[Literal["code", "docs", "config", "all"], Query(
            description="Code collections: code, docs, config or all (default).")] = "all",
        repo: Annotated[list[str] | None, Query(description="Code collections: only this repository, repeatable.",
                                                json_schema_extra={"items": {"pattern": REPO_NAME}})] = None,
        prefer: Annotated[str | None, Query(pattern=REPO_NAME, description=(
            "Code collections: the repository searched from; its hits come first, another's only when near the "
            "top of all."))] = None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        partial = None
        with service.lock:
            searcher = service.searcher(collection)
            try:
                if isinstance(searcher, RecordSearcher):
                    if repo or prefer:
                        raise HTTPException(400, f"repo and prefer are for code collections; {collection!r} holds "
                                                 f"records")
                    if mode is None and neural is not None:
                        mode = "neural" if neural else "fulltext"
                    mode = RECORD_MODE_FOR.get(mode or "hybrid", mode or "hybrid")
                    flt = searcher.filters(parse_pairs(filter or []))
                    result = [h.to_json() for h in searcher.search(q, mode=mode, limit=limit, filter=flt)]
                    score_kind = RECORD_SCORE_KINDS[mode]
                else:
                    if mode is None and neural is not None:
                        mode = "neural" if neural else "fulltext"
                    mode = CODE_MODE_FOR.get(mode or "hybrid", mode or "hybrid")
                    filters = filter or []  # FIELD:VALUE, as the core's FIELD=VALUE
                    if group_by:
                        groups = searcher.search_groups(q, group_by=group_by, group_size=group_size, mode=mode,
                                                        limit=limit, filters=filters, content=content, repos=repo)
                        result = [g.to_json() for g in groups]
                    else:
                        hits = searcher.search(q, mode=mode, limit=limit, filters=filters, content=content, repos=repo,
                                               prefer=prefer)
                        result = [h.to_json() for h in hits]
                    partial = searcher.partial()
                    score_kind = SCORE_KINDS[mode]
            except (NotFound, RecordNotFound) as exc:
                raise HTTPException(404, str(exc)) from None
            except (QueryError, RecordQueryError) as exc:
                raise HTTPException(400, str(exc)) from None
        return {"result": result, "mode": mode, "collection": collection, "score_kind": score_kind,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                **({"partial": partial} if partial else {})}

    @app.get("/api/related", dependencies=secured, responses=_errors(400, 404))
    def related(path: Annotated[str, Query(min_length=1, max_length=4096, description="A file of the tree.")],
                line: Annotated[int, Query(ge=1, le=MAX_LINE)],
                collection: CollectionParam = default_collection, limit: Annotated[int, Query(ge=1, le=100)] = 5,
                content: Literal["code", "docs", "config", "all"] = "code", repo: RepoParam = None) -> dict[str, Any]:
        """Code like the structure at path:line, elsewhere in the tree, by its stored vectors."""
        with service.lock:
            try:
                hits = service.code(collection).related(path, line, limit=limit, content=content, repo=repo)
            except NotFound as exc:
                raise HTTPException(404, str(exc)) from None
            except QueryError as exc:
                raise HTTPException(400, str(exc)) from None
        return {"result": [h.to_json() for h in hits], "path": path, "line": line, "score_kind": "fused"}

    @app.get("/api/similar", dependencies=secured, responses=_errors(404))
    def similar(id: Annotated[UUID, Query(description="A point id, as in search results.")],
                collection: CollectionParam = default_collection,
                limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
        """Records like a stored record; in a code collection, structures like a stored structure."""
        with service.lock:
            searcher = service.searcher(collection)
            try:
                if isinstance(searcher, RecordSearcher):
                    hits: list[Any] = searcher.similar(str(id), limit=limit)
                else:
                    hits = searcher.searcher().related(str(id), limit=limit)
            except (RecordQueryError, QueryError) as exc:
                raise HTTPException(404, str(exc)) from None
        return {"result": [h.to_json() for h in hits], "like": str(id),
                "score_kind": "cosine" if isinstance(searcher, RecordSearcher) else "fused"}

    @app.get("/api/file", dependencies=secured, responses=_errors(400, 404))
    def file(path: Annotated[str, Query(min_length=1, max_length=4096, description="A file of the tree.")],
             start: Annotated[int, Query(ge=1, le=MAX_LINE)] = 1,
             end: Annotated[int | None, Query(ge=1, le=MAX_LINE)] = None,
             collection: CollectionParam = default_collection, repo: RepoParam = None) -> dict[str, Any]:
        """Lines of an indexed file (at most 400), never outside the indexed tree."""
        try:
            got = service.code(collection).read(path, start, end if end is None or end >= start else start, repo=repo)
        except UnknownRepo as exc:
            raise HTTPException(404, str(exc)) from None
        except AmbiguousPath as exc:
            raise HTTPException(400, str(exc)) from None
        except QueryError:
            raise HTTPException(404, "no such indexed file") from None
        return {"path": got.path, "repo": repo, "start": got.line_from, "end": got.line_to,
                "total_lines": got.total_lines,
                "lines": got.lines}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html")

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app
