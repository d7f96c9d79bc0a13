"""Train the query map: a linear map over MiniLM's query vectors, learnt from doc-to-code pairs.

MiniLM was trained on sentence pairs, not on code, so a question and the structure that
answers it sit further apart than two paraphrases do. Real packages that the benchmarks do
not use (neither the nine development repositories nor the CSN-style pairs' packages) give
doc-to-code pairs in seven languages: the first sentence of a structure's docstring is the
query, the structure with its docs removed is the target, embedded as the indexer embeds it
(`text`: its textified form; `code`: its snippet). A map per dense vector, W = I + A, is fitted
with in-batch contrastive loss and weight decay pulling it back to the identity; each
language's last package is held out to choose the epoch. Documents are never touched, so
an index needs no rebuild.

    .venv/bin/python bench/query_map.py mine     # fetch, chunk, embed (cached in bench/.work/qmap)
    .venv/bin/python bench/query_map.py train    # fit, report held-out MRR@10, write the array
    .venv/bin/python bench/ablation.py --only "  product, query map x0.5;  product, query map x1"

Not in the product: on the held-out packages it lifts MRR@10 0.602 -> 0.643 and the CSN-style
pairs gain (Rust 0.468 -> 0.50), but the nine repositories lose (pydantic and serde most):
their queries are questions and topics, not a function's doc sentence (bench/README.md).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import zipfile
from pathlib import Path

import numpy as np
from code_search import WORK
from csn import fetch, first_sentence, without_docs

from semsearch.chunking import chunk_source
from semsearch.chunking.languages import detect_language
from semsearch.embedding import MINILM, encoder
from semsearch.roles import is_test_path
from semsearch.textify import textify
from semsearch.walk import walk

# Disjoint from the development set (fastapi, pydantic, model2vec, aiohttp, serde, chi, gson,
# zod, rack) and from bench/csn.py's packages (click, requests, more-itertools, lodash,
# cobra, gorilla/mux, regex-syntax, serde_json), and from their near twins. The last
# package of each language is held out.
SOURCES: dict[str, list[tuple[str, str]]] = {
    "python": [("pypi", "rich==13.9.4"), ("pypi", "jinja2==3.1.4"), ("pypi", "networkx==3.4.2"),
               ("pypi", "attrs==24.2.0"), ("pypi", "sqlalchemy==2.0.36"), ("pypi", "httpx==0.28.1")],
    "javascript": [("npm", "express@4.21.1"), ("npm", "async@3.2.6"), ("npm", "moment@2.30.1"),
                   ("npm", "eslint@9.14.0"), ("npm", "mongoose@8.8.0"), ("npm", "axios@1.7.7"),
                   ("npm", "commander@12.1.0")],
    "typescript": [("npm", "rxjs@7.8.1"), ("npm", "fp-ts@2.16.9"), ("npm", "@tanstack/query-core@5.59.0"),
                   ("npm", "immer@10.1.1")],
    "go": [("deb", "golang-github-stretchr-testify-dev"), ("deb", "golang-github-spf13-viper-dev"),
           ("deb", "golang-github-prometheus-client-golang-dev"), ("deb", "golang-github-pelletier-go-toml-dev"),
           ("deb", "golang-github-google-go-cmp-dev"), ("deb", "golang-github-sirupsen-logrus-dev")],
    "rust": [("deb", "librust-tokio-dev"), ("deb", "librust-rand-dev"), ("deb", "librust-itertools-dev"),
             ("deb", "librust-chrono-dev"), ("deb", "librust-hashbrown-dev"), ("deb", "librust-bytes-dev")],
    "ruby": [("deb", "ruby-activesupport"), ("deb", "ruby-concurrent"), ("deb", "ruby-i18n"),
             ("deb", "ruby-addressable"), ("deb", "ruby-thor")],
    "java": [("jdk", "java.base/java/util"), ("jdk", "java.base/java/time"), ("jdk", "java.base/java/nio"),
             ("jdk", "java.base/java/io"), ("jdk", "java.net.http/java/net/http")],
}
QMAP = WORK / "qmap"
PER_PACKAGE = 2500
KINDS = {"Function", "Method", "Class", "Struct", "Enum", "Trait", "Interface", "Impl", "Type", "Module", "Macro",
         "Protocol", "Object"}


def fetch_jdk(folder: str) -> Path:
    """A folder of the JDK's own sources (Debian's openjdk-17-source ships them as src.zip)."""
    root = fetch("deb", "openjdk-17-source")
    target = QMAP / "jdk" / folder
    if not target.is_dir():
        archive = next(root.rglob("src.zip"))
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.startswith(folder + "/") and name.endswith(".java"):
                    zf.extract(name, QMAP / "jdk")
    return target


def pairs_in(language: str, kind: str, spec: str) -> list[tuple[str, str, str]]:
    """(query, text form, code form) for each documented structure of one package."""
    root = fetch_jdk(spec) if kind == "jdk" else fetch(kind, spec)
    seen: set[str] = set()
    pairs = []
    for source in walk(root, hidden=True):
        if detect_language(source.path, source.text) != language or is_test_path(source.path):
            continue
        if source.path.endswith((".pyi", ".d.ts", ".min.js")):
            continue
        try:
            structures = chunk_source(f"{spec}/{source.path}", source.text)
        except Exception:  # noqa: BLE001 - a file the parser rejects gives no pairs
            continue
        for s in structures:
            if s.code_type not in KINDS or s.part not in (None, 1) or s.name.lower().startswith("test"):
                continue
            query = first_sentence(s.docstring or "")
            if len(query.split()) < 3 or query.lower() in seen:
                continue
            seen.add(query.lower())
            stripped = without_docs(s)
            pairs.append((query, textify(stripped), stripped.context.snippet))
    random.Random(0).shuffle(pairs)
    return pairs[:PER_PACKAGE]


def mine() -> None:
    model = encoder(MINILM, "onnx")
    QMAP.mkdir(parents=True, exist_ok=True)
    for language, sources in SOURCES.items():
        for kind, spec in sources:
            out = QMAP / f"{language}--{spec.replace('/', '_')}.npz"
            if out.exists():
                continue
            try:
                pairs = pairs_in(language, kind, spec)
            except (subprocess.CalledProcessError, StopIteration) as exc:
                print(f"{language} {spec}: not available ({exc})", flush=True)
                continue
            if not pairs:
                print(f"{language} {spec}: no pairs", flush=True)
                continue
            queries, texts, codes = zip(*pairs)
            np.savez(out, query=model.encode(list(queries)).astype(np.float32),
                     text=model.encode(list(texts)).astype(np.float32),
                     code=model.encode(list(codes)).astype(np.float32), queries=np.array(queries))
            print(f"{language} {spec}: {len(pairs)} pairs", flush=True)


def load() -> dict[str, list[tuple[str, dict[str, np.ndarray]]]]:
    """Per language, its packages' mined arrays in SOURCES order."""
    out: dict[str, list[tuple[str, dict[str, np.ndarray]]]] = {}
    for language, sources in SOURCES.items():
        for _, spec in sources:
            path = QMAP / f"{language}--{spec.replace('/', '_')}.npz"
            if path.exists():
                with np.load(path) as saved:
                    out.setdefault(language, []).append((spec, {k: saved[k] for k in ("query", "text", "code")}))
    return out


def fit(train: dict[str, np.ndarray], held: list[dict[str, np.ndarray]], *, epochs: int, decay: float,
        temperature: float, lr: float, batch: int = 512) -> dict[str, np.ndarray]:
    """W = I + A per vector, in-batch contrastive loss, A decayed towards zero (the identity)."""
    import torch

    torch.manual_seed(0)
    q = torch.from_numpy(train["query"])
    targets = {v: torch.from_numpy(train[v]) for v in ("text", "code")}
    maps = {v: torch.zeros(q.shape[1], q.shape[1], requires_grad=True) for v in targets}
    optimizer = torch.optim.Adam(list(maps.values()), lr=lr)
    labels = torch.arange(batch)
    best: tuple[float, dict[str, np.ndarray]] = (-1.0, {})
    for epoch in range(epochs):
        order = torch.randperm(len(q))
        for start in range(0, len(q) - batch + 1, batch):
            idx = order[start:start + batch]
            loss = torch.zeros(())
            for v, a in maps.items():
                mapped = torch.nn.functional.normalize(q[idx] + q[idx] @ a, dim=1)
                logits = mapped @ targets[v][idx].T / temperature
                loss = loss + torch.nn.functional.cross_entropy(logits, labels[:len(idx)])
                loss = loss + decay * (a ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        arrays = {v: a.detach().numpy().copy() for v, a in maps.items()}
        score = held_out(held, arrays)
        print(f"  epoch {epoch + 1}: held-out MRR@10 text+code {score:.4f}", flush=True)
        if score > best[0]:
            best = (score, arrays)
    return best[1]


def apply(queries: np.ndarray, a: np.ndarray, share: float = 1.0) -> np.ndarray:
    """Query vectors (rows) through W = I + share x A, back to unit length."""
    mapped = queries + share * (queries @ a)
    return mapped / np.linalg.norm(mapped, axis=-1, keepdims=True)


def held_out(held: list[dict[str, np.ndarray]], maps: dict[str, np.ndarray] | None) -> float:
    """Mean over held-out packages of MRR@10 by text + 0.5 code, the product's dense weights."""
    out = []
    for package in held:
        qt = apply(package["query"], maps["text"]) if maps else package["query"]
        qc = apply(package["query"], maps["code"]) if maps else package["query"]
        sims = qt @ package["text"].T + 0.5 * (qc @ package["code"].T)
        own = np.diag(sims)
        ranks = (sims > own[:, None]).sum(axis=1) + 1
        out.append(float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean()))
    return float(np.mean(out))


def train(args: argparse.Namespace) -> None:
    data = load()
    train_parts = [arrays for packages in data.values() for _, arrays in packages[:-1]]
    held = [packages[-1][1] for packages in data.values()]
    joined = {k: np.concatenate([p[k] for p in train_parts]) for k in ("query", "text", "code")}
    print(f"{len(joined['query'])} training pairs, {sum(len(h['query']) for h in held)} held out "
          f"({', '.join(packages[-1][0] for packages in data.values())})")
    print(f"held-out MRR@10 before: {held_out(held, None):.4f}")
    maps = fit(joined, held, epochs=args.epochs, decay=args.decay, temperature=args.temperature, lr=args.lr)
    print(f"held-out MRR@10 after: {held_out(held, maps):.4f}")
    for language, packages in data.items():
        spec, arrays = packages[-1]
        print(f"  {language} ({spec}): {held_out([arrays], None):.4f} -> {held_out([arrays], maps):.4f}")
    np.savez(args.out, text=maps["text"].astype(np.float16), code=maps["code"].astype(np.float16))
    print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["mine", "train"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--decay", type=float, default=1e-3)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", type=Path, default=QMAP / "query_map.npz")
    args = parser.parse_args()
    if args.step == "mine":
        mine()
    else:
        train(args)


if __name__ == "__main__":
    main()
