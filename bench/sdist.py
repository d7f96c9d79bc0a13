"""Fetch and unpack a PyPI source distribution once (PyPI is reachable on every machine here)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path


def fetch_sdist(spec: str, into: Path) -> Path:
    """`name==version` → the unpacked top folder `into/name-version`."""
    name, version = spec.split("==")
    target = into / f"{name}-{version}"
    if target.is_dir():
        return target
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    spec, "-d", str(into)], check=True)
    archive = next(into.glob(f"{name}-{version}.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return target
