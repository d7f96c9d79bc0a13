"""Commands that write a code collection: index trees, keep them fresh, import structures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from semsearch.cli.app import (BackendOpt, CodeModelOpt, CollectionOpt, DeviceOpt, HiddenOpt, KeyOpt, LexicalOnlyOpt,
                               QuietOpt, StoreOpt, TextModelOpt, UrlOpt, app, err, errors_as_messages, fail, open_for,
                               search_store)
from semsearch.repos import Tree, parse_source_urls, parse_trees
from semsearch.store import STORE_DIR

SourceUrlOpt = Annotated[Optional[list[str]], typer.Option(
    "--source-url", metavar="NAME=URL", help="Link repository NAME's hits to its lines under URL, e.g. "
                                            "https://github.com/o/r/blob/REV (kept with the index); repeatable.")]


def trees_and_store(directories: list[str], store: Path | None) -> tuple[list[Tree], Path]:
    """The trees named on the command line and the embedded store they go to: --store, else the
    one tree's own .semsearch/, else (several trees) .semsearch/ in the working directory."""
    trees = parse_trees(directories)
    return trees, store or (trees[0].root / STORE_DIR if len(trees) == 1 else Path.cwd() / STORE_DIR)


@app.command()
def index(
    directories: Annotated[list[str], typer.Argument(metavar="DIR...", hidden=True)],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    recreate: Annotated[bool, typer.Option("--recreate", help="Drop the collection and build it anew.")] = False,
    max_bytes: Annotated[int, typer.Option("--max-bytes", metavar="BYTES", help="Skip files larger than this.")] = 1_000_000,
    hidden: HiddenOpt = False,
    text_model: TextModelOpt = None, code_model: CodeModelOpt = None, backend: BackendOpt = None,
    device: DeviceOpt = None,
    quiet: QuietOpt = False,
    lexical_only: LexicalOnlyOpt = False,
    shards: Annotated[Optional[int], typer.Option(
        "--shards", metavar="N", min=1, help="Cluster: shard_number of a new collection.")] = None,
    replicas: Annotated[Optional[int], typer.Option("--replicas", metavar="N", min=1,
                                                    help="Cluster: replication_factor.")] = None,
    write_consistency: Annotated[Optional[int], typer.Option(
        "--write-consistency", metavar="N", min=1, help="Cluster: write_consistency_factor.")] = None,
    source_url: SourceUrlOpt = None,
) -> None:
    """Index source trees, or bring their index up to date.

    Each DIR is a repository of the collection, named after its folder or as NAME=DIR;
    running it again updates each one, leaving the collection's other repositories as they
    are. One tree's index goes to DIR/.semsearch/, several trees' to .semsearch/ in the
    working directory, unless --store or --qdrant-url say otherwise.
    """
    from semsearch.render import summary_text
    from semsearch.repos import claim

    with errors_as_messages():
        trees, default = trees_and_store(directories, store)
        links = parse_source_urls(source_url or [])
        unknown = sorted(set(links) - {t.name for t in trees})
        if unknown:
            raise fail(f"--source-url names {', '.join(unknown)}, not a tree given here "
                       f"({', '.join(t.name for t in trees)})")
    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=default, shards=shards,
                                        replicas=replicas, write_consistency=write_consistency) as db:
        if db.exists(collection) and not recreate:  # every tree refused or accepted before any is written
            metadata = db.metadata(collection)
            for tree in trees:
                claim(metadata, tree.root, tree.requested)
        for number, tree in enumerate(trees):
            summary = _index_one(db, collection, tree, quiet=quiet, recreate=recreate and number == 0,
                                 source_url=links.get(tree.name), max_bytes=max_bytes, hidden=hidden,
                                 lexical_only=lexical_only, text_model=text_model, code_model=code_model,
                                 backend=backend, device=device)
            text = summary_text(summary, collection, db.location)
            err.print(f"{tree.name} ({tree.root}): {text}" if len(trees) > 1 else text, soft_wrap=True)


def _index_one(db, collection: str, tree: Tree, *, quiet: bool, text_model: str | None,  # type: ignore[no-untyped-def]
               code_model: str | None, backend: str | None, device: str | None, **options):
    """One tree into the collection, with the progress bar."""
    from semsearch.indexer import Indexer

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
        return indexer.index_tree(tree.root, repo=tree.requested, **options)


@app.command()
def watch(
    directories: Annotated[list[str], typer.Argument(metavar="DIR...", hidden=True)],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    hidden: HiddenOpt = False,
) -> None:
    """Index trees and keep the index fresh as files change.

    Each DIR (or NAME=DIR) is a repository of the collection, stored as `semsearch index`
    stores it; a change updates only its repository. Watching starts before the first walk,
    so a file written while that runs is indexed too. Ctrl-C stops.
    """
    import signal
    import threading
    import time

    from semsearch.watch import Update
    from semsearch.watch import watch as keep_fresh

    with errors_as_messages():
        trees, default = trees_and_store(directories, store)

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
        keep_fresh(trees, lambda: open_for(store, qdrant_url, api_key, default=default),
                   collection, on_update=report, stop=stop, hidden=hidden)
    err.print("stopped watching")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", hidden=True)],
    store: StoreOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
    collection: CollectionOpt = "code",
    text_model: TextModelOpt = None, code_model: CodeModelOpt = None, backend: BackendOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Load structures extracted elsewhere from FILE.

    FILE holds JSON lines in the seed tutorial's structure format.
    """
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
    default = search_store(store) or Path.cwd() / STORE_DIR
    with errors_as_messages(), open_for(store, qdrant_url, api_key, default=default) as db:
        indexer = Indexer(db, collection, text_model=text_model, code_model=code_model, backend=backend,
                          device=device)
        summary = indexer.import_structures(good)
        err.print(f"imported {summary.structures_embedded:,} structures from {file} ({bad} lines skipped); "
                  f"collection {collection!r} in {db.location} holds {summary.points:,} points", soft_wrap=True)
