"""Watching a tree: edits, new files and deletions reach the index without a manual re-index."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from semsearch.store import StoreLocked
from semsearch.store.edge import EdgeStore
from semsearch.watch import Update, watch


def names_in(store_dir: Path) -> set[str]:
    deadline = time.time() + 10
    while True:
        try:
            with EdgeStore(store_dir) as store:
                return {h.payload["name"] for h in store.scroll("code", ["name"])}
        except StoreLocked:  # the watcher is mid-update: the store is free again right after
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def wait_for(updates: list[Update], count: int, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while len(updates) < count:
        assert time.time() < deadline, f"only {len(updates)} updates"
        time.sleep(0.05)


def test_watch_follows_edits_additions_and_deletions(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.py").write_text("def alpha():\n    return 1\n")
    store_dir = tmp_path / "store"
    updates: list[Update] = []
    stop = threading.Event()
    # the watcher waits for the store as `semsearch watch` does: names_in below holds it now and then
    thread = threading.Thread(target=watch, args=(tree, lambda: EdgeStore(store_dir, wait=30), "code"),
                              kwargs={"on_update": updates.append, "debounce_ms": 200, "stop": stop}, daemon=True)
    thread.start()
    try:
        wait_for(updates, 1)
        assert names_in(store_dir) == {"alpha"}
        time.sleep(0.5)
        (tree / "b.py").write_text("def beta():\n    return 2\n")
        wait_for(updates, 2)
        assert names_in(store_dir) == {"alpha", "beta"}
        assert updates[1].summary.structures_embedded == 1  # only the new file was embedded
        (tree / "a.py").write_text("def gamma():\n    return 3\n")
        (tree / "b.py").unlink()
        deadline = time.time() + 60
        while names_in(store_dir) != {"gamma"}:
            assert time.time() < deadline, names_in(store_dir)
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_the_stores_own_writes_trigger_nothing(tmp_path: Path, monkeypatch) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.py").write_text("def alpha():\n    return 1\n")
    updates: list[Update] = []
    stop = threading.Event()
    # the default layout: the store lives inside the watched tree, under a relative path
    monkeypatch.chdir(tree)
    thread = threading.Thread(target=watch, args=(Path("."), lambda: EdgeStore(Path(".semsearch")), "code"),
                              kwargs={"on_update": updates.append, "debounce_ms": 200, "stop": stop}, daemon=True)
    thread.start()
    try:
        wait_for(updates, 1)
        time.sleep(3)  # a feedback loop would show as updates without edits
        assert len(updates) == 1
    finally:
        stop.set()
        thread.join(timeout=30)



def test_files_written_during_the_first_index_are_indexed_after_it(tmp_path: Path) -> None:
    """The first index of a large tree takes minutes; what changes meanwhile must not wait for a later change."""
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "a.py").write_text("def alpha():\n    return 1\n")
    (tree / "pkg" / "b.py").write_text("def beta():\n    return 2\n")
    store_dir = tmp_path / "store"
    updates: list[Update] = []
    written = threading.Event()

    def on_progress(progress) -> None:  # type: ignore[no-untyped-def]
        # The walk is over and the files are read: as a user would, add a file and edit one now.
        if progress.phase == "parsing" and not written.is_set():
            (tree / "pkg" / "late.py").write_text("def late_arrival():\n    return 3\n")
            (tree / "a.py").write_text("def alpha():\n    return 1\n\n\ndef alpha_edited():\n    return 4\n")
            written.set()

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(tree, lambda: EdgeStore(store_dir, wait=30), "code"),
                              kwargs={"on_update": updates.append, "on_progress": on_progress, "debounce_ms": 200,
                                      "stop": stop}, daemon=True)
    thread.start()
    try:
        wait_for(updates, 1)
        assert written.is_set() and updates[0].summary.files_indexed == 2  # the first pass read the old tree
        deadline = time.time() + 20  # nothing else touches the tree: only the watcher can bring them in
        while names_in(store_dir) != {"alpha", "alpha_edited", "beta", "late_arrival"}:
            assert time.time() < deadline, f"{names_in(store_dir)} after {len(updates)} updates"
            time.sleep(0.2)
        assert updates[1].changed_paths >= 2
    finally:
        stop.set()
        thread.join(timeout=30)
