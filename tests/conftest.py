"""Shared fixtures: a real PyPI source distribution, and a way to run the CLI."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from semsearch.cli import app

CACHE = Path(__file__).parent / ".cache"


def fetch_sdist(spec: str) -> Path:
    """Download and unpack a PyPI sdist once (PyPI is reachable on every machine here)."""
    name, version = spec.split("==")
    target = CACHE / f"{name}-{version}"
    if target.is_dir():
        return target
    CACHE.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    spec, "-d", str(CACHE)], check=True)
    archive = next(CACHE.glob(f"{name}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return target


@pytest.fixture(scope="session")
def inflection_src() -> Path:
    return fetch_sdist("inflection==0.5.1")


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
