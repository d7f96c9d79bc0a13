"""What the chunker makes of the mined corpus's packages, per language: the suspicious parts.

No model, no store: every file of every fetched package (bench/corpus.py fetch) is walked and
chunked as the indexer would, and per language the script counts what a reader would call
wrong — names a query cannot spell (`A::B`, `Map<K, V>`, spaces or brackets), file docs that
are a banner, a pragma or a licence rather than text, files left to line windows although
their language has a grammar — and prints a few examples of each; and how many definitions it
marks deprecated, with examples to read. It is the cheap first look
before an index: the mined corpus's index takes hours, its parse a minute.

    .venv/bin/python bench/corpus.py fetch        # once (network)
    .venv/bin/python bench/chunk_audit.py [--only hs-,c-] [--examples 5]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict

from corpus_fetch import load_packages, top_folder

from semsearch.chunking import chunk_source
from semsearch.chunking.languages import SPECS, detect_language
from semsearch.walk import walk

ODD_NAME = re.compile(r"::|<|>|\s|\(|\)|\[|\]|,|\.")  # a name no identifier query spells
JUNK_DOC = re.compile(r"^\W|#-?\}|\bLANGUAGE\b|copyright|licen[cs]e|all rights reserved|^module\s*:", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="Package id prefixes, comma-separated.")
    parser.add_argument("--examples", type=int, default=4)
    args = parser.parse_args()
    prefixes = tuple(p for p in args.only.split(",") if p)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)

    def note(language: str, kind: str, text: str) -> None:
        counts[language][kind] += 1
        if len(examples[language, kind]) < args.examples:
            examples[language, kind].append(text)

    for package in load_packages():
        if prefixes and not package.id.startswith(prefixes):
            continue
        try:
            top = top_folder(package)
        except Exception as exc:  # noqa: BLE001 - a package that cannot be had is reported, not fatal
            print(f"{package.id}: not available ({exc})")
            continue
        root = top / package.root if package.root else top
        for source in walk(root):
            language = detect_language(source.path, source.text)
            if language not in SPECS:
                if language == "text" and package.language in SPECS and "." not in source.path.rsplit("/", 1)[-1]:
                    note(package.language, "extensionless text", f"{package.id}: {source.path}")
                continue
            counts[language]["files"] += 1
            for s in chunk_source(source.path, source.text, language):
                counts[language]["structures"] += 1
                where = f"{package.id}: {source.path}:{s.line_from}"
                if s.code_type == "Block":
                    if s.line_from == 1 and s.docstring:
                        counts[language]["file docs"] += 1
                        if JUNK_DOC.search(s.docstring.splitlines()[0]):
                            note(language, "junk file doc", f"{where} {s.docstring[:80]!r}")
                    continue
                if ODD_NAME.search(s.name):
                    note(language, "odd name", f"{where} {s.code_type} {s.name!r}")
                struct = s.context.struct_name
                if struct and ODD_NAME.search(struct):
                    note(language, "odd type name", f"{where} {s.code_type} {s.name!r} in {struct!r}")
                if s.docstring and JUNK_DOC.search(s.docstring.splitlines()[0]):
                    note(language, "junk doc", f"{where} {s.name} {s.docstring[:80]!r}")
                if s.extra.get("deprecated"):
                    note(language, "deprecated", f"{where} {s.code_type} {s.name} {s.context.snippet.splitlines()[0][:60]!r}")
    kinds = ["files", "structures", "file docs", "junk file doc", "odd name", "odd type name", "junk doc",
             "extensionless text", "deprecated"]
    print("| language | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for language in sorted(counts):
        print(f"| {language} | " + " | ".join(str(counts[language][k]) for k in kinds) + " |")
    for (language, kind), shown in sorted(examples.items()):
        print(f"\n{language} — {kind}:")
        for line in shown:
            print("   " + line)


if __name__ == "__main__":
    main()
