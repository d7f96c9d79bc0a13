"""The mined corpus's packages: the pinned list, the four registries, the forbidden projects.

Every package is named by a registry and a pinned version (`bench/corpus_packages.json`), so
the corpus is the same on every machine that can reach PyPI, npm and Debian. The projects
the product is scored on are never a source, not even as a copy vendored inside another
package: a package whose name names one is refused, and a folder named after one is left
out of the indexed copy.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from code_search import WORK
from sdist import fetch_sdist

HERE = Path(__file__).resolve().parent
PACKAGES = HERE / "corpus_packages.json"
CORPUS = WORK / "corpus"
SOURCES = CORPUS / "src"
APT_SOURCES = CORPUS / "aptsrc"

# owner/repo -> the words that name it in a package name or a vendored folder. A generic repo
# name (`json`, `framework`) is named by its owner instead.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "Alamofire/Alamofire": ("alamofire",), "Bash-it/bash-it": ("bash-it",), "DapperLib/Dapper": ("dapper",),
    "FasterXML/jackson-databind": ("jackson-databind",), "Hejsil/zig-clap": ("zig-clap",),
    "JamesNK/Newtonsoft.Json": ("newtonsoft",), "JetBrains/Exposed": ("exposed",),
    "Kotlin/kotlinx.coroutines": ("kotlinx-coroutines", "kotlinx.coroutines"), "MinishLab/model2vec": ("model2vec",),
    "Seldaek/monolog": ("monolog",), "abseil/abseil-cpp": ("abseil", "absl"), "aio-libs/aiohttp": ("aiohttp",),
    "apache/commons-lang": ("commons-lang", "commons-lang3"), "axios/axios": ("axios",),
    "bats-core/bats-core": ("bats", "bats-core"), "circe/circe": ("circe",), "colinhacks/zod": ("zod",),
    "curl/curl": ("curl", "libcurl"), "echasnovski/mini.nvim": ("mini.nvim",), "elixir-ecto/ecto": ("ecto",),
    "elixir-plug/plug": ("plug",), "encode/httpx": ("httpx",), "encode/starlette": ("starlette",),
    "expressjs/express": ("express",), "fastapi/fastapi": ("fastapi",), "fmtlib/fmt": ("fmt", "fmtlib"),
    "folke/lazy.nvim": ("lazy.nvim",), "gin-gonic/gin": ("gin", "gin-gonic"), "go-chi/chi": ("chi", "go-chi"),
    "google/gson": ("gson",), "guzzle/guzzle": ("guzzle", "guzzlehttp"), "haskell/aeson": ("aeson",),
    "http4s/http4s": ("http4s",), "jgm/pandoc": ("pandoc",), "ktorio/ktor": ("ktor",),
    "laravel/framework": ("laravel", "illuminate"), "libuv/libuv": ("libuv", "uv"),
    "neuecc/MessagePack-CSharp": ("messagepack-csharp",), "nlohmann/json": ("nlohmann",),
    "nvim-telescope/telescope.nvim": ("telescope", "telescope.nvim"), "neovim/nvim-lspconfig": ("nvim-lspconfig", "lspconfig"),
    "nvm-sh/nvm": ("nvm",), "pallets/click": ("click",), "pallets/flask": ("flask",), "psf/requests": ("requests",),
    "pydantic/pydantic": ("pydantic",), "rack/rack": ("rack",),
    "rails/rails": ("rails", "activesupport", "activerecord", "actionpack", "actionview", "activemodel", "railties",
                    "actioncable", "activejob", "actionmailer", "activestorage"),
    "redis/redis": ("redis",), "reduxjs/redux": ("redux",), "ReactiveX/RxSwift": ("rxswift",),
    "SnapKit/SnapKit": ("snapkit",), "serde-rs/serde": ("serde",), "sinatra/sinatra": ("sinatra",),
    "spf13/cobra": ("cobra",), "tokio-rs/axum": ("axum",), "tokio-rs/tokio": ("tokio",), "trpc/trpc": ("trpc",),
    "typelevel/cats": ("cats", "cats-effect"), "vapor/vapor": ("vapor",), "vitest-dev/vitest": ("vitest",),
    "xmonad/xmonad": ("xmonad",), "ziglang/zig": ("zig",), "zigtools/zls": ("zls",),
}
# bench/csn.py's packages: its pairs must stay out of anything fitted on this corpus.
CSN_PACKAGES = ("more-itertools", "lodash", "lodash-es", "gorilla-mux", "regex-syntax", "serde-json")


@dataclass(frozen=True)
class Package:
    id: str
    language: str
    source: str  # pypi | wheel | npm | deb | debsrc
    spec: str  # name==version | name@version | name=version
    root: str  # the folder below the unpacked top that is indexed ("" for all of it)
    fold: int

    @property
    def name(self) -> str:
        """The registry's name for it, without the version."""
        if self.source in ("pypi", "wheel"):
            return self.spec.split("==")[0]
        if self.source == "npm":
            return self.spec.rsplit("@", 1)[0]
        return self.spec.split("=")[0]


def load_packages(path: Path = PACKAGES) -> list[Package]:
    return [Package(**entry) for entry in json.loads(path.read_text())]


def save_packages(packages: list[Package], path: Path = PACKAGES) -> None:
    rows = [json.dumps(p.__dict__) for p in packages]
    path.write_text("[\n  " + ",\n  ".join(rows) + "\n]\n")


def _tokens(name: str) -> set[str]:
    """A package name's words and their joins: `golang-github-go-chi-chi-dev` holds `go-chi` and `chi`."""
    words = [w for w in re.split(r"[^a-z0-9.]+", name.lower()) if w]
    joined = {"-".join(words[i:i + n]) for n in (2, 3) for i in range(len(words))}
    return set(words) | joined | {w.rstrip("0123456789") for w in words}  # libuv1-dev names libuv


def forbidden_by_name(package: Package) -> str | None:
    """The forbidden project (or csn.py package) a package's name names, if any."""
    tokens = _tokens(package.name) | _tokens(package.id)
    for project, names in FORBIDDEN.items():
        if tokens & set(names):
            return project
    hit = tokens & set(CSN_PACKAGES)
    return f"bench/csn.py's {min(hit)}" if hit else None


# What a bundled copy of a project brings along and a module of the package itself does not.
_PROJECT_FILES = re.compile(r"(^|[._-])(licen[cs]e|copying|readme|notice|authors)|^(setup\.py|pyproject\.toml|package\.json"
                            r"|cargo\.toml|go\.mod|composer\.json|cmakelists\.txt|meson\.build|pom\.xml|build\.gradle"
                            r"|mix\.exs|rakefile|gemfile|makefile\.am|configure\.ac)$|\.(gemspec|cabal|podspec|csproj|sln)$",
                            re.IGNORECASE)


def named_folders(root: Path) -> list[tuple[Path, str, bool]]:
    """Folders under root named after a forbidden project, and whether each is a bundled copy.

    A copy (spdlog's `fmt/bundled`, a vendored `curl/`) carries its licence, readme or build
    manifest within two levels; a module that merely shares a name (junit's `internal/requests`,
    the bytes crate's `fmt`) does not."""
    names = {n: project for project, ns in FORBIDDEN.items() for n in ns}
    found: list[tuple[Path, str, bool]] = []
    for folder in sorted(p for p in root.rglob("*") if p.is_dir()):
        project = names.get(folder.name.lower())
        if project and not any(folder.is_relative_to(f) for f, _, _ in found):
            bundled = any(_PROJECT_FILES.search(f.name) for f in [*folder.glob("*"), *folder.glob("*/*")])
            found.append((folder, project, bundled))
    return found


def top_folder(package: Package) -> Path:
    """The unpacked package, fetched once: the folder that `root` is relative to."""
    target = SOURCES / package.source / re.sub(r"[^\w.=@-]", "_", package.spec)
    if package.source == "pypi":
        return fetch_sdist(package.spec, SOURCES / "pypi")
    unpacked = target / "top"
    if unpacked.is_dir():
        return unpacked
    if target.exists():
        shutil.rmtree(target)  # a fetch that died half way
    target.mkdir(parents=True)
    {"npm": _npm, "wheel": _wheel, "deb": _deb, "debsrc": _debsrc}[package.source](package.spec, target)
    return unpacked


def _npm(spec: str, target: Path) -> None:
    archive = subprocess.run(["npm", "pack", spec, "--silent"], cwd=target, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with tarfile.open(target / archive) as tar:
        tar.extractall(target, filter="data")
    (target / "package").rename(target / "top")


def _wheel(spec: str, target: Path) -> None:
    """A pure-Python wheel, for a package whose sources in another language ship only there
    (ziggy-pydust's Zig library: its later releases have no sdist)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", spec,
                    "-d", str(target)], check=True, capture_output=True)
    with zipfile.ZipFile(next(target.glob("*.whl"))) as wheel:
        wheel.extractall(target / "top")


def _deb(spec: str, target: Path) -> None:
    subprocess.run(["apt-get", "download", "-q", spec], cwd=target, check=True, capture_output=True)
    deb = next(target.glob("*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(target / "top")], check=True)


def _apt_source_options() -> list[str]:
    """A private deb-src list, package lists and cache: the machine's own apt setup is left alone."""
    lists, cache = APT_SOURCES / "lists", APT_SOURCES / "cache"
    options = ["-o", f"Dir::Etc::SourceList={APT_SOURCES / 'src.list'}", "-o", "Dir::Etc::SourceParts=/dev/null",
               "-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache={cache}"]
    if not (lists / "lock").exists():
        (lists / "partial").mkdir(parents=True, exist_ok=True)
        (cache / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        (APT_SOURCES / "src.list").write_text("deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                              "http://deb.debian.org/debian bookworm main\n")
        subprocess.run(["apt-get", *options, "update", "-q"], check=True, capture_output=True)
    return options


def _debsrc(spec: str, target: Path) -> None:
    fetched = subprocess.run(["apt-get", *_apt_source_options(), "source", "--download-only", "-q", spec],
                             cwd=target, capture_output=True)
    orig = next(target.glob("*.orig.tar.*"), None)
    if fetched.returncode != 0 and orig is not None:
        # the mirror lacks the Debian patch tarball (rubocop 1.39.0): the upstream tarball alone
        (target / "top").mkdir()
        subprocess.run(["tar", "-xf", orig.name, "-C", "top", "--strip-components=1"], cwd=target, check=True)
        return
    fetched.check_returncode()
    dsc = next(target.glob("*.dsc"))
    subprocess.run(["dpkg-source", "--no-check", "-x", dsc.name, "top"], cwd=target, check=True,
                   capture_output=True)
