"""Commands that read a store: search (code or records), related code, the collections it holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from semsearch.cli.app import (CodeModelOpt, CollectionOpt, ContentOpt, DeviceOpt, FilterOpt, JsonOpt, KeyOpt,
                               LimitOpt, StoreOpt, TextModelOpt, UrlOpt, app, err, errors_as_messages, fail,
                               open_for, out, search_store)

RepoOpt = Annotated[Optional[list[str]], typer.Option(
    "--repo", metavar="NAME", help="Code: only this repository of the collection; repeatable.")]
PreferOpt = Annotated[Optional[str], typer.Option(
    "--prefer", metavar="NAME", help="Code: this repository's hits first; another's only when near the top of "
                                     "all (default: the indexed repository around the working directory).")]
NoPreferOpt = Annotated[bool, typer.Option("--no-prefer", help="Code: rank every repository alike.")]


@app.command()
def search(
    query: Annotated[str, typer.Argument(metavar="QUERY", hidden=True)],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    mode: Annotated[Optional[str], typer.Option(
        "--mode", metavar="MODE", help="Code: hybrid (default), text, code, lexical, both (the seed's merge). "
                                       "Records: hybrid (default), neural, fulltext.")] = None,
    neural: Annotated[Optional[bool], typer.Option("--neural/--fulltext", help="Records: the seed demo's switch.")] = None,
    limit: LimitOpt = 10,
    group_by: Annotated[Optional[str], typer.Option("--group-by", metavar="FIELD",
                                                    help="Group hits by a payload field: module, path, language, repo, or dir (each hit's folder).")] = None,
    group_size: Annotated[int, typer.Option("--group-size", metavar="N", help="Hits per group.")] = 1,
    filter: FilterOpt = None,
    as_json: JsonOpt = False,
    content: ContentOpt = "code",
    repo: RepoOpt = None, prefer: PreferOpt = None, no_prefer: NoPreferOpt = False,
    text_model: TextModelOpt = None, code_model: CodeModelOpt = None, device: DeviceOpt = None,
) -> None:
    """Search a collection (code or records) for QUERY.

    '-' as QUERY reads one query a line from stdin.
    """
    from semsearch.code_index import SCORE_KINDS, CodeIndex, Options
    from semsearch.render import print_groups, print_hits
    from semsearch.search import parse_filters

    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
        if db.metadata(collection).get("kind") == "records":
            from semsearch.cli.records import search_records

            if neural is not None and mode is None:
                mode = "neural" if neural else "fulltext"
            if repo or prefer:
                raise fail(f"--repo and --prefer are for code collections; {collection!r} holds records")
            search_records(db, collection, query, mode or "hybrid", limit, filter or [], as_json, text_model, device)
            return
        mode = mode or "hybrid"
        index = CodeIndex(db, collection, options=Options(text_model=text_model, code_model=code_model, device=device),
                          owns_store=False)
        if db.count(collection) == 0:
            raise fail(f"collection {collection!r} in {db.location} is empty: index something first")
        index.searcher().check_filters(parse_filters(filter or []))
        show_repo = len(index.repos()) > 1
        home = None if no_prefer else prefer or index.home(Path.cwd())
        preferring = index.preferring(home, repo)  # said in --json and on stderr only where it orders something
        queries = (line.strip() for line in sys.stdin) if query == "-" else iter([query])
        for text in queries:
            if not text:
                continue
            if group_by:
                groups = index.search_groups(text, group_by=group_by, group_size=group_size, mode=mode, limit=limit,
                                             content=content, filters=filter or [], repos=repo)
                if as_json:
                    print(json.dumps({"query": text, "score_kind": SCORE_KINDS.get(mode),
                                      "groups": [g.to_json() for g in groups]}), flush=True)
                else:
                    print_groups(out, groups, group_by, show_repo=show_repo)
                continue
            hits = index.search(text, mode=mode, limit=limit, content=content, filters=filter or [], repos=repo,
                                prefer=home)
            partial = index.partial()
            if as_json:
                print(json.dumps({"query": text, "score_kind": SCORE_KINDS.get(mode), "hits": [h.to_json() for h in hits],
                                  **({"partial": partial} if partial else {}),
                                  **({"prefer": preferring} if preferring else {})}), flush=True)
            else:
                if partial:
                    err.print(f"(index still filling in: {partial['embedded']:,} of {partial['total']:,} structures "
                              f"have vectors; the rest are found by their words and names)", soft_wrap=True)
                if preferring:
                    err.print(f"({preferring}'s hits first; --no-prefer ranks every repository alike)", soft_wrap=True)
                print_hits(out, hits, show_repo=show_repo)


@app.command()
def related(
    location: Annotated[str, typer.Argument(metavar="PATH:LINE", hidden=True)],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    limit: Annotated[int, typer.Option("-k", "--limit", metavar="N", min=1, max=100, help="Number of results.")] = 5,
    content: ContentOpt = "code",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    repo: Annotated[Optional[str], typer.Option(
        "--repo", metavar="NAME", help="The repository PATH is in, when several hold it.")] = None,
) -> None:
    """Code like the structure at PATH:LINE, elsewhere in the tree.

    PATH:LINE names a line of an indexed file, such as src/app.py:42; the structure there is
    compared by its stored vectors.
    """
    from semsearch.code_index import CodeIndex
    from semsearch.render import print_hits

    path, _, line = location.rpartition(":")
    if not path or not line.isdigit():
        raise fail(f"expected PATH:LINE, e.g. src/app.py:42, not {location!r}")
    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
        index = CodeIndex(db, collection, owns_store=False)
        hits = index.related(path, int(line), limit=limit, content=content, repo=repo)
        if as_json:
            print(json.dumps({"path": path, "line": int(line), "hits": [h.to_json() for h in hits]}), flush=True)
        else:
            print_hits(out, hits, show_repo=len(index.repos()) > 1)


@app.command()
def collections(store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None) -> None:
    """List the collections of a store with their sizes and models.

    For a record collection, also how a record is shown: its title, link, picture and labels.
    """
    from semsearch.records.display import stored_display

    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
        names = db.collections()
        if not names:
            out.print(f"no collections in {db.location}")
        for name in names:
            meta = db.metadata(name)
            vectors = ", ".join(f"{k}: {v.get('model')} ({v.get('size')})" for k, v in meta.get("vectors", {}).items())
            out.print(f"{name}  {db.count(name):,} points  ({meta.get('kind', '?')})  {vectors}", markup=False)
            if meta.get("kind") == "records":
                out.print(f"  shown as: {stored_display(db, name, meta).describe()}", markup=False, soft_wrap=True)
