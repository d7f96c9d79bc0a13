"""Shared fixtures: a real PyPI source distribution, and a way to run the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from semsearch.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from sdist import fetch_sdist  # noqa: E402

CACHE = Path(__file__).parent / ".cache"


@pytest.fixture(scope="session")
def inflection_src() -> Path:
    return fetch_sdist("inflection==0.5.1", CACHE)


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
