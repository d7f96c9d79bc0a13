"""A 3-node Qdrant cluster on loopback: index with shards and replicas, kill a node, still search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, qdrant_binary


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    binary = qdrant_binary()
    nodes = []
    first_p2p = None
    for number in range(3):
        home = tmp_path_factory.mktemp(f"node{number}")
        http, grpc, p2p = free_port(), free_port(), free_port()
        env = {**os.environ, "QDRANT__SERVICE__HOST": "127.0.0.1", "QDRANT__SERVICE__HTTP_PORT": str(http),
               "QDRANT__SERVICE__GRPC_PORT": str(grpc), "QDRANT__CLUSTER__ENABLED": "true",
               "QDRANT__CLUSTER__P2P__PORT": str(p2p), "QDRANT__STORAGE__STORAGE_PATH": str(home / "data"),
               "QDRANT__STORAGE__SNAPSHOTS_PATH": str(home / "snapshots"), "QDRANT__TELEMETRY_DISABLED": "true"}
        args = [str(binary), "--uri", f"http://127.0.0.1:{p2p}"]
        if first_p2p is not None:
            args += ["--bootstrap", f"http://127.0.0.1:{first_p2p}"]
        log = (home / "qdrant.log").open("w")
        process = subprocess.Popen(args, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
        nodes.append({"url": f"http://127.0.0.1:{http}", "process": process, "log": home / "qdrant.log"})
        first_p2p = first_p2p or p2p
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(nodes[-1]["url"] + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                pytest.fail(f"node {number} did not start: {(home / 'qdrant.log').read_text()[-2000:]}")
            time.sleep(0.3)
    deadline = time.time() + 60
    while len(get(nodes[0]["url"] + "/cluster")["result"]["peers"]) < 3:
        if time.time() > deadline:
            pytest.fail("the three nodes did not form a cluster")
        time.sleep(0.5)
    yield nodes
    for node in nodes:
        if node["process"].poll() is None:
            node["process"].terminate()
            node["process"].wait(timeout=20)


def test_index_with_shards_and_replicas_then_lose_a_node(cluster, inflection_src: Path, cli) -> None:
    first, second, third = cluster
    result = cli("index", inflection_src / "inflection", "--qdrant-url", first["url"], "-c", "infl",
                 "--shards", "6", "--replicas", "2", "--write-consistency", "2", "-q")
    assert "infl" in result.stderr
    config = get(first["url"] + "/collections/infl")["result"]["config"]["params"]
    assert (config["shard_number"], config["replication_factor"], config["write_consistency_factor"]) == (6, 2, 2)
    expected = json.loads(cli("search", "return the plural form of a word", "--qdrant-url", first["url"],
                              "-c", "infl", "--json").stdout)["hits"]
    assert expected[0]["name"] == "pluralize"

    third["process"].send_signal(signal.SIGKILL)  # one node gone: every shard still has a replica
    third["process"].wait(timeout=20)
    for node in (first, second):
        answer = json.loads(cli("search", "return the plural form of a word", "--qdrant-url", node["url"],
                                "-c", "infl", "--json").stdout)["hits"]
        assert [(h["path"], h["line_from"]) for h in answer] == [(h["path"], h["line_from"]) for h in expected]


def test_cluster_options_need_a_server(tmp_path: Path, cli) -> None:
    (tmp_path / "src").mkdir()
    result = cli("index", tmp_path / "src", "--store", tmp_path / "s", "--shards", "3", ok=False)
    assert result.exit_code == 1 and "need a Qdrant server" in result.stderr
