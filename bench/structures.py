"""What the chunker finds in real code beyond the development set's six languages.

The product is scored on repositories in languages the development set does not hold; there
the first thing that can go wrong is the parse (a C++ header read as C, a macro the parser
cannot expand, a language left to line windows). For real packages that can be had offline
(Debian packages that ship sources), prints per package the structures by code type, how
many methods know their type, and the share of lines left to line windows.

    .venv/bin/python bench/structures.py [--packages nlohmann-json3-dev,libspdlog-dev]
"""

from __future__ import annotations

import argparse
from collections import Counter

from csn import fetch

from semsearch.chunking import chunk_source
from semsearch.chunking.languages import SPECS, detect_language
from semsearch.walk import walk

PACKAGES = ["nlohmann-json3-dev", "libspdlog-dev", "lua-penlight", "php-symfony-console"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", default=",".join(PACKAGES))
    args = parser.parse_args()
    print("| package | files | languages | structures by type | methods in a type | lines in windows |")
    print("|---|---|---|---|---|---|")
    for package in args.packages.split(","):
        kinds: Counter[str] = Counter()
        languages: Counter[str] = Counter()
        files = in_type = window_lines = lines = 0
        for source in walk(fetch("deb", package), hidden=True):
            language = detect_language(source.path, source.text)
            if language not in SPECS:
                continue
            files += 1
            languages[language] += 1
            lines += source.text.count("\n") + 1
            for s in chunk_source(source.path, source.text, language):
                kinds[s.code_type] += 1
                in_type += s.code_type == "Method" and bool(s.context.struct_name)
                if s.code_type == "Block":
                    window_lines += s.line_to - s.line_from + 1
        by_type = ", ".join(f"{k} {n}" for k, n in kinds.most_common())
        langs = ", ".join(f"{k} {n}" for k, n in languages.most_common())
        share = window_lines / lines if lines else 0.0
        print(f"| {package} | {files} | {langs} | {by_type} | {in_type} | {share:.0%} |")


if __name__ == "__main__":
    main()
