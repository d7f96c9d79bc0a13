"""`semsearch serve --index DIR --watch`: a real server process indexes in the background,
reports its progress at /api/index, answers searches, and picks up a changed tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from semsearch.api import create_app
from semsearch.store.edge import EdgeStore
from tests.conftest import free_port


def wait_for(condition, timeout: float = 120.0, every: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def status(base: str) -> dict | None:
    try:
        response = httpx.get(base + "/api/index", timeout=5)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


def test_serve_indexes_in_the_background_and_keeps_watching(inflection_src: Path, tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(inflection_src / "inflection", tree / "inflection")
    salt = uuid.uuid4().hex[:8]  # text the vector cache has never seen: embedding takes seconds
    for f in range(10):
        (tree / "inflection" / f"jobs_{f}.py").write_text("\n\n".join(
            f"def job_{f}_{i}_{salt}(items):\n    \"\"\"Run job {i} of group {f} ({salt}).\"\"\"\n"
            f"    return [item + {i} for item in items]" for i in range(30)) + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "semsearch.cli", "serve", "--index", str(tree), "--watch",
                               "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        seen: list[dict] = []

        def watching() -> bool:
            current = status(base)
            if current:
                seen.append(current)
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            return bool(current) and current["state"] == "watching"

        wait_for(watching)
        during = [s["progress"] for s in seen if s["state"] == "indexing" and s["progress"]]
        assert during, "progress was never visible while indexing"
        assert {"phase", "files", "structures_embedded", "structures_per_s", "eta_s"} <= set(during[-1])
        final = seen[-1]
        assert final["last"]["files_indexed"] == 11 and final["last"]["points"] > 300 and final["error"] is None
        top = httpx.get(base + "/api/search", params={"q": "return the plural form of a word"}).json()["result"][0]
        assert top["name"] == "pluralize"

        (tree / "inflection" / "shipping.py").write_text(
            "def estimate_delivery_days(distance_km):\n    \"\"\"How many days a parcel takes to arrive.\"\"\"\n"
            "    return 1 + distance_km // 500\n")
        wait_for(lambda: (status(base) or {}).get("updates", 0) >= 2, timeout=60)
        after = status(base)
        assert after["state"] == "watching" and after["last"]["files_indexed"] == 1
        top = httpx.get(base + "/api/search", params={"q": "how long until a package arrives"}).json()["result"][0]
        assert top["name"] == "estimate_delivery_days"
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert (tree / ".semsearch").is_dir()  # the same store `semsearch index DIR` would use


def test_without_a_job_the_status_says_how_to_start_one(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "store") as store:
        response = TestClient(create_app(store)).get("/api/index")
    assert response.status_code == 404 and "--index DIR" in response.json()["detail"]


def test_watch_needs_a_tree(cli, tmp_path: Path) -> None:
    result = cli("serve", "--watch", "--store", tmp_path, ok=False)
    assert result.exit_code == 1 and "--watch needs --index DIR" in result.stderr


@pytest.mark.parametrize("missing", ["nowhere"])
def test_index_dir_must_exist(cli, tmp_path: Path, missing: str) -> None:
    result = cli("serve", "--index", tmp_path / missing, ok=False)
    assert result.exit_code == 1 and "no such directory" in result.stderr
