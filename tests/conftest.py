"""Shared fixtures: a real PyPI source distribution, and a way to run the CLI."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from semsearch.cli import app
from semsearch.store.edge import EdgeStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from sdist import fetch_sdist  # noqa: E402

CACHE = Path(__file__).parent / ".cache"
# The ONNX export of the query encoder goes here, not into the user's home.
os.environ.setdefault("SEMSEARCH_CACHE", str(CACHE / "semsearch"))


@pytest.fixture(scope="session")
def inflection_src() -> Path:
    return fetch_sdist("inflection==0.5.1", CACHE)


def build_demo_store(base: Path, inflection_src: Path) -> tuple[EdgeStore, Path]:
    """A store with a code collection (inflection plus a file whose snippet holds <script>)
    and the seed's startups as a record collection, for the API and page tests."""
    from semsearch.indexer import Indexer
    from semsearch.records.loader import RecordLoader
    from tests.test_api import SNIPPET
    from tests.test_records import STARTUPS

    tree = base / "repo"
    shutil.copytree(inflection_src / "inflection", tree / "inflection")
    (tree / "web.py").write_text(SNIPPET)
    startups = base / "startups.json"
    startups.write_text(json.dumps(STARTUPS))
    store = EdgeStore(base / "store")
    Indexer(store, "code").index_tree(tree)
    RecordLoader(store, "startups").load(startups, index_fields=["city"])
    return store, tree


class Cli:
    """Runs `semsearch` in-process (shares the loaded model) and returns the result."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True):
        result = self.runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()
