"""The `semsearch` command: index, search, import, collections."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from semsearch import __version__
from semsearch.store import STORE_DIR, Store, StoreError, find_store_dir, open_store

if TYPE_CHECKING:
    from semsearch.vector_cache import VectorCache

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Semantic code search on Qdrant: index a tree, then ask it questions.")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

StoreOpt = Annotated[Optional[Path], typer.Option("--store", help="Embedded store folder (default: .semsearch/).")]
UrlOpt = Annotated[Optional[str], typer.Option("--qdrant-url", envvar="QDRANT_URL", help="Use a Qdrant server or cluster.")]
KeyOpt = Annotated[Optional[str], typer.Option("--api-key", envvar="QDRANT_API_KEY", help="API key for the Qdrant server.")]
CollectionOpt = Annotated[str, typer.Option("-c", "--collection", help="Collection name.")]
TextModelOpt = Annotated[Optional[str], typer.Option("--text-model", help="Model for the `text` vector.")]
CodeModelOpt = Annotated[Optional[str], typer.Option("--code-model", help="Model for the `code` vector.")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", envvar="SEMSEARCH_DEVICE",
                                                  help="cpu (default) or a torch device such as cuda (implies torch).")]
HiddenOpt = Annotated[bool, typer.Option("--hidden", help="Also index dot-files and dot-folders.")]
LexicalOnlyOpt = Annotated[bool, typer.Option(
    "--lexical-only", envvar="SEMSEARCH_LEXICAL_ONLY",
    help="Structures, words and ranking only: no model at all (for trees too large for the machine); "
         "a later run without it fills the vectors in.")]
ContentOpt = Annotated[str, typer.Option(
    "--content", help="Code: code (default: no docs, no config files), docs (Markdown, reST, text), config "
                      "(YAML, TOML, JSON, INI…) or all.")]
BackendOpt = Annotated[Optional[str], typer.Option(
    "--backend", envvar="SEMSEARCH_BACKEND",
    help="How embeddings are computed: onnx (default; fp32, same vectors as torch), onnx-int8 (faster, "
         "slightly moved vectors) or torch. A collection keeps the precision it was built with.")]


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]semsearch:[/] {message}", soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Turn the errors a user can act on into one line on stderr and exit status 1."""
    from semsearch.embedding import ModelUnavailable

    try:
        yield
    except (StoreError, ModelUnavailable, FileNotFoundError, NotADirectoryError) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted; what was written so far is kept") from None


def version_callback(value: bool) -> None:
    if value:
        out.print(f"semsearch {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True)] = False,
) -> None:
    pass


def _store_wait() -> float:
    """Seconds a command waits for an embedded store another process holds (SEMSEARCH_STORE_WAIT, default 120)."""
    try:
        return float(os.environ.get("SEMSEARCH_STORE_WAIT", "120"))
    except ValueError:
        return 120.0


def _open(store: Path | None, url: str | None, api_key: str | None, *, default: Path | None,
          **distribution: int | None) -> Store:
    if url:
        return open_store(url=url, api_key=api_key, **distribution)
    if any(distribution.values()):
        raise StoreError("--shards, --replicas and --write-consistency need a Qdrant server (--qdrant-url)")
    path = store or default
    if path is None:
        raise StoreError("no index found here or above: run `semsearch index DIR` first, or pass --store")
    return open_store(path=path, wait=_store_wait(), on_wait=lambda message: err.print(f"({message})", soft_wrap=True))


def _search_store(store: Path | None) -> Path | None:
    return store or find_store_dir(Path.cwd())


@app.command()
def index(
    directory: Annotated[Path, typer.Argument(help="The source tree to index.")],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    recreate: Annotated[bool, typer.Option("--recreate", help="Drop the collection and build it anew.")] = False,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Skip files larger than this.")] = 1_000_000,
    hidden: HiddenOpt = False,
    text_model: TextModelOpt = None, code_model: CodeModelOpt = None, backend: BackendOpt = None,
    device: DeviceOpt = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
    lexical_only: LexicalOnlyOpt = False,
    shards: Annotated[Optional[int], typer.Option("--shards", min=1, help="Cluster: shard_number of a new collection.")] = None,
    replicas: Annotated[Optional[int], typer.Option("--replicas", min=1, help="Cluster: replication_factor.")] = None,
    write_consistency: Annotated[Optional[int], typer.Option(
        "--write-consistency", min=1, help="Cluster: write_consistency_factor.")] = None,
) -> None:
    """Index (or update the index of) a source tree."""
    from semsearch.indexer import Indexer
    from semsearch.render import summary_text

    if not directory.exists():
        raise fail(f"no such directory: {directory}")
    if not directory.is_dir():
        raise fail(f"not a directory: {directory}")
    with errors_as_messages(), _open(store, qdrant_url, api_key, default=directory / STORE_DIR, shards=shards,
                                     replicas=replicas, write_consistency=write_consistency) as db:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                      console=err, transient=True, disable=quiet) as bar:
            files = bar.add_task("scanning files", total=None, rate="")
            parse = bar.add_task("reading files", total=None, visible=False, rate="")
            embed = bar.add_task("embedding", total=None, visible=False, rate="")

            def on_progress(p) -> None:  # type: ignore[no-untyped-def]
                bar.update(files, completed=p.files, description=f"scanning files ({p.files:,})")
                if p.phase != "scanning":
                    bar.update(parse, visible=True, total=p.files_to_parse, completed=p.files_parsed,
                               description=f"searchable: {p.structures:,} structures (words and names)")
                if p.phase in ("embedding", "optimizing"):
                    elapsed = bar.tasks[embed].elapsed or 0
                    rate = f"{p.embedded / elapsed:,.0f}/s" if elapsed > 0.5 else ""
                    bar.update(embed, visible=True, total=p.to_embed, completed=p.embedded, rate=rate,
                               description="optimizing" if p.phase == "optimizing" else "embedding structures")

            indexer = Indexer(db, collection, text_model=text_model, code_model=code_model, backend=backend,
                              device=device, on_progress=on_progress)
            summary = indexer.index_tree(directory, max_bytes=max_bytes, recreate=recreate, hidden=hidden,
                                         lexical_only=lexical_only)
        err.print(summary_text(summary, collection, db.location), soft_wrap=True)


@app.command()
def watch(
    directory: Annotated[Path, typer.Argument(help="The source tree to keep indexed.")],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    hidden: HiddenOpt = False,
) -> None:
    """Index a tree, then keep the index fresh as files change (Ctrl-C to stop)."""
    import signal
    import threading
    import time

    from semsearch.watch import Update
    from semsearch.watch import watch as keep_fresh

    if not directory.is_dir():
        raise fail(f"no such directory: {directory}")

    def report(update: Update) -> None:
        s = update.summary
        what = "indexed" if update.changed_paths == 0 else f"{update.changed_paths} changes"
        err.print(f"{time.strftime('%H:%M:%S')} {what}: {s.files_indexed:,} files re-indexed, "
                  f"{s.structures_embedded:,} structures embedded, {s.files_removed:,} removed; "
                  f"{s.points:,} points ({s.seconds:.1f} s)", soft_wrap=True)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())  # finish the update under way, then leave
    with errors_as_messages():
        keep_fresh(directory, lambda: _open(store, qdrant_url, api_key, default=directory / STORE_DIR),
                   collection, on_update=report, stop=stop, hidden=hidden)
    err.print("stopped watching")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for; '-' reads one query per line from stdin.")],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    mode: Annotated[Optional[str], typer.Option(
        "--mode", help="Code: hybrid (default), text, code, lexical, both (the seed's merge). "
                       "Records: hybrid (default), neural, fulltext.")] = None,
    neural: Annotated[Optional[bool], typer.Option("--neural/--fulltext", help="Records: the seed demo's switch.")] = None,
    limit: Annotated[int, typer.Option("-k", "--limit", help="Number of results (groups with --group-by).")] = 10,
    group_by: Annotated[Optional[str], typer.Option("--group-by", help="Payload field, e.g. module.")] = None,
    group_size: Annotated[int, typer.Option("--group-size", help="Hits per group.")] = 1,
    filter: Annotated[Optional[list[str]], typer.Option("--filter", help="FIELD=VALUE, repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per query.")] = False,
    content: ContentOpt = "code",
    text_model: TextModelOpt = None, code_model: CodeModelOpt = None, device: DeviceOpt = None,
) -> None:
    """Search an indexed collection (code or records)."""
    from semsearch.code_index import CodeIndex, Options
    from semsearch.render import print_groups, print_hits
    from semsearch.search import parse_filters

    with errors_as_messages(), _open(store, qdrant_url, api_key, default=_search_store(store)) as db:
        if db.metadata(collection).get("kind") == "records":
            if neural is not None and mode is None:
                mode = "neural" if neural else "fulltext"
            _search_records(db, collection, query, mode or "hybrid", limit, filter or [], as_json, text_model, device)
            return
        mode = mode or "hybrid"
        index = CodeIndex(db, collection, options=Options(text_model=text_model, code_model=code_model, device=device),
                          owns_store=False)
        if db.count(collection) == 0:
            raise fail(f"collection {collection!r} in {db.location} is empty: index something first")
        index.searcher().check_filters(parse_filters(filter or []))
        queries = (line.strip() for line in sys.stdin) if query == "-" else iter([query])
        for text in queries:
            if not text:
                continue
            if group_by:
                groups = index.search_groups(text, group_by=group_by, group_size=group_size, mode=mode, limit=limit,
                                             content=content, filters=filter or [])
                if as_json:
                    print(json.dumps({"query": text, "groups": [g.to_json() for g in groups]}), flush=True)
                else:
                    print_groups(out, groups, group_by)
                continue
            hits = index.search(text, mode=mode, limit=limit, content=content, filters=filter or [])
            partial = index.partial()
            if as_json:
                print(json.dumps({"query": text, "hits": [h.to_json() for h in hits],
                                  **({"partial": partial} if partial else {})}), flush=True)
            else:
                if partial:
                    err.print(f"(index still filling in: {partial['embedded']:,} of {partial['total']:,} structures "
                              f"have vectors; the rest are found by their words and names)", soft_wrap=True)
                print_hits(out, hits)


@app.command()
def related(
    location: Annotated[str, typer.Argument(help="PATH:LINE of a structure in the indexed tree, e.g. src/app.py:42.")],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    limit: Annotated[int, typer.Option("-k", "--limit", min=1, max=100, help="Number of results.")] = 5,
    content: ContentOpt = "code",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Code like the structure at PATH:LINE, elsewhere in the tree (by its stored vectors)."""
    from semsearch.code_index import CodeIndex
    from semsearch.render import print_hits

    path, _, line = location.rpartition(":")
    if not path or not line.isdigit():
        raise fail(f"expected PATH:LINE, e.g. src/app.py:42, not {location!r}")
    with errors_as_messages(), _open(store, qdrant_url, api_key, default=_search_store(store)) as db:
        hits = CodeIndex(db, collection, owns_store=False).related(path, int(line), limit=limit, content=content)
        if as_json:
            print(json.dumps({"path": path, "line": int(line), "hits": [h.to_json() for h in hits]}), flush=True)
        else:
            print_hits(out, hits)


@app.command()
def mcp(
    root: Annotated[Optional[Path], typer.Argument(
        help="The tree to search (default: the repository around the working directory).")] = None,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    no_watch: Annotated[bool, typer.Option("--no-watch", help="Index once at start; do not follow changes.")] = False,
    hidden: HiddenOpt = False,
) -> None:
    """Serve code search to coding agents over MCP (stdio): search, related, read, status."""
    from semsearch.mcp_server import serve

    if root is not None and not root.is_dir():
        raise fail(f"no such directory: {root}")
    with errors_as_messages():
        serve(root, watch=not no_watch, collection=collection, store=store, url=qdrant_url, api_key=api_key,
              hidden=hidden)


def _search_records(db: Store, collection: str, query: str, mode: str, limit: int, filters: list[str],
                    as_json: bool, model: str | None, device: str | None) -> None:
    from semsearch.records.search import RecordSearcher
    from semsearch.render import print_records
    from semsearch.search import parse_pairs

    searcher = RecordSearcher(db, collection, model=model, device=device)
    flt = searcher.filters(parse_pairs(filters))
    queries = (line.strip() for line in sys.stdin) if query == "-" else iter([query])
    for text in queries:
        if not text:
            continue
        hits = searcher.search(text, mode=mode, limit=limit, filter=flt)
        if as_json:
            print(json.dumps({"query": text, "mode": mode, "hits": [h.to_json() for h in hits]}), flush=True)
        else:
            print_records(out, hits, searcher.text_fields)


records_app = typer.Typer(no_args_is_help=True, help="Record collections: load JSON/JSONL/CSV, delete, find similar.")
app.add_typer(records_app, name="records")


@records_app.command("load")
def records_load(
    file: Annotated[Path, typer.Argument(help="A JSON array, JSON lines or CSV file.")],
    collection: Annotated[Optional[str], typer.Option("-c", "--collection", help="Default: the file's stem.")] = None,
    text_field: Annotated[Optional[list[str]], typer.Option("--text-field", help="Field(s) to embed; default: description, summary, text…")] = None,
    id_field: Annotated[Optional[str], typer.Option("--id-field", help="Field that identifies a record (else its content).")] = None,
    index_field: Annotated[Optional[list[str]], typer.Option("--index-field", help="Field(s) to filter by, e.g. city.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 256,
    recreate: Annotated[bool, typer.Option("--recreate", help="Drop the collection and build it anew.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad line, writing nothing.")] = False,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Embedding model.")] = None,
    backend: BackendOpt = None, device: DeviceOpt = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
) -> None:
    """Load records, embedding their text, as a stream (memory stays flat)."""
    from semsearch.records.loader import RecordLoader

    if not file.is_file():
        raise fail(f"no such file: {file}")
    name = collection or file.name.split(".")[0]
    default = _search_store(store) or Path.cwd() / STORE_DIR
    with errors_as_messages(), _open(store, qdrant_url, api_key, default=default) as db:
        with Progress(TextColumn("loading {task.fields[records]:,} records"), BarColumn(),
                      TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                      console=err, transient=True, disable=quiet) as bar:
            task = bar.add_task("load", total=file.stat().st_size or 1, records=0, rate="")

            def on_progress(p) -> None:  # type: ignore[no-untyped-def]
                elapsed = bar.tasks[task].elapsed or 0
                rate = f"{p.records / elapsed:,.0f} records/s" if elapsed > 0.5 else ""
                bar.update(task, completed=p.bytes_read, records=p.records, rate=rate)

            loader = RecordLoader(db, name, model=model, backend=backend, device=device, on_progress=on_progress)
            summary = loader.load(file, text_fields=text_field, id_field=id_field, index_fields=index_field or [],
                                  batch_size=batch_size, recreate=recreate, strict=strict)
        for error in summary.errors:
            err.print(f"{file}:{error.line}: skipped: {error.message}", soft_wrap=True)
        rate = summary.loaded / summary.seconds if summary.seconds else 0
        err.print(f"loaded {summary.loaded:,} records into {name!r} ({rate:,.0f} records/s, {summary.seconds:.1f} s); "
                  f"embedded {', '.join(summary.text_fields)}; skipped {summary.bad_lines:,} bad lines, "
                  f"{summary.skipped_no_text:,} without text, {summary.skipped_no_id:,} without id; "
                  f"collection holds {summary.points:,} points", soft_wrap=True)


@records_app.command("delete")
def records_delete(
    collection: Annotated[str, typer.Option("-c", "--collection", help="Collection name.")],
    filter: Annotated[Optional[list[str]], typer.Option("--filter", help="FIELD=VALUE, repeatable.")] = None,
    all_records: Annotated[bool, typer.Option("--all", help="Delete every record (the collection stays).")] = False,
    drop: Annotated[bool, typer.Option("--drop", help="Remove the whole collection.")] = False,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Delete records matching filters (or all of them, or the collection)."""
    from semsearch.records.search import RecordSearcher
    from semsearch.search import parse_pairs
    from semsearch.store import Filter

    with errors_as_messages(), _open(store, qdrant_url, api_key, default=_search_store(store)) as db:
        searcher = RecordSearcher(db, collection)
        if drop:
            db.drop(collection)
            err.print(f"dropped collection {collection!r}")
            return
        flt = searcher.filters(parse_pairs(filter or []))
        if flt is None and not all_records:
            raise fail("give --filter FIELD=VALUE, or --all to delete every record, or --drop")
        before = db.count(collection)
        if flt is not None:
            db.delete(collection, flt)
        else:
            ids = [hit.id for hit in db.scroll(collection, [])]
            for start in range(0, len(ids), 1000):
                db.delete(collection, Filter(ids=ids[start:start + 1000]))
        err.print(f"deleted {before - db.count(collection):,} records from {collection!r}; "
                  f"{db.count(collection):,} remain")


@records_app.command("similar")
def records_similar(
    record_id: Annotated[str, typer.Argument(help="The id of a stored record (see --json output).")],
    collection: Annotated[str, typer.Option("-c", "--collection", help="Collection name.")],
    limit: Annotated[int, typer.Option("-k", "--limit")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Records most like a stored one."""
    from semsearch.records.search import RecordSearcher
    from semsearch.render import print_records

    with errors_as_messages(), _open(store, qdrant_url, api_key, default=_search_store(store)) as db:
        searcher = RecordSearcher(db, collection)
        hits = searcher.similar(record_id, limit=limit)
        if as_json:
            print(json.dumps({"like": record_id, "hits": [h.to_json() for h in hits]}))
        else:
            print_records(out, hits, searcher.text_fields)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="JSONL of structures in the seed tutorial's format.")],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    text_model: TextModelOpt = None, code_model: CodeModelOpt = None, backend: BackendOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Load structures extracted elsewhere (the tutorial's JSON lines) into a collection."""
    from semsearch.indexer import Indexer
    from semsearch.structures import Structure, read_jsonl

    if not file.is_file():
        raise fail(f"no such file: {file}")
    good: list[Structure] = []
    bad = 0
    for number, item in read_jsonl(file):
        if isinstance(item, Structure):
            good.append(item)
        else:
            bad += 1
            err.print(f"{file}:{number}: skipped: {item}", soft_wrap=True)
    if not good:
        raise fail(f"no structures in {file}" + (f" ({bad} bad lines)" if bad else ""))
    default = _search_store(store) or Path.cwd() / STORE_DIR
    with errors_as_messages(), _open(store, qdrant_url, api_key, default=default) as db:
        indexer = Indexer(db, collection, text_model=text_model, code_model=code_model, backend=backend,
                          device=device)
        summary = indexer.import_structures(good)
        err.print(f"imported {summary.structures_embedded:,} structures from {file} ({bad} lines skipped); "
                  f"collection {collection!r} in {db.location} holds {summary.points:,} points", soft_wrap=True)


@app.command()
def collections(store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None) -> None:
    """List the collections in a store with their sizes and models."""
    with errors_as_messages(), _open(store, qdrant_url, api_key, default=_search_store(store)) as db:
        names = db.collections()
        if not names:
            out.print(f"no collections in {db.location}")
        for name in names:
            meta = db.metadata(name)
            vectors = ", ".join(f"{k}: {v.get('model')} ({v.get('size')})" for k, v in meta.get("vectors", {}).items())
            out.print(f"{name}  {db.count(name):,} points  ({meta.get('kind', '?')})  {vectors}", markup=False)


cache_app = typer.Typer(no_args_is_help=True, help="The vector cache: embeddings kept by exact text, shared by every index.")
app.add_typer(cache_app, name="cache")


@contextmanager
def _cache() -> Iterator[VectorCache]:
    """The vector cache for a `cache` command: its problems as messages, closed afterwards."""
    from semsearch.vector_cache import CacheUnavailable, VectorCache, default_path

    path = default_path()
    if path is None:
        raise fail("the vector cache is off (SEMSEARCH_VECTOR_CACHE=off)")
    if not path.is_file():
        raise fail(f"no vector cache yet at {path}: `semsearch index` makes it")
    cache = VectorCache(path)
    try:
        yield cache
    except CacheUnavailable as exc:
        raise fail(str(exc)) from None
    finally:
        cache.close()


@cache_app.command("info")
def cache_info() -> None:
    """Where the cache is, how many vectors it holds, how much disk it takes."""
    from semsearch.vector_cache import today

    with _cache() as cache:
        stats = cache.stats()
    age = "" if stats.oldest_day is None else f"; least recently used {today() - stats.oldest_day} days ago"
    out.print(f"{stats.path}: {stats.entries:,} vectors, {stats.size / 2**20:,.1f} MiB{age}", markup=False, soft_wrap=True)


@cache_app.command("prune")
def cache_prune(
    unused_days: Annotated[int, typer.Option("--unused-days", min=0, help="Drop vectors no index used in this many days.")] = 30,
) -> None:
    """Drop the vectors no index has written or read lately (0: drop them all). Indexes are untouched."""
    with _cache() as cache:
        before = cache.stats()
        dropped = cache.prune(unused_days)
        after = cache.stats()
    out.print(f"dropped {dropped:,} of {before.entries:,} vectors; {after.entries:,} left, "
              f"{before.size / 2**20:,.1f} → {after.size / 2**20:,.1f} MiB", markup=False, soft_wrap=True)


@app.command()
def serve(
    store: StoreOpt = None, qdrant_url: UrlOpt = None,
    qdrant_api_key: Annotated[Optional[str], typer.Option(
        "--qdrant-api-key", envvar="QDRANT_API_KEY", help="API key for the Qdrant server.")] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to bind; loopback unless told.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    server_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="SEMSEARCH_API_KEY", help="Require Authorization: Bearer KEY on every /api route.")] = None,
    cors_origin: Annotated[Optional[list[str]], typer.Option("--cors-origin", help="Allowed origin, repeatable.")] = None,
    collection: CollectionOpt = "code",
    source_url: Annotated[Optional[list[str]], typer.Option(
        "--source-url", help="COLLECTION=URL: link hits to URL/<path>#L<from>-L<to>, e.g. a GitHub tree at a commit.")] = None,
    index_dir: Annotated[Optional[Path], typer.Option(
        "--index", help="Index this tree into --collection in the background while serving (progress: /api/index).")] = None,
    keep_watching: Annotated[bool, typer.Option("--watch", help="With --index: keep the index fresh as files change.")] = False,
) -> None:
    """Serve the search page at /, the HTTP API at /api and its OpenAPI docs at /docs."""
    import uvicorn

    from semsearch.api import create_app
    from semsearch.index_job import IndexJob
    from semsearch.store.shared import SharedStore

    if index_dir is not None and not index_dir.is_dir():
        raise fail(f"no such directory: {index_dir}")
    if keep_watching and index_dir is None:
        raise fail("--watch needs --index DIR")
    default = index_dir / STORE_DIR if index_dir is not None else _search_store(store)  # as `semsearch index`
    with errors_as_messages(), _open(store, qdrant_url, qdrant_api_key, default=default) as opened:
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
