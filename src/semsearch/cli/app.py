"""The `semsearch` command's root and what its commands share: consoles, options, errors, the store.

Help is plain text (Typer's rich panels print `<bool>` after every flag and squeeze the
help column at 80 columns): flags show no value, other options a name for theirs, as
other tools do (`--store DIR`, `-k, --limit N`, `--filter FIELD=VALUE`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from semsearch import __version__
from semsearch.store import Store, StoreError, find_store_dir, open_store

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Semantic code search on Qdrant: index a tree, then ask it questions.")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def group(help: str, *, lists: bool = False) -> typer.Typer:
    """A command group (`semsearch records …`) with the root's plain help; one that `lists` does its
    own job when given no command (`semsearch repos` lists them) instead of printing its help."""
    return typer.Typer(no_args_is_help=not lists, rich_markup_mode=None, help=help)


StoreOpt = Annotated[Optional[Path], typer.Option("--store", metavar="DIR",
                                                  help="Embedded store folder (default: .semsearch/).")]
UrlOpt = Annotated[Optional[str], typer.Option("--qdrant-url", metavar="URL", envvar="QDRANT_URL",
                                               help="Use a Qdrant server or cluster.")]
KeyOpt = Annotated[Optional[str], typer.Option("--api-key", metavar="KEY", envvar="QDRANT_API_KEY",
                                               help="API key for the Qdrant server.")]
CollectionOpt = Annotated[str, typer.Option("-c", "--collection", metavar="NAME", help="Collection name.")]
TextModelOpt = Annotated[Optional[str], typer.Option("--text-model", metavar="MODEL", help="Model for the `text` vector.")]
CodeModelOpt = Annotated[Optional[str], typer.Option("--code-model", metavar="MODEL", help="Model for the `code` vector.")]
DeviceOpt = Annotated[Optional[str], typer.Option(
    "--device", metavar="DEVICE", envvar="SEMSEARCH_DEVICE",
    help="cpu (default) or a torch device such as cuda (implies torch).")]
HiddenOpt = Annotated[bool, typer.Option("--hidden", help="Also index dot-files and dot-folders.")]
QuietOpt = Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")]
LimitOpt = Annotated[int, typer.Option("-k", "--limit", metavar="N", help="Number of results.")]
FilterOpt = Annotated[Optional[list[str]], typer.Option("--filter", metavar="FIELD=VALUE",
                                                        help="Only where FIELD is VALUE; repeatable.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (one object per query).")]
LexicalOnlyOpt = Annotated[bool, typer.Option(
    "--lexical-only", envvar="SEMSEARCH_LEXICAL_ONLY",
    help="Structures, words and ranking only: no model at all (for trees too large for the machine); "
         "a later run without it fills the vectors in.")]
ContentOpt = Annotated[str, typer.Option(
    "--content", metavar="KIND", help="Code: code (default: no docs, no config files), docs (Markdown, reST, "
                                      "text), config (YAML, TOML, JSON, INI…) or all.")]
BackendOpt = Annotated[Optional[str], typer.Option(
    "--backend", metavar="BACKEND", envvar="SEMSEARCH_BACKEND",
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
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    pass


def _store_wait() -> float:
    """Seconds a command waits for an embedded store another process holds (SEMSEARCH_STORE_WAIT, default 120)."""
    try:
        return float(os.environ.get("SEMSEARCH_STORE_WAIT", "120"))
    except ValueError:
        return 120.0


def open_for(store: Path | None, url: str | None, api_key: str | None, *, default: Path | None,
             **distribution: int | None) -> Store:
    """The store a command names: a server with --qdrant-url, else the embedded one at --store or default."""
    if url:
        return open_store(url=url, api_key=api_key, **distribution)
    if any(distribution.values()):
        raise StoreError("--shards, --replicas and --write-consistency need a Qdrant server (--qdrant-url)")
    path = store or default
    if path is None:
        raise StoreError("no index found here or above: run `semsearch index DIR` first, or pass --store")
    return open_store(path=path, wait=_store_wait(), on_wait=lambda message: err.print(f"({message})", soft_wrap=True))


def search_store(store: Path | None) -> Path | None:
    """--store, else the nearest .semsearch/ upward from the working directory (as git finds .git)."""
    return store or find_store_dir(Path.cwd())
