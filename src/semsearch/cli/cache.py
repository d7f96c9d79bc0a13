"""`semsearch cache …`: the vector cache, embeddings kept by exact text and shared by every index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from semsearch.cli.app import app, fail, group, out

if TYPE_CHECKING:
    from semsearch.vector_cache import VectorCache

cache_app = group("The vector cache, shared by every index.")
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
    unused_days: Annotated[int, typer.Option("--unused-days", metavar="DAYS", min=0,
                                             help="Drop vectors no index used in this many days.")] = 30,
) -> None:
    """Drop the vectors no index has written or read lately (0: drop them all). Indexes are untouched."""
    with _cache() as cache:
        before = cache.stats()
        dropped = cache.prune(unused_days)
        after = cache.stats()
    out.print(f"dropped {dropped:,} of {before.entries:,} vectors; {after.entries:,} left, "
              f"{before.size / 2**20:,.1f} → {after.size / 2**20:,.1f} MiB", markup=False, soft_wrap=True)
