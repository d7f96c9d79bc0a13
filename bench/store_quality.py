"""What storing dense vectors compactly costs in search quality: NDCG@10 on the development set.

Builds the nine repositories' embedded stores once per datatype — float32 (what collections
held before), float16, and TurboQuant 8-bit codes (what new collections hold) — in their own
folders under bench/.work/store-quality/ (never the shared bench/.work/stores), runs the
annotated queries through the product's search (bench/code_search.py's run_repo) and prints
NDCG@10 per repository, per language and the macro, each against float32.

    .venv/bin/python bench/store_quality.py                          # float32, float16, turbo8
    .venv/bin/python bench/store_quality.py --datatypes float32,turbo8 --repos fastapi,chi
    .venv/bin/python bench/store_quality.py --datatypes turbo8,turbo8+code=turbo4   # one vector's own

Vectors come from the vector cache, so each datatype costs an index without the model.
"""

from __future__ import annotations

import argparse
import statistics

import code_search
from sources import DEFAULT_DATA, WORK, manifest

from semsearch.store import edge

OUT = WORK / "store-quality"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datatypes", default="float32,float16,turbo8")
    parser.add_argument("--repos", default="")
    args = parser.parse_args()
    wanted = {r for r in args.repos.split(",") if r}
    entries = manifest(DEFAULT_DATA, wanted)
    scores: dict[str, dict[str, float]] = {}
    for datatype in args.datatypes.split(","):
        # how the collections about to be created store their vectors: "turbo8", or "turbo8+code=turbo4"
        default, *overrides = datatype.split("+")
        edge.VECTOR_DATATYPE = default
        edge.VECTOR_DATATYPES = dict(o.split("=", 1) for o in overrides)
        code_search.WORK = OUT / datatype  # run_repo builds its stores under WORK/stores/<repo>
        scores[datatype] = {}
        for entry in entries:
            row = code_search.run_repo(entry, DEFAULT_DATA, "hybrid", True)
            scores[datatype][entry["name"]] = row["ndcg"]
            print(f"{datatype} {entry['name']}: {row['ndcg']:.3f}", flush=True)
    base = next(iter(scores))
    languages: dict[str, list[str]] = {}
    for entry in entries:
        languages.setdefault(entry["language"], []).append(entry["name"])
    print("\n| datatype | " + " | ".join(e["name"] for e in entries) + " | " + " | ".join(languages) + " | macro |")
    print("|---" * (len(entries) + len(languages) + 2) + "|")
    for datatype, by_repo in scores.items():
        per_language = [statistics.fmean(by_repo[n] for n in names) for names in languages.values()]
        macro = statistics.fmean(by_repo.values())
        print(f"| {datatype} | " + " | ".join(f"{by_repo[e['name']]:.3f}" for e in entries) + " | "
              + " | ".join(f"{v:.3f}" for v in per_language) + f" | {macro:.3f} |")
        if datatype != base:
            delta = macro - statistics.fmean(scores[base].values())
            print(f"| {datatype} − {base} | " + " | ".join(
                f"{by_repo[e['name']] - scores[base][e['name']]:+.3f}" for e in entries) + " | "
                + " | ".join(f"{v - statistics.fmean(scores[base][n] for n in names):+.3f}"
                             for v, names in zip(per_language, languages.values())) + f" | {delta:+.3f} |")


if __name__ == "__main__":
    main()
