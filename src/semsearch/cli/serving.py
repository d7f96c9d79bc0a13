"""Commands that serve: the search page and HTTP API, and the MCP server for coding agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from semsearch.cli.app import (CollectionOpt, HiddenOpt, KeyOpt, StoreOpt, UrlOpt, app, err, errors_as_messages, fail,
                               open_for, search_store)
from semsearch.cli.indexing import trees_and_store


@app.command()
def mcp(
    roots: Annotated[Optional[list[str]], typer.Argument(metavar="DIR...", hidden=True)] = None,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    no_watch: Annotated[bool, typer.Option("--no-watch", help="Index once at start; do not follow changes.")] = False,
    hidden: HiddenOpt = False,
    no_index: Annotated[bool, typer.Option(
        "--no-index", help="Search the collection as it is, indexing nothing (a team's index on a server).")] = False,
) -> None:
    """Serve code search of trees to coding agents over MCP.

    DIR defaults to the repository around the working directory; several (DIR or NAME=DIR)
    are repositories of one collection, stored as `semsearch index` stores them. The server
    speaks MCP on stdio, with the tools search, related, read and status.
    """
    from semsearch.mcp_server import serve as serve_mcp

    with errors_as_messages():
        if roots:
            trees, default = trees_and_store(roots, store)
            location: Path | list[str] | None = trees[0].root if len(trees) == 1 and not trees[0].named else roots
            store = store or (default if len(trees) > 1 else None)
        else:
            location = None
        serve_mcp(location, watch=not no_watch, update=not no_index, collection=collection, store=store,
                  url=qdrant_url, api_key=api_key, hidden=hidden)


@app.command()
def serve(
    store: StoreOpt = None, qdrant_url: UrlOpt = None,
    qdrant_api_key: Annotated[Optional[str], typer.Option(
        "--qdrant-api-key", metavar="KEY", envvar="QDRANT_API_KEY", help="API key for the Qdrant server.")] = None,
    host: Annotated[str, typer.Option("--host", metavar="HOST", help="Interface to bind; loopback unless told.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8000,
    server_key: Annotated[Optional[str], typer.Option(
        "--api-key", metavar="KEY", envvar="SEMSEARCH_API_KEY",
        help="Require Authorization: Bearer KEY on every /api route.")] = None,
    cors_origin: Annotated[Optional[list[str]], typer.Option(
        "--cors-origin", metavar="ORIGIN", help="Allowed browser origin, repeatable.")] = None,
    collection: CollectionOpt = "code",
    source_url: Annotated[Optional[list[str]], typer.Option(
        "--source-url", metavar="NAME=URL",
        help="Link the hits of collection or repository NAME to their lines under URL, e.g. a GitHub tree "
             "at a commit; repeatable.")] = None,
    index_dirs: Annotated[Optional[list[str]], typer.Option(
        "--index", metavar="DIR", help="Index this tree (or NAME=DIR; repeatable) into --collection in the "
                                       "background while serving (progress: /api/index).")] = None,
    keep_watching: Annotated[bool, typer.Option("--watch", help="With --index: keep the index fresh as files change.")] = False,
) -> None:
    """Serve the search page, the HTTP API and its documentation.

    The page is at /, the API at /api and its OpenAPI docs at /docs.
    """
    import uvicorn

    from semsearch.api import create_app
    from semsearch.index_job import IndexJob
    from semsearch.repos import parse_source_urls
    from semsearch.store.shared import SharedStore

    if keep_watching and not index_dirs:
        raise fail("--watch needs --index DIR")
    with errors_as_messages():
        trees, default = trees_and_store(index_dirs, store) if index_dirs else ([], search_store(store))
        links = parse_source_urls(source_url or [])
    with errors_as_messages(), open_for(store, qdrant_url, qdrant_api_key, default=default) as opened:
        db = SharedStore(opened)
        db.collections()  # fail now, with a message, if the store cannot be read
        job = IndexJob(db, trees, collection, watch=keep_watching).start() if trees else None
        web = create_app(db, api_key=server_key, cors_origins=cors_origin or [], default_collection=collection,
                         source_urls=links, job=job)
        err.print(f"serving {db.location} on http://{host}:{port} (API docs at /docs)"
                  + (f"; indexing {', '.join(str(t.root) for t in trees)} in the background (GET /api/index)"
                     if job else ""))
        try:
            uvicorn.run(web, host=host, port=port, log_level="warning")
        finally:
            if job is not None:
                job.stop.set()
                job.join(timeout=30)
