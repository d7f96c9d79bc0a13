"""Repositories: the source trees one code collection holds, each under its own name.

`semsearch index A B other=C` puts three trees into one collection; every point carries its
tree's name in `repo`, and the collection's metadata records each repository (`repos`:
name → root, git revision, last update, source URL). Paths stay relative to their own tree.

A collection made before repositories existed has no `repos` and points without `repo`: it
is read as one repository named after its recorded root (`legacy`), searched as it is and
updated in place, never re-indexed behind the user's back.

Everything here is a value or a parse; the only I/O is `git rev-parse HEAD` in a tree.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from semsearch.store.base import StoreError

REPO_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_NAME = re.compile(REPO_NAME)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
FIELD = "repo"  # the payload field every point of a repository carries (a keyword index)


class RepoError(StoreError):
    """A repository named wrongly, twice, or not there: one line for the user."""


@dataclass(frozen=True)
class Tree:
    """A tree to index and the repository name it goes under."""

    name: str
    root: Path
    named: bool = False  # given as NAME=DIR (else named after its folder, or as an older collection names it)

    @property
    def requested(self) -> str | None:
        """The name to ask the indexer for: None lets an older collection keep its one tree's name."""
        return self.name if self.named else None


@dataclass
class Repo:
    """What a collection records of one repository."""

    name: str
    root: str | None
    revision: str | None = None  # git HEAD when the tree is a checkout
    updated: str | None = None  # ISO 8601 UTC time of the last finished update
    source_url: str | None = None  # hits link to <source_url>/<path>#L<from>-L<to>
    legacy: bool = False  # points carry no `repo` (a collection made before repositories)

    def to_metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {"root": self.root, "revision": self.revision, "updated": self.updated,
                                "source_url": self.source_url}
        if self.legacy:
            data["legacy"] = True
        return data

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, **self.to_metadata(), "legacy": self.legacy}


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise RepoError(f"invalid repository name {str(name)[:80]!r}: use letters, digits, '_', '-', '.' "
                        f"(at most 64, starting with a letter or digit)")
    return name


def default_name(root: Path) -> str:
    """A tree's repository name: its folder's name, made safe (`my repo` → `my-repo`)."""
    name = _UNSAFE.sub("-", root.resolve().name).strip("-._")[:64]
    return name or "repo"


def parse_tree(arg: str | Path) -> Tree:
    """`DIR` (named after its folder) or `NAME=DIR`; a folder whose own name holds '=' is a DIR."""
    text = str(arg)
    name, sep, rest = text.partition("=")
    if sep and not Path(text).expanduser().is_dir():
        if not rest:
            raise RepoError(f"{text!r}: expected NAME=DIR, with a folder after '='")
        check_name(name)
        root = Path(rest).expanduser()
    else:
        name, root = "", Path(text).expanduser()
    if not root.exists():
        raise RepoError(f"no such directory: {root}" + (f" (for repository {name!r})" if name else ""))
    if not root.is_dir():
        raise RepoError(f"not a directory: {root}")
    root = root.resolve()
    return Tree(name or default_name(root), root, named=bool(name))


def parse_trees(args: Iterable[str | Path]) -> list[Tree]:
    """Several trees for one collection: no name twice, no tree twice."""
    trees: list[Tree] = []
    for arg in args:
        tree = parse_tree(arg)
        for other in trees:
            if other.name == tree.name:
                raise RepoError(f"two trees named {tree.name!r} ({other.root} and {tree.root}): "
                                f"name one with NAME=DIR")
            if other.root == tree.root:
                raise RepoError(f"{tree.root} is given twice (as {other.name!r} and {tree.name!r})")
        trees.append(tree)
    if not trees:
        raise RepoError("no tree to index: give at least one DIR")
    return trees


def parse_source_urls(args: Iterable[str]) -> dict[str, str]:
    """`NAME=https://…` pairs (a repository or a collection name → the URL its paths live under)."""
    links: dict[str, str] = {}
    for item in args:
        name, sep, url = item.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise RepoError(f"bad --source-url {item!r}: expected NAME=https://…")
        links[name] = url
    return links


def recorded(metadata: Mapping[str, Any]) -> dict[str, Repo]:
    """The repositories a code collection's metadata records (a legacy tree as one)."""
    repos = metadata.get("repos")
    if isinstance(repos, dict):
        return {name: Repo(name=name, root=data.get("root"), revision=data.get("revision"),
                           updated=data.get("updated"), source_url=data.get("source_url"),
                           legacy=bool(data.get("legacy")))
                for name, data in sorted(repos.items()) if isinstance(data, dict)}
    root = metadata.get("root")
    if root:
        name = default_name(Path(root))
        return {name: Repo(name=name, root=str(root), legacy=True)}
    return {}


def as_metadata(repos: Mapping[str, Repo]) -> dict[str, dict[str, Any]]:
    return {name: repo.to_metadata() for name, repo in sorted(repos.items())}


def unknown(requested: Iterable[str], known: Iterable[str]) -> str | None:
    """The message for names a collection does not hold, or None when it holds them all."""
    known = sorted(known)
    missing = [name for name in requested if name not in known]
    if not missing:
        return None
    which = ", ".join(repr(m[:80]) for m in missing[:5])
    return (f"unknown repository {which}: this collection holds {', '.join(known) or 'none'}"
            if len(missing) == 1 else f"unknown repositories {which}: this collection holds "
                                      f"{', '.join(known) or 'none'}")


def repository_root(start: Path) -> Path:
    """The repository around start: the nearest folder holding `.git`, else start itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def around(repos: Mapping[str, Repo], folder: Path) -> str | None:
    """The repository a folder is inside: the one whose indexed tree holds it (the innermost, when one
    tree holds another), else (a developer's own checkout of a shared collection's repository) the one
    named as the checkout's folder."""
    folder = folder.resolve()
    holding = [(len(Path(r.root).parts), name) for name, r in repos.items()
               if r.root and not r.legacy and folder.is_relative_to(Path(r.root))]
    if holding:
        return max(holding)[1]
    checkout = repository_root(folder).name
    return checkout if checkout in repos and not repos[checkout].legacy else None


def source_link(base: str, path: str, line_from: int, line_to: int) -> str:
    return f"{base.rstrip('/')}/{path}#L{line_from}-L{line_to}"


def git_revision(root: Path) -> str | None:
    """HEAD of the checkout at root, or None (not a checkout, no git, no commit yet)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", revision) else None


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def claim(metadata: Mapping[str, Any] | None, root: Path, name: str | None = None) -> Repo:
    """The repository `root` is indexed as, in a collection with this metadata (None: a new one).

    Refused with one line: a tree already indexed under another name, a name already taken by
    another tree that is still there, a second tree in a collection made before repositories.
    A name whose recorded tree is gone (moved) takes the new root.
    """
    root = root.resolve()
    repos = recorded(metadata or {})
    legacy = [r for r in repos.values() if r.legacy]
    if metadata is not None and not isinstance(metadata.get("repos"), dict) and not legacy:
        legacy = [Repo(default_name(root), None, legacy=True)]  # imported structures, no tree recorded
    if legacy:
        old = legacy[0]
        moved = old.root is None or Path(old.root) == root or not Path(old.root).is_dir()
        if moved and name in (None, old.name):
            return Repo(old.name, str(root), old.revision, old.updated, old.source_url, legacy=True)
        raise RepoError(f"this collection was made before it could hold several repositories; it holds "
                        f"{old.root or 'imported structures'}: rebuild it with `semsearch index --recreate DIR …` "
                        f"to add {root} (the vectors come from the cache)")
    name = check_name(name) if name else default_name(root)
    for other in repos.values():
        if other.name != name and other.root and Path(other.root) == root:
            raise RepoError(f"{root} is already indexed as repository {other.name!r}: index it under that name, "
                            f"or `semsearch repos remove {other.name}` first")
    known = repos.get(name)
    if known is None:
        return Repo(name, str(root))
    if known.root and Path(known.root) != root and Path(known.root).is_dir():
        raise RepoError(f"repository {name!r} is {known.root}, not {root}: name this tree with NAME=DIR, "
                        f"or `semsearch repos remove {name}` first")
    return Repo(name, str(root), known.revision, known.updated, known.source_url)
