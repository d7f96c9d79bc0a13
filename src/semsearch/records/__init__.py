"""Record collections: JSON/JSONL/CSV records searched by meaning or by words."""
