"""What a file is besides plain code, by its path and the chunker's marks: test, example, bench,
compat, re-export, stub, generated, prose, config or internal.

Each role names what it is, so a query that asks for it can lift it; ranking demotes the rest.
The conventions are many languages' and build tools' (Maven's src/main/, git's t/, Go's
internal/, an older versioned tree beside its successor), each a regular expression here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from semsearch.chunking.languages import CONFIG_LANGUAGES, DOC_LANGUAGES

_TEST_DIR = re.compile(r"(^|/)(tests?|Tests?|testing|spec|specs|__tests__|__mocks__|testdata|fixtures?|fuzz|e2e"
                       r"|t|testsuite|testdir|unittests?"  # Perl's and git's t/, GNU's testsuite/, vim's testdir/
                       r"|tests?[-_][\w-]+|[\w-]+[-_]tests?"  # tokio's tests-integration/, integration_tests/
                       r"|test[A-Z]\w*|harness"  # TypeScript's testRunner/ and its test harness/
                       r"|[\w.-]+\.(Tests?|UnitTests|IntegrationTests|Specs)"  # Swift's Tests/, C#'s Foo.Tests/
                       r"|[a-z][A-Za-z]*Tests?)(/|$)")  # Gradle's and Kotlin's source sets: commonTest/, jvmTest/
_TEST_FILE = re.compile(
    r"(^|/)(test_[^/]*|[^/]*_test\.[a-z]+|[^/]*[._-](test|spec)\.[a-z]+x?|[^/]*_spec\.[a-z]+|conftest\.py"
    r"|[^/]*Tests?\.(java|kt|cs|swift|scala|php)|[^/]*(Spec|Suite)\.(kt|scala|swift)|[^/]*\.t)$")
# Maven's and Gradle's production source set (`src/main/`, Kotlin Multiplatform's `commonMain/`): the
# folders below it are a package's name, so kotlin-test's `src/main/kotlin/kotlin/test/` is its code.
_MAIN_SOURCES = re.compile(r"(^|/)(src/main|[a-z]+Main)/")
_EXAMPLE_DIR = re.compile(r"(^|/)_?([Ee]xamples?|[Ss]amples?|[Dd]emos?|docs?|docs_src|tutorials?|sandbox"
                          r"|[a-z0-9]+[-_]?examples?|examples?[-_][\w-]+)(/|$)")  # etcd's raftexample/, example-app/
_BENCH_DIR = re.compile(r"(^|/)_?(bench|benches|[Bb]enchmarks?|perf)(/|$)|(^|/)[^/]*[_-]bench(mark)?\.[a-z]+$")
_COMPAT_DIR = re.compile(r"(^|/)_?(compat|legacy|deprecated)(/|$)")
# The implementation behind a public API, by the conventions of each language: Go's internal/
# (the compiler enforces it), Java's `internal` packages, Python's `_internal/`, Rust's
# `private`/`__private` modules, C++'s `detail/`, C#'s `Internal/`.
_INTERNAL_DIR = re.compile(r"(^|/)_{0,2}([Ii]nternal|[Pp]rivate|details?)(/|$)")
_REEXPORT_FILE = re.compile(r"(^|/)(__init__\.py|index\.(ts|tsx|js|jsx|mjs|cjs)|package-info\.java)$")
_STUB_FILE = re.compile(r"\.d\.ts$|\.pyi$")
# An amalgamated single-header copy (`single_include/nlohmann/json.hpp`) repeats every definition of
# the sources it is built from: generated code, found by its folder (flags.py reads its marker).
_AMALGAMATED = re.compile(r"(^|/)(single_include|single_header|single-header|amalgamat[a-z]*)(/|$)"
                          r"|(^|/)[^/]*amalgamat[^/]*$", re.IGNORECASE)
_VERSION_DIR = re.compile(r"(?:^|/)v(\d+)(?=/)")


def role(path: str, payload: dict[str, Any] | None = None) -> str | None:
    """What a file is besides plain code: test, example, bench, compat, reexport, stub, generated,
    prose, config or internal; None for code."""
    payload = payload or {}
    if payload.get("generated"):
        return "generated"
    if payload.get("test"):
        return "test"  # a test module or #[test] function inside a source file (chunking marks it)
    by_path = _path_role(path)
    if by_path is not None:
        return by_path
    if payload.get("reexport"):
        return "reexport"
    language = payload.get("language")
    if language in DOC_LANGUAGES:
        return "prose"
    if language in CONFIG_LANGUAGES:
        return "config"
    return None


@lru_cache(maxsize=65536)
def _path_role(path: str) -> str | None:
    main = _MAIN_SOURCES.search(path)
    if _TEST_DIR.search(path[:main.end()] if main else path) or _TEST_FILE.search(path):
        return "test"
    if _BENCH_DIR.search(path):
        return "bench"
    if _EXAMPLE_DIR.search(path):
        return "example"
    if _COMPAT_DIR.search(path):
        return "compat"
    if _STUB_FILE.search(path):
        return "stub"
    if _AMALGAMATED.search(path):
        return "generated"
    if _REEXPORT_FILE.search(path):
        return "reexport"
    if _INTERNAL_DIR.search(path):
        return "internal"
    return None


def older_versions(paths: set[str], v1_copies: bool = True) -> set[str]:
    """Paths inside a folder `vN` whose parent also holds a `vM` with M > N among these paths,
    or inside a `v1/` that repeats a file its parent holds.

    zod's `v3/` beside `v4/`, an API's `presenter/v1/` beside `v2/`: both copies define the same
    names, and the query means the current one unless it names a version. Only sibling
    folders count: a Go module's `v2/` beside v1 code at its root is not a pair of folders.
    A `v1/` can only be older than its parent's own files: pydantic's `v1/main.py` beside
    `main.py` is the legacy copy kept for old code.
    """
    latest: dict[str, int] = {}
    found: list[tuple[str, str, int]] = []
    copies: set[str] = set()  # `…/v1` folders repeating a file of their parent
    for path in paths:
        for match in _VERSION_DIR.finditer(path):
            parent, version = path[:match.start()], int(match.group(1))
            latest[parent] = max(latest.get(parent, 0), version)
            found.append((path, parent, version))
            if v1_copies and version <= 1 and (parent + path[match.end():]).lstrip("/") in paths:
                copies.add(path[:match.end()])
    older = {path for path, parent, version in found if version < latest[parent]}
    return older | {path for path in paths if any(path.startswith(folder + "/") for folder in copies)}


def is_test_path(path: str) -> bool:
    """Tests, examples and benchmarks: code that exercises the library rather than being it."""
    return role(path) in ("test", "example", "bench")


def mostly_internal(paths: set[str]) -> bool:
    """More than half of these files are internal: an application keeping its code in `internal/`."""
    return 2 * sum(1 for path in paths if _INTERNAL_DIR.search(path)) > len(paths)
