"""Keep an index fresh while files change.

Changes are collected by watchfiles (debounced in its Rust core); each batch triggers the
indexer's ordinary incremental pass, which re-embeds only what changed and drops what was
deleted or renamed away. The store is opened per update and closed after it, so searches
from other processes can open the embedded store between updates.

The watcher starts before the first walk: a first index of a large tree takes minutes, and a
file written meanwhile would otherwise wait for some later change to be noticed. The Rust
watcher keeps collecting events while an update runs; they are the next batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from semsearch.indexer import IndexSummary, Indexer, ProgressCallback
from semsearch.store import STORE_DIR, Store


@dataclass
class Update:
    changed_paths: int
    summary: IndexSummary


def _relevant(root: Path) -> Callable[[object, str], bool]:
    """Changes worth an update: not the store's own writes, not VCS internals."""

    def keep(change: object, path: str) -> bool:
        try:
            parts = Path(path).resolve().relative_to(root).parts
        except ValueError:
            return False
        return not any(part in (STORE_DIR, ".git", ".hg", ".svn") for part in parts)

    return keep


def watch(root: Path, open_store: Callable[[], Store], collection: str, *,
          on_update: Callable[[Update], None], on_progress: ProgressCallback | None = None,
          on_idle: Callable[[], None] | None = None, debounce_ms: int = 800, stop: threading.Event | None = None,
          **index_options: object) -> None:
    """Start watching root, index it, then index again after every debounced batch of changes,
    until stop is set.

    on_idle runs about twice a second while nothing changes (a server holding an embedded
    store lets a waiting process have it then).
    """
    from watchfiles import watch as file_events

    root = root.resolve()

    def update(count: int) -> None:
        with open_store() as store:
            indexer = Indexer(store, collection, on_progress=on_progress)
            summary = indexer.index_tree(root, **index_options)  # type: ignore[arg-type]
        on_update(Update(count, summary))

    events = file_events(root, watch_filter=_relevant(root), debounce=debounce_ms, stop_event=stop,
                         raise_interrupt=False, yield_on_timeout=True, rust_timeout=500)
    # The first step starts the watcher and returns on its first timeout (or first changes, which
    # the walk below sees anyway); from then on every change is kept for a later step.
    if next(events, None) is None:
        return  # stopped before it began
    update(0)
    for changes in events:
        if changes:
            update(len(changes))
        elif on_idle is not None:
            on_idle()
