"""Keep an index fresh while files change.

Changes are collected by watchfiles (debounced in its Rust core); each batch triggers the
indexer's ordinary incremental pass, which re-embeds only what changed and drops what was
deleted or renamed away. The store is opened per update and closed after it, so searches
from other processes can open the embedded store between updates.

The watcher starts before the first walk: a first index of a large tree takes minutes, and a
file written meanwhile would otherwise wait for some later change to be noticed. The Rust
watcher keeps collecting events while an update runs; they are the next batch.

Several trees (the repositories of one collection) are watched by one watcher; a batch of
changes updates only the repositories it touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from semsearch.indexer import IndexSummary, Indexer, ProgressCallback
from semsearch.repos import Tree, parse_tree
from semsearch.store import STORE_DIR, Store


@dataclass
class Update:
    changed_paths: int
    summary: IndexSummary


def _tree_of(trees: Sequence[Tree], path: str) -> Tree | None:
    """The tree a changed path is in, when the change is worth an update: not the store's own
    writes, not VCS internals."""
    resolved = Path(path).resolve()
    for tree in trees:
        try:
            parts = resolved.relative_to(tree.root).parts
        except ValueError:
            continue
        return None if any(part in (STORE_DIR, ".git", ".hg", ".svn") for part in parts) else tree
    return None


def _relevant(trees: Sequence[Tree]) -> Callable[[object, str], bool]:
    return lambda change, path: _tree_of(trees, path) is not None


def watch(root: Path | Sequence[Tree], open_store: Callable[[], Store], collection: str, *,
          on_update: Callable[[Update], None], on_progress: ProgressCallback | None = None,
          on_idle: Callable[[], None] | None = None, debounce_ms: int = 800, stop: threading.Event | None = None,
          **index_options: object) -> None:
    """Start watching root (a tree, or several as repositories of the collection), index it, then
    index again after every debounced batch of changes, until stop is set.

    on_idle runs about twice a second while nothing changes (a server holding an embedded
    store lets a waiting process have it then).
    """
    from watchfiles import watch as file_events

    trees = [parse_tree(root)] if isinstance(root, Path) else list(root)

    def update(count: int, changed: Sequence[Tree]) -> None:
        with open_store() as store:
            for tree in changed:
                indexer = Indexer(store, collection, on_progress=on_progress)
                summary = indexer.index_tree(tree.root, repo=tree.requested, **index_options)  # type: ignore[arg-type]
        on_update(Update(count, summary))

    events = file_events(*(t.root for t in trees), watch_filter=_relevant(trees), debounce=debounce_ms,
                         stop_event=stop, raise_interrupt=False, yield_on_timeout=True, rust_timeout=500)
    # The first step starts the watcher and returns on its first timeout (or first changes, which
    # the walk below sees anyway); from then on every change is kept for a later step.
    if next(events, None) is None:
        return  # stopped before it began
    update(0, trees)
    for changes in events:
        if changes:
            touched = {id(t) for _, path in changes if (t := _tree_of(trees, path)) is not None}
            update(len(changes), [t for t in trees if id(t) in touched] or trees)
        elif on_idle is not None:
            on_idle()
