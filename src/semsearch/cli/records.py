"""`semsearch records …`: load JSON/JSONL/CSV records, delete them, find similar ones; and their search."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from semsearch.cli.app import (BackendOpt, DeviceOpt, FilterOpt, JsonOpt, KeyOpt, LimitOpt, QuietOpt, StoreOpt, UrlOpt,
                               app, err, errors_as_messages, fail, group, open_for, out, search_store)
from semsearch.store import STORE_DIR, Store

records_app = group("Record collections: load, delete, find similar.")
app.add_typer(records_app, name="records")
NameOpt = Annotated[str, typer.Option("-c", "--collection", metavar="NAME", help="Collection name.")]


def search_records(db: Store, collection: str, query: str, mode: str, limit: int, filters: list[str],
                   as_json: bool, model: str | None, device: str | None) -> None:
    """`semsearch search` on a record collection: cards in the terminal, or JSON lines."""
    from semsearch.records.search import SCORE_KINDS, RecordSearcher
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
            print(json.dumps({"query": text, "mode": mode, "score_kind": SCORE_KINDS.get(mode),
                              "hits": [h.to_json() for h in hits]}), flush=True)
        else:
            print_records(out, hits, searcher.text_fields, searcher.display)


@records_app.command("load")
def records_load(
    file: Annotated[Path, typer.Argument(metavar="FILE", hidden=True)],
    collection: Annotated[Optional[str], typer.Option("-c", "--collection", metavar="NAME",
                                                      help="Default: the file's name up to its first dot.")] = None,
    text_field: Annotated[Optional[list[str]], typer.Option(
        "--text-field", metavar="FIELD", help="Field to embed, repeatable; default: description, summary, text…")] = None,
    id_field: Annotated[Optional[str], typer.Option(
        "--id-field", metavar="FIELD", help="Field that identifies a record (else its content).")] = None,
    index_field: Annotated[Optional[list[str]], typer.Option(
        "--index-field", metavar="FIELD", help="Field to filter by, repeatable, e.g. city.")] = None,
    title_field: Annotated[Optional[str], typer.Option(
        "--title-field", metavar="FIELD", help="A record's title (default: name or title).")] = None,
    link_field: Annotated[Optional[str], typer.Option(
        "--link-field", metavar="FIELD", help="Its link (default: link, url or homepage holding http(s) URLs).")] = None,
    image_field: Annotated[Optional[str], typer.Option(
        "--image-field", metavar="FIELD", help="Its picture (default: images, image, picture or logo holding "
                                               "http(s) URLs or data URIs).")] = None,
    label_field: Annotated[Optional[list[str]], typer.Option(
        "--label-field", metavar="FIELD", help="Its labels, repeatable; indexed, they filter when clicked "
                                               "(default: short values many records share, e.g. city).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", metavar="N", help="Records embedded at a time.")] = 256,
    recreate: Annotated[bool, typer.Option("--recreate", help="Drop the collection and build it anew.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad line, writing nothing.")] = False,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="Embedding model.")] = None,
    backend: BackendOpt = None, device: DeviceOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Load the records of FILE, embedding their text.

    FILE is a JSON array, JSON lines or CSV, read as a stream (memory stays flat).
    """
    from semsearch.records.loader import RecordLoader

    if not file.is_file():
        raise fail(f"no such file: {file}")
    name = collection or file.name.split(".")[0]
    default = search_store(store) or Path.cwd() / STORE_DIR
    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=default) as db:
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
                                  batch_size=batch_size, recreate=recreate, strict=strict, title_field=title_field,
                                  link_field=link_field, image_field=image_field, label_fields=label_field)
        for error in summary.errors:
            err.print(f"{file}:{error.line}: skipped: {error.message}", soft_wrap=True)
        rate = summary.loaded / summary.seconds if summary.seconds else 0
        err.print(f"loaded {summary.loaded:,} records into {name!r} ({rate:,.0f} records/s, {summary.seconds:.1f} s); "
                  f"embedded {', '.join(summary.text_fields)}; skipped {summary.bad_lines:,} bad lines, "
                  f"{summary.skipped_no_text:,} without text, {summary.skipped_no_id:,} without id; "
                  f"collection holds {summary.points:,} points; shown as {summary.display.describe()}", soft_wrap=True)


@records_app.command("delete")
def records_delete(
    collection: NameOpt,
    filter: FilterOpt = None,
    all_records: Annotated[bool, typer.Option("--all", help="Delete every record (the collection stays).")] = False,
    drop: Annotated[bool, typer.Option("--drop", help="Remove the whole collection.")] = False,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Delete records by filter, or all of them, or the collection."""
    from semsearch.records.search import RecordSearcher
    from semsearch.search import parse_pairs
    from semsearch.store import Filter

    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
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
    record_id: Annotated[str, typer.Argument(metavar="RECORD_ID", hidden=True)],
    collection: NameOpt,
    limit: LimitOpt = 10,
    as_json: JsonOpt = False,
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Records most like the stored record RECORD_ID.

    RECORD_ID is a record's id, as `semsearch search --json` prints it.
    """
    from semsearch.records.search import RecordSearcher
    from semsearch.render import print_records

    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=search_store(store)) as db:
        searcher = RecordSearcher(db, collection)
        hits = searcher.similar(record_id, limit=limit)
        if as_json:
            print(json.dumps({"like": record_id, "score_kind": "cosine", "hits": [h.to_json() for h in hits]}))
        else:
            print_records(out, hits, searcher.text_fields, searcher.display)
