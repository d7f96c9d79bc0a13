"""Which files of a tree get indexed.

Honours .gitignore files (at every level, as git does) and .semsearchignore, skips VCS,
vendored and build folders, binary files and files over a size limit. Never raises for a
single bad file: it is counted in the summary with its reason instead.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

DEFAULT_MAX_BYTES = 1_000_000

IGNORE_FILES = (".gitignore", ".semsearchignore")

# Folders that hold VCS data, dependencies or build output: never the user's own code.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", ".jj", ".semsearch",
    "node_modules", "bower_components", "vendor", "third_party", "deps",
    "target", "dist", "build", "out", "_build", ".next", ".nuxt",
    ".venv", "venv", "env", ".env", ".tox", ".nox", "site-packages",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache",
    ".gradle", ".idea", ".vscode", "Pods", "DerivedData", ".terraform",
    ".eggs", "htmlcov", "coverage",
})
# Of those, names that are also a package of the code in some trees (hugo's deps/, coverage.py's
# coverage/, a Go build/ package, luarocks' build/): skipped only when they hold a source file of their
# own, as a dependency or output folder does not (redis's deps/, Python's build/lib/, a virtualenv,
# Rust's target/). JavaScript and headers do not count: a bundle or a generated config.h is output.
OUTPUT_DIRS = frozenset({"deps", "build", "target", "env", "coverage"})
SOURCE_SUFFIXES = frozenset({
    ".py", ".rs", ".go", ".java", ".kt", ".scala", ".swift", ".c", ".cc", ".cpp", ".cs", ".rb", ".php",
    ".lua", ".ex", ".zig", ".hs",
})

# Extensions that are binary or generated; checked before reading a byte.
BINARY_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd",
    ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar",
    ".war", ".whl", ".egg", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".lib", ".obj",
    ".class", ".pyc", ".pyo", ".wasm", ".bin", ".dat", ".db", ".sqlite", ".sqlite3",
    ".mp3", ".mp4", ".wav", ".ogg", ".flac", ".avi", ".mov", ".mkv", ".webm",
    ".ttf", ".otf", ".woff", ".woff2", ".eot", ".npy", ".npz", ".pt", ".pth", ".onnx",
    ".safetensors", ".pkl", ".parquet", ".arrow", ".lock",
})
# Text that is a picture or a machine's output, not something a person wrote to be read: vector
# images, source maps and minified bundles (by name here; by their line lengths in `_minified`).
MACHINE_TEXT_SUFFIXES = (".svg", ".svgz", ".map", ".min.js", ".min.mjs", ".min.cjs", ".min.css")
# Formats whose minified or one-line data form is read only by machines: a file of these whose
# lines average more than MINIFIED_LINE characters is skipped. Code in other languages is kept
# whatever its line lengths (a Java class holding a data table is still a class someone may ask for).
MINIFIABLE_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".css", ".json", ".xml", ".html", ".htm", ".txt", ".csv"})
MINIFIED_LINE, MINIFIED_MIN_BYTES = 300, 4096
# Lock files are text but machine-written and huge; nobody searches them for meaning.
SKIP_FILE_NAMES = frozenset({"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "Cargo.lock",
                             "poetry.lock", "uv.lock", "composer.lock", "Gemfile.lock"})


@dataclass
class SourceFile:
    path: str  # relative to the root, forward slashes
    abspath: Path
    text: str
    invalid_utf8: bool
    generated: bool = False  # marked linguist-generated or linguist-vendored in a .gitattributes


# GitHub's linguist attributes for files nobody here wrote by hand: kept, but after the code.
ATTRIBUTES_FILE = ".gitattributes"
GENERATED_ATTRIBUTES = frozenset({"linguist-generated", "linguist-vendored"})
Attributes = list[tuple[str, pathspec.PathSpec, bool]]  # (folder, pattern, generated?) in file order


@dataclass
class WalkSummary:
    files: int = 0
    invalid_utf8: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, path: str) -> None:
        self.skipped[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(path)


def _load_spec(directory: Path) -> pathspec.PathSpec | None:
    lines: list[str] = []
    for name in IGNORE_FILES:
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def _load_attributes(directory: Path, rel: str) -> Attributes:
    """The lines of directory/.gitattributes that set or unset a linguist generated/vendored attribute."""
    try:
        lines = (directory / ATTRIBUTES_FILE).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    rules: Attributes = []
    for line in lines:
        pattern, *attributes = line.split() or [""]
        if not pattern or pattern.startswith("#"):
            continue
        value = None
        for attribute in attributes:
            name, _, setting = attribute.lstrip("-!").partition("=")
            if name in GENERATED_ATTRIBUTES:
                value = attribute[0] not in "-!" and setting.lower() not in ("false", "0")
        if value is not None:
            rules.append((rel, pathspec.GitIgnoreSpec.from_lines([pattern]), value))
    return rules


def _generated(attributes: Attributes, rel: str) -> bool:
    """What the last matching rule says (deeper .gitattributes files come later and win)."""
    generated = False
    for base, spec, value in attributes:
        if spec.match_file(rel[len(base) + 1:] if base else rel):
            generated = value
    return generated


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], rel: str, is_dir: bool) -> bool:
    """True if the nearest deciding ignore file excludes rel (later, deeper files win)."""
    ignored = False
    for base, spec in specs:
        sub = rel[len(base) + 1:] if base else rel
        if is_dir:
            sub += "/"
        result = spec.check_file(sub)
        if result.include is not None:
            ignored = result.include
    return ignored


def walk(root: Path, max_bytes: int = DEFAULT_MAX_BYTES, summary: WalkSummary | None = None,
         hidden: bool = False) -> Iterator[SourceFile]:
    """Yield the indexable files under root in a stable (sorted) order.

    Hidden files and folders (dot-names) are skipped unless `hidden`, as ripgrep does:
    they hold tool configuration and agent notes, rarely the code a search is after.
    """
    summary = summary if summary is not None else WalkSummary()
    root = root.resolve()
    yield from _walk_dir(root, "", [], [], max_bytes, summary, root, hidden)


def _walk_dir(directory: Path, rel: str, specs: list[tuple[str, pathspec.PathSpec]], attributes: Attributes,
              max_bytes: int, summary: WalkSummary, root: Path, hidden: bool) -> Iterator[SourceFile]:
    spec = _load_spec(directory)
    if spec is not None:
        specs = [*specs, (rel, spec)]
    attributes = [*attributes, *_load_attributes(directory, rel)]
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        summary.skip("unreadable", rel or ".")
        return
    for entry in entries:
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        if entry.name in IGNORE_FILES:
            continue  # the rules themselves, not content
        if not hidden and entry.name.startswith("."):
            summary.skip("hidden", child_rel)
            continue
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            summary.skip("unreadable", child_rel)
            continue
        if is_dir:
            if (entry.name in SKIP_DIRS and not (entry.name in OUTPUT_DIRS and _holds_source(entry.path))
                    or entry.name.endswith(".egg-info")):
                summary.skip("vendored or build folder", child_rel + "/")
            elif _ignored(specs, child_rel, True):
                summary.skip("ignored", child_rel + "/")
            else:
                yield from _walk_dir(Path(entry.path), child_rel, specs, attributes, max_bytes, summary, root, hidden)
            continue
        if is_link:
            # Symlinked folders could loop or leave the tree; symlinked files are read
            # only when they point inside the root.
            try:
                target = Path(entry.path).resolve(strict=True)
            except (OSError, RuntimeError):
                summary.skip("broken symlink", child_rel)
                continue
            if target.is_dir():
                summary.skip("symlinked folder", child_rel)
                continue
            if not target.is_relative_to(root):
                summary.skip("symlink out of the tree", child_rel)
                continue
        if not entry.is_file():
            continue
        source = _read(entry, child_rel, specs, max_bytes, summary)
        if source is not None:
            source.generated = bool(attributes) and _generated(attributes, child_rel)
            summary.files += 1
            summary.invalid_utf8 += source.invalid_utf8
            yield source


def _read(entry: os.DirEntry[str], rel: str, specs: list[tuple[str, pathspec.PathSpec]],
          max_bytes: int, summary: WalkSummary) -> SourceFile | None:
    name = entry.name
    if _ignored(specs, rel, False):
        summary.skip("ignored", rel)
        return None
    if name in SKIP_FILE_NAMES:
        summary.skip("lock file", rel)
        return None
    suffix = Path(name).suffix.lower()
    if suffix in BINARY_SUFFIXES or name.lower().endswith(MACHINE_TEXT_SUFFIXES):
        summary.skip("binary or generated", rel)
        return None
    try:
        if entry.stat().st_size > max_bytes:
            summary.skip(f"over {max_bytes:,} bytes", rel)
            return None
        data = Path(entry.path).read_bytes()
    except OSError:
        summary.skip("unreadable", rel)
        return None
    if b"\0" in data[:8192]:
        summary.skip("binary or generated", rel)
        return None
    try:
        text, invalid = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, invalid = data.decode("utf-8", errors="replace"), True
    if text.startswith("\ufeff"):
        text = text[1:]
    if _minified(suffix, text):
        summary.skip("minified or one-line data", rel)
        return None
    return SourceFile(path=rel, abspath=Path(entry.path), text=text, invalid_utf8=invalid)


def _holds_source(directory: str) -> bool:
    """Whether a folder holds a source file itself (not only in its subfolders)."""
    try:
        with os.scandir(directory) as entries:
            return any(os.path.splitext(e.name)[1] in SOURCE_SUFFIXES and e.is_file() for e in entries)
    except OSError:
        return False


def _minified(suffix: str, text: str) -> bool:
    """A bundle or data file written on a few very long lines (a minified script, a JSON fixture)."""
    if len(text) < MINIFIED_MIN_BYTES or suffix not in MINIFIABLE_SUFFIXES:
        return False
    return len(text) / (text.count("\n") + 1) > MINIFIED_LINE
