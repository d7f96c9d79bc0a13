"""semsearch: semantic search for codebases and document collections, on Qdrant.

The Python API is `open_index` (semsearch.code_index): open or create the index of a
source tree, update it, search it, find related code, read its files.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["open_index", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `semsearch --version` and the CLI's start-up stay light.
    if name == "open_index":
        from semsearch.code_index import open_index

        return open_index
    raise AttributeError(f"module 'semsearch' has no attribute {name!r}")
