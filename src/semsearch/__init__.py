"""semsearch: semantic search for codebases and document collections, on Qdrant."""

__version__ = "0.1.0"
