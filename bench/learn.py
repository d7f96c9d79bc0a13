"""Train the learned ranker and validate it on held-aside repositories.

The mined corpus's packages are split into five folds (bench/corpus_packages.json, stratified
by language). `cv` fits LambdaMART (LightGBM) on four folds and scores the fifth, for each
fold in turn, against today's rules on the same candidates; the nine development
repositories are scored by a model fitted on the mined corpus alone (they are never trained
on, unless --with-nine, where each of the nine is scored by a model that did not see it).
`ablation` refits with each feature group left out. `export` fits on every fold and writes
the trees to bench/.work/learn/ranker.json, which code_search.py --ranker and
http_latency.py --ab read (no ranker ships in the package: see bench/README.md).

    .venv/bin/python bench/code_search.py            # the nine's stores
    .venv/bin/python bench/corpus.py all             # the mined corpus and its stores
    .venv/bin/python bench/learn.py cv [--with-nine]
    .venv/bin/python bench/learn.py ablation
    .venv/bin/python bench/learn.py export
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from learn_data import (CACHE, CORPUS, CSN_FOLD, HANDWRITTEN_FOLD, NINE_FOLD, Group, csn, decayed_order, handwritten,
                        mined, mrr, ndcg, nine)

from semsearch.features import FEATURES, ROLES
from semsearch.learned import RULE_FLOOR

SOURCES = Path(__file__).resolve().parent.parent / "src" / "semsearch"
FOLDS = 5
PARAMS: dict[str, Any] = {
    "objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.05, "num_leaves": 15, "max_depth": 5,
    "min_data_in_leaf": 100, "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
    "lambda_l2": 1.0, "lambdarank_truncation_level": 20, "verbose": -1, "num_threads": 2, "seed": 0,
}
ROUNDS = 200
DECAY = {"question": 0.4, "other": 0.8}
GROUPS = {  # feature groups, for the ablation
    "query and lists": ["q_identifier", "q_question", "q_words", "q_names", "q_compared", "text_top", "text_margin",
                        "code_top", "code_margin", "lex_margin", "agree_text_code", "agree_text_lex", "agree_code_lex"],
    "list scores and ranks": ["fused", "text", "text_rank", "code", "code_rank", "lex", "lex_rank", "named_only"],
    "roles": [*(f"role_{r}" for r in ROLES), "role_factor"],
    "path words": ["path_lift"],
    "names": ["asked", "compared", "tier"],
    "rules' score": ["rule_score", "rule_rank", "evidence"],
    "file and structure": ["file_hits", "file_rank", "file_best", "definition", "callable", "block", "lines",
                           "language_named"],
}


# -- data -------------------------------------------------------------------------------

def load(with_mined: bool = True, with_handwritten: bool = False) -> list[Group]:
    """The nine, the CSN-style pairs, the mined corpus and (asked) the hand-written queries as groups,
    cached until the code that makes them or a store changes."""
    from handwritten import STORES

    sources = [SOURCES / name for name in ("ranking.py", "query.py", "features.py", "search.py")]
    sources += [Path(__file__).parent / name for name in ("learn_data.py", "offline.py")]
    stores = sorted((CORPUS / "indexed").glob("*.json")) if with_mined else []  # the corpus's finished stores
    stores += sorted(STORES.glob("*")) if with_handwritten else []
    stamp = "".join(f"{p.name}{p.stat().st_mtime_ns}" for p in stores).encode()
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources) + stamp).hexdigest()[:16]
    cached = CACHE / f"groups-{key}-{int(with_mined)}{int(with_handwritten)}.pickle"
    if cached.is_file():
        return pickle.loads(cached.read_bytes())
    groups = nine() + csn() + (mined() if with_mined else []) + (handwritten() if with_handwritten else [])
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps(groups))
    return groups


def masked(groups: list[Group], drop: list[str]) -> list[Group]:
    """The same groups with some features held at zero (the model cannot split on them)."""
    if not drop:
        return groups
    columns = [FEATURES.index(f) for f in drop]
    out = []
    for g in groups:
        rows = g.rows.copy()
        rows[:, columns] = 0.0
        out.append(Group(**{**g.__dict__, "rows": rows}))
    return out


# -- fitting ----------------------------------------------------------------------------

def fit(groups: list[Group], rounds: int = ROUNDS, params: dict[str, Any] | None = None) -> Any:
    """LambdaMART over the groups, boosting from the rules' own score (`base`), so that trees with
    nothing to add leave today's order as it is (`params` may say "base": False to start from
    zero, "linear": True for a logistic regression instead, "grades": False to count every
    right chunk alike)."""
    import lightgbm as lgb

    params = dict(params or {})
    linear, grades = params.pop("linear", False), params.pop("grades", True)
    from_rules = params.pop("base", True)
    every = params.pop("every", False)
    train = [g for g in groups if g.labels.any()]  # a query with no right answer in its pool teaches nothing
    rows = np.concatenate([g.rows for g in train])
    labels = np.concatenate([g.labels if every else first_labels(g) for g in train])
    if not grades:
        labels = np.minimum(labels, 1.0)
    if linear:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        model.fit(rows, labels > 0)
        return _Linear(model)
    data = lgb.Dataset(rows, labels, group=[len(g.labels) for g in train], feature_name=list(FEATURES),
                       init_score=base_score(rows) if from_rules else None, free_raw_data=False)
    booster = lgb.train({**PARAMS, **params}, data, num_boost_round=rounds)
    return _FromRules(booster) if from_rules else booster


def first_labels(group: Group) -> np.ndarray:
    """The metric's view of a pool: per target, only the chunk the rules place first among those
    covering it is right (1); a doc query's own structure stays right (2) wherever it is.

    Labelling every chunk of a target file right teaches the trees to fill the top with one
    file's chunks, which the metric does not reward and which hides the other files."""
    labels = np.where(group.labels >= 2, group.labels, 0.0).astype(np.float32)
    seen: set[int] = set()
    for i in group.rules:
        new = [t for t in group.covers[i] if t not in seen]
        if new:
            labels[i] = max(1.0, labels[i])
            seen.update(new)
    return labels


def base_score(rows: np.ndarray) -> np.ndarray:
    """The rules' score as a margin: log of the rule score relative to the best (learned.base_score)."""
    return np.log(np.maximum(rows[:, FEATURES.index("rule_score")].astype(np.float64), RULE_FLOOR))


class _FromRules:
    """Trees fitted on top of the rules' score: predicts base + trees, as the product does."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return base_score(rows) + self.booster.predict(rows)


class _Linear:
    """A fitted logistic regression with the booster's `predict` (its log-odds)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.model.decision_function(rows)


Ranker = Callable[[Group], list[int]]


def learned(booster: Any, tiers: bool = True, topics_only: bool = False) -> Ranker:
    """The trees' order; with `topics_only`, only for topic queries (the only kind besides names
    that the mined corpus holds), the rules' for questions and identifiers."""
    identifier = FEATURES.index("q_identifier")

    def order(group: Group) -> list[int]:
        if topics_only and (group.question or group.rows[0, identifier] > 0):
            return group.rules
        decay = DECAY["question"] if group.question else DECAY["other"]
        return decayed_order(group, booster.predict(group.rows), decay, tiers)
    return order


def rules(group: Group) -> list[int]:
    return group.rules


# -- scoring ----------------------------------------------------------------------------

def scored(groups: list[Group], ranker: Ranker) -> dict[tuple[str, str], list[float]]:
    """NDCG@10 per query (MRR@10 for the CSN-style pairs), collected per (repository, language)."""
    out: dict[tuple[str, str], list[float]] = {}
    for g in groups:
        metric = mrr if g.fold == CSN_FOLD else ndcg
        out.setdefault((g.repo, g.language), []).append(metric(ranker(g), g))
    return out


def by_language(per_repo: dict[tuple[str, str], list[float]]) -> dict[str, float]:
    """Mean over each language's repositories of the repository's mean (the benchmark's macro)."""
    languages: dict[str, list[float]] = {}
    for (_, language), values in per_repo.items():
        languages.setdefault(language, []).append(statistics.fmean(values))
    return {language: statistics.fmean(v) for language, v in sorted(languages.items())}


def macro(per_repo: dict[tuple[str, str], list[float]]) -> float:
    return statistics.fmean(statistics.fmean(v) for v in per_repo.values()) if per_repo else float("nan")


def cross_validate(groups: list[Group], with_nine: bool, rounds: int = ROUNDS, tiers: bool = True,
                   params: dict[str, Any] | None = None, topics_only: bool = False,
                   train_on: frozenset[str] = frozenset({"mined"})) -> dict[str, Any]:
    """Per fold: rules against the model fitted without that fold (on the mined corpus, the hand-written
    queries or both: `train_on`), on each set's packages of that fold; the nine by a model that never saw them."""
    the_nine = [g for g in groups if g.fold == NINE_FOLD]
    pairs = [g for g in groups if g.fold == CSN_FOLD]
    corpus = [g for g in groups if 0 <= g.fold < FOLDS]
    hand = [g for g in groups if g.fold >= HANDWRITTEN_FOLD]
    trainable = (corpus if "mined" in train_on else []) + (hand if "handwritten" in train_on else [])
    folds: dict[int, dict[str, Any]] = {}
    held: dict[str, tuple[dict[tuple[str, str], list[float]], dict[tuple[str, str], list[float]]]] = {
        "mined": ({}, {}), "handwritten": ({}, {})}
    for k in range(FOLDS):
        aside = {"mined": [g for g in corpus if g.fold == k], "handwritten": [g for g in hand if g.fold == HANDWRITTEN_FOLD + k]}
        if not any(aside.values()):  # a fold whose stores are not built (bench/corpus.py index --folds k)
            continue
        booster = fit([g for g in trainable if g.fold % HANDWRITTEN_FOLD != k] + (the_nine if with_nine else []),
                      rounds, params)
        for name, queries in aside.items():
            if not queries:
                continue
            a, b = scored(queries, rules), scored(queries, learned(booster, tiers, topics_only))
            held[name][0].update(a)
            held[name][1].update(b)
            folds.setdefault(k, {})[name] = {"rules": macro(a), "learned": macro(b), "repos": len(a),
                                             "queries": len(queries), "languages": (by_language(a), by_language(b))}
    nine_rules = scored(the_nine, rules)
    final = fit(trainable + (the_nine if with_nine else []), rounds, params)
    if with_nine:  # each of the nine scored by a model fitted on the training sets and the other eight
        nine_learned: dict[tuple[str, str], list[float]] = {}
        for repo in sorted({g.repo for g in the_nine}):
            booster = fit(trainable + [g for g in the_nine if g.repo != repo], rounds, params)
            nine_learned.update(scored([g for g in the_nine if g.repo == repo], learned(booster, tiers, topics_only)))
    else:
        nine_learned = scored(the_nine, learned(final, tiers, topics_only))
    return {"folds": folds, "held": held["mined"], "hand": held["handwritten"], "nine": (nine_rules, nine_learned),
            "csn": (scored(pairs, rules), scored(pairs, learned(final, tiers, topics_only)))}


def print_cv(result: dict[str, Any]) -> None:
    for name, title in (("mined", "mined corpus"), ("handwritten", "hand-written queries")):
        folds = {k: f[name] for k, f in result["folds"].items() if name in f}
        if not folds:
            continue
        print(f"{title}, each fold scored by a model fitted without it\n")
        print("| fold | repositories | queries | rules (today) | learned | change |")
        print("|---|---|---|---|---|---|")
        for k, f in folds.items():
            print(f"| {k} | {f['repos']} | {f['queries']} | {f['rules']:.3f} | {f['learned']:.3f} | "
                  f"{f['learned'] - f['rules']:+.3f} |")
        held_rules, held_learned = result["held" if name == "mined" else "hand"]
        print(f"| all held-aside | {len(held_rules)} | | {macro(held_rules):.3f} | {macro(held_learned):.3f} | "
              f"{macro(held_learned) - macro(held_rules):+.3f} |\n")
        languages = sorted(by_language(held_rules))
        print("learned minus rules, per language and held-aside fold (blank: no package of that language in the fold)")
        print("| language | " + " | ".join(f"fold {k}" for k in folds) + " |")
        print("|---|" + "---|" * len(folds))
        for language in languages:
            cells = []
            for f in folds.values():
                a, b = f["languages"]
                cells.append(f"{b[language] - a[language]:+.3f}" if language in a else "")
            print(f"| {language} | " + " | ".join(cells) + " |")
        print()
    for title, (a, b) in (("mined corpus, held-aside folds", result["held"]),
                          ("hand-written queries, held-aside folds", result["hand"]), ("the nine", result["nine"]),
                          ("CSN-style MRR@10", result["csn"])):
        if not a:
            continue
        la, lb = by_language(a), by_language(b)
        repos: dict[str, int] = {}
        for _, language in a:
            repos[language] = repos.get(language, 0) + 1
        print(f"{title}: per language (repositories)")
        print("| | " + " | ".join(f"{x} ({repos[x]})" for x in la) + " | macro |")
        print("|---|" + "---|" * (len(la) + 1))
        print("| rules (today) | " + " | ".join(f"{v:.3f}" for v in la.values()) + f" | {macro(a):.3f} |")
        print("| learned | " + " | ".join(f"{v:.3f}" for v in lb.values()) + f" | {macro(b):.3f} |")
        worse = [x for x in la if lb[x] < la[x] - 1e-9]
        print(f"languages below the rules: {', '.join(worse) or 'none'}\n")


# -- export -----------------------------------------------------------------------------

def trees_of(booster: Any) -> list[dict[str, list[float]]]:
    """LightGBM's dump as ranker.json's flat arrays (learned.Trees reads them)."""
    out = []
    for info in booster.dump_model()["tree_info"]:
        tree: dict[str, list[Any]] = {"feature": [], "threshold": [], "left": [], "right": [], "leaf": []}
        root = info["tree_structure"]
        if "leaf_value" in root and "split_index" not in root:
            tree["leaf"] = [root["leaf_value"]]
            out.append(tree)
            continue
        splits, leaves = [], []
        stack = [root]
        while stack:
            node = stack.pop()
            if "split_index" in node:
                splits.append(node)
                stack += [node["left_child"], node["right_child"]]
            else:
                leaves.append(node)
        index = {node["split_index"]: n for n, node in enumerate(sorted(splits, key=lambda s: s["split_index"]))}
        tree["leaf"] = [0.0] * len(leaves)
        for node in leaves:
            tree["leaf"][node["leaf_index"]] = node["leaf_value"]
        for node in sorted(splits, key=lambda s: s["split_index"]):
            if node["decision_type"] != "<=":
                raise SystemExit(f"unsupported split {node['decision_type']}")
            tree["feature"].append(node["split_feature"])
            tree["threshold"].append(node["threshold"])
            for side in ("left", "right"):
                child = node[f"{side}_child"]
                tree[side].append(index[child["split_index"]] if "split_index" in child else ~child["leaf_index"])
        out.append(tree)
    return out


def export(groups: list[Group], rounds: int, with_nine: bool, tiers: bool, params: dict[str, Any]) -> None:
    if params.get("linear"):
        raise SystemExit("only trees can be exported")
    train = [g for g in groups if g.fold >= 0 or (with_nine and g.fold == NINE_FOLD)]  # mined and hand-written
    model = fit(train, rounds, params)
    booster = model.booster if isinstance(model, _FromRules) else model
    saved = {
        "features": list(FEATURES), "tiers": tiers, "from_rules": isinstance(model, _FromRules), "file_decay": DECAY["other"],
        "question_file_decay": DECAY["question"],
        "trained": {"command": "bench/learn.py export" + (" --with-nine" if with_nine else ""),
                    "repositories": len({g.repo for g in train}), "queries": len(train), "rounds": rounds,
                    "params": {k: v for k, v in {**PARAMS, **params}.items() if k not in ("verbose", "num_threads")}},
        "trees": trees_of(booster),
    }
    model_file = CACHE / "ranker.json"
    model_file.parent.mkdir(parents=True, exist_ok=True)
    model_file.write_text(json.dumps(saved, separators=(",", ":")) + "\n")
    print(f"wrote {model_file} ({model_file.stat().st_size // 1024} KB, {rounds} trees, {len(train)} queries)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["cv", "ablation", "export"])
    parser.add_argument("--with-nine", action="store_true", help="Train on the nine too (scored leave-one-out).")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--no-tiers", action="store_true", help="Let the trees order identifier queries alone.")
    parser.add_argument("--nine-only", action="store_true", help="No mined corpus (a smoke test of the pipeline).")
    parser.add_argument("--train", default="mined",
                        help="What the trees are fitted on: mined, handwritten or mined,handwritten (cv, ablation).")
    parser.add_argument("--linear", action="store_true", help="A logistic regression instead of the trees (cv).")
    parser.add_argument("--zero", action="store_true", help="Boost from zero, not from the rules' score.")
    parser.add_argument("--every", action="store_true", help="Label every chunk covering a target right.")
    parser.add_argument("--flat", action="store_true", help="Every right chunk labelled alike (no doc-origin grade).")
    parser.add_argument("--topics-only", action="store_true",
                        help="The trees order topic queries only; questions and identifiers keep the rules (cv).")
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help="A LightGBM parameter for this run (cv, ablation), e.g. --set num_leaves=31")
    args = parser.parse_args()
    train_on = frozenset(args.train.split(","))
    groups = load(with_mined=not args.nine_only, with_handwritten="handwritten" in train_on)
    print(f"{len(groups)} queries in {len({g.repo for g in groups})} repositories")
    params: dict[str, Any] = {"linear": args.linear, "grades": not args.flat, "base": not args.zero, "every": args.every}
    for item in args.set:
        key, value = item.split("=", 1)
        params[key] = json.loads(value)
    if args.step == "cv":
        print_cv(cross_validate(groups, args.with_nine, args.rounds, not args.no_tiers, params, args.topics_only,
                                train_on))
    elif args.step == "ablation":
        base = cross_validate(groups, args.with_nine, args.rounds, not args.no_tiers, params, train_on=train_on)
        print(f"| features | held-aside | nine |\n|---|---|---|\n| all | {macro(base['held'][1]):.3f} | "
              f"{macro(base['nine'][1]):.3f} |")
        for name, columns in GROUPS.items():
            r = cross_validate(masked(groups, columns), args.with_nine, args.rounds, not args.no_tiers, params,
                               train_on=train_on)
            print(f"| without {name} | {macro(r['held'][1]):.3f} | {macro(r['nine'][1]):.3f} |", flush=True)
    else:
        export(groups, args.rounds, args.with_nine, not args.no_tiers, params)


if __name__ == "__main__":
    main()
