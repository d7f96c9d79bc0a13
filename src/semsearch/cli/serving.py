"""Commands that serve: the search page and HTTP API, and the MCP server for coding agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from semsearch.cli.app import (CollectionOpt, HiddenOpt, KeyOpt, StoreOpt, UrlOpt, app, err, errors_as_messages, fail,
                               open_for, search_store)
from semsearch.store import STORE_DIR


@app.command()
def mcp(
    root: Annotated[Optional[Path], typer.Argument(metavar="DIR", hidden=True)] = None,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    no_watch: Annotated[bool, typer.Option("--no-watch", help="Index once at start; do not follow changes.")] = False,
    hidden: HiddenOpt = False,
) -> None:
    """Serve code search of the tree DIR to coding agents over MCP.

    DIR defaults to the repository around the working directory. The server speaks MCP on
    stdio, with the tools search, related, read and status.
    """
    from semsearch.mcp_server import serve as serve_mcp

    if root is not None and not root.is_dir():
        raise fail(f"no such directory: {root}")
    with errors_as_messages():
        serve_mcp(root, watch=not no_watch, collection=collection, store=store, url=qdrant_url, api_key=api_key,
                  hidden=hidden)


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
        "--source-url", metavar="COLLECTION=URL",
        help="Link each hit to its lines under URL, e.g. a GitHub tree at a commit.")] = None,
    index_dir: Annotated[Optional[Path], typer.Option(
        "--index", metavar="DIR", help="Index this tree into --collection in the background while serving "
                                       "(progress: /api/index).")] = None,
    keep_watching: Annotated[bool, typer.Option("--watch", help="With --index: keep the index fresh as files change.")] = False,
) -> None:
    """Serve the search page, the HTTP API and its documentation.

    The page is at /, the API at /api and its OpenAPI docs at /docs.
    """
    import uvicorn

    from semsearch.api import create_app
    from semsearch.index_job import IndexJob
    from semsearch.store.shared import SharedStore

    if index_dir is not None and not index_dir.is_dir():
        raise fail(f"no such directory: {index_dir}")
    if keep_watching and index_dir is None:
        raise fail("--watch needs --index DIR")
    default = index_dir / STORE_DIR if index_dir is not None else search_store(store)  # as `semsearch index`
    with errors_as_messages(), open_for(store, qdrant_url, qdrant_api_key, default=default) as opened:
        db = SharedStore(opened)
        db.collections()  # fail now, with a message, if the store cannot be read
        links = {}
        for item in source_url or []:
            name, sep, url = item.partition("=")
            if not sep or not url.startswith(("http://", "https://")):
                raise fail(f"bad --source-url {item!r}: expected COLLECTION=https://…")
            links[name] = url
        job = IndexJob(db, index_dir, collection, watch=keep_watching).start() if index_dir is not None else None
        web = create_app(db, api_key=server_key, cors_origins=cors_origin or [], default_collection=collection,
                         source_urls=links, job=job)
        err.print(f"serving {db.location} on http://{host}:{port} (API docs at /docs)"
                  + (f"; indexing {index_dir} in the background (GET /api/index)" if job else ""))
        try:
            uvicorn.run(web, host=host, port=port, log_level="warning")
        finally:
            if job is not None:
                job.stop.set()
                job.join(timeout=30)
