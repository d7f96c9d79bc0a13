"""Indexing inside the server: `semsearch serve --index DIR [--watch]`.

An embedded store belongs to one process, so a server that should also keep its index
fresh must do the indexing itself. The job runs in a background thread against the
server's shared store (searches keep answering between its batches) and publishes its
progress for GET /api/index: phase, files, structures, rate and ETA, then the last summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from semsearch.indexer import IndexSummary, Indexer, Progress
from semsearch.repos import Tree, parse_tree
from semsearch.store.shared import SharedStore


class IndexJob:
    def __init__(self, store: SharedStore, root: Path | Sequence[Tree], collection: str, *, watch: bool = False,
                 hidden: bool = False) -> None:
        """root: the tree to index, or several as repositories of the collection (one after the other)."""
        self.store = store
        self.trees = [parse_tree(root)] if isinstance(root, Path) else list(root)
        self.root = self.trees[0].root
        self.collection = collection
        self.watch = watch
        self.hidden = hidden
        self.state = "pending"  # pending → indexing → watching | done | failed
        self.progress: Progress | None = None
        self.last: IndexSummary | None = None
        self.finished_at: float | None = None
        self.error: str | None = None
        self.updates = 0
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="semsearch-index", daemon=True)

    def start(self) -> IndexJob:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def status(self) -> dict[str, Any]:
        last = self.last
        return {
            "state": self.state, "root": str(self.root), "repos": {t.name: str(t.root) for t in self.trees},
            "collection": self.collection, "watch": self.watch,
            "updates": self.updates, "error": self.error,
            "progress": self.progress.as_dict() if self.progress and self.state == "indexing" else None,
            "last": None if last is None else {
                "files": last.walk.files, "files_indexed": last.files_indexed, "files_unchanged": last.files_unchanged,
                "files_removed": last.files_removed, "structures_embedded": last.structures_embedded,
                "vectors_cached": last.vectors_cached, "points": last.points, "seconds": round(last.seconds, 2),
                "errors": last.errors[:10], "finished_at": self.finished_at,
            },
        }

    def _on_progress(self, progress: Progress) -> None:
        self.progress = progress
        if progress.phase != "done":
            self.state = "indexing"

    def _finished(self, summary: IndexSummary) -> None:
        self.last, self.finished_at, self.updates = summary, time.time(), self.updates + 1
        self.state = "watching" if self.watch else "done"

    def _run(self) -> None:
        try:
            if self.watch:
                from semsearch.watch import watch

                watch(self.trees, lambda: nullcontext(self.store), self.collection, stop=self.stop,
                      on_update=lambda update: self._finished(update.summary), on_progress=self._on_progress,
                      on_idle=lambda: self.store.yield_to_readers(self.collection), hidden=self.hidden)
            else:
                for tree in self.trees:
                    summary = Indexer(self.store, self.collection, on_progress=self._on_progress).index_tree(
                        tree.root, hidden=self.hidden, repo=tree.requested)
                self._finished(summary)
        except Exception as exc:  # noqa: BLE001 - reported through the status; the server keeps serving
            self.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.state = "failed"
