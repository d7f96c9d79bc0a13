"""The `semsearch` command: index, search, records, repos, serve, mcp, cache.

Each module registers its commands on the one Typer app (app.py), in the order `--help` lists them.
"""

from semsearch.cli import indexing, searching, serving  # noqa: F401 - they register index, watch, import, search, …
from semsearch.cli import records, repos, cache  # noqa: F401,I001 - then the `records`, `repos` and `cache` groups
from semsearch.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
