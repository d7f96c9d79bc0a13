"""`semsearch repos`: the repositories of a code collection, listed or removed one at a time."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from semsearch.cli.app import (CollectionOpt, KeyOpt, StoreOpt, UrlOpt, app, err, errors_as_messages, group, open_for,
                               out, search_store)

repos_app = group("The repositories (source trees) of a code collection: list them, remove one.", lists=True)
app.add_typer(repos_app, name="repos")


@repos_app.callback(invoke_without_command=True)
def repos(
    ctx: typer.Context,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one list).")] = False,
) -> None:
    """List the repositories of a code collection.

    Each with its files, structures, tree, git revision and last update.
    """
    if ctx.invoked_subcommand is not None:
        return
    from semsearch.code_index import CodeIndex

    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
        _code_only(db, collection)
        listed = CodeIndex(db, collection, owns_store=False).repo_status()
        if as_json:
            print(json.dumps(listed), flush=True)
            return
        if not listed:
            out.print(f"no repositories in collection {collection!r} of {db.location}", markup=False)
        for repo in listed:
            revision = (repo["revision"] or "")[:12] or "no git revision"
            out.print(f"{repo['name']}  {repo['files']:,} files  {repo['structures']:,} structures  {revision}  "
                      f"updated {repo['updated'] or 'never'}  {repo['root'] or ''}"
                      + (f"  {repo['source_url']}" if repo["source_url"] else ""), markup=False, soft_wrap=True)


@repos_app.command()
def remove(
    name: Annotated[str, typer.Argument(metavar="NAME", hidden=True)],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
) -> None:
    """Remove repository NAME from the collection.

    Its points and its entry go; the other repositories stay as they are.
    """
    from semsearch.code_index import CodeIndex

    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
        _code_only(db, collection)
        removed = CodeIndex(db, collection, owns_store=False).remove_repo(name)
        err.print(f"removed repository {name!r}: {removed:,} points; collection {collection!r} in {db.location} "
                  f"holds {db.count(collection):,}", soft_wrap=True)


def _code_only(db, collection: str) -> None:  # type: ignore[no-untyped-def]
    from semsearch.store import StoreError

    if db.metadata(collection).get("kind", "code") != "code":
        raise StoreError(f"collection {collection!r} holds {db.metadata(collection).get('kind')}, not code")
