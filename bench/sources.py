"""The development set's repositories on disk: PyPI sdists or the archives beside the manifest.

Each manifest entry names either an `sdist` (`name==version`, fetched from PyPI once) or an
`archive` (a .tar.gz beside the manifest, exported at the annotated revision). Annotation
paths are relative to the unpacked top folder; only `benchmark_root` below it is indexed.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from sdist import fetch_sdist

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
DEFAULT_DATA = HERE.parent.parent / "shared" / "bench" / "code-search"


def manifest(data: Path = DEFAULT_DATA, wanted: set[str] | None = None) -> list[dict[str, Any]]:
    entries = json.loads((data / "manifest.json").read_text())
    return [e for e in entries if not wanted or e["name"] in wanted]


def top_folder(entry: dict[str, Any], data: Path = DEFAULT_DATA) -> Path:
    """The unpacked folder that annotation paths are relative to."""
    if "sdist" in entry:
        return fetch_sdist(entry["sdist"], WORK / "src")
    target = WORK / "src" / f"{entry['name']}-{entry['revision'][:12]}"
    if not target.is_dir():
        partial = target.with_name(target.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        with tarfile.open(data / entry["archive"]) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(target)
    return target


def benchmark_root(entry: dict[str, Any], data: Path = DEFAULT_DATA) -> Path:
    """The folder to index."""
    top = top_folder(entry, data)
    return top / entry["benchmark_root"] if entry["benchmark_root"] else top


def prefix(entry: dict[str, Any]) -> str:
    """What turns a path relative to the benchmark root into an annotation path."""
    return entry["benchmark_root"] + "/" if entry["benchmark_root"] else ""


def tasks(entry: dict[str, Any], data: Path = DEFAULT_DATA) -> list[dict[str, Any]]:
    return json.loads((data / "annotations" / f"{entry['name']}.json").read_text())
