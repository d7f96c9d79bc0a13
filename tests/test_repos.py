"""Several trees in one collection, each a repository: the real CLI, Python API, HTTP API and MCP
server, on the embedded store and on a real Qdrant server, with the shipped model."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient

import semsearch
from semsearch.api import create_app
from semsearch.code_index import CodeIndex
from semsearch.indexer import Indexer
from semsearch.search import QueryError
from semsearch.store import Filter, Match, Store, StoreError
from semsearch.store.edge import EdgeStore
from tests.conftest import server_store

GREET = 'def greet(name):\n    """Say hello to a person by name."""\n    return "hello " + name\n'
UTIL_A = 'def parse_config(path):\n    """Read the settings file at path."""\n    return open(path).read()\n'
UTIL_B = 'def parse_args(argv):\n    """Split command line arguments into flags."""\n    return [a for a in argv if a.startswith("-")]\n'
BACKOFF = ('def retry_with_backoff(call, attempts=5):\n    """Retry a failing call, doubling the wait."""\n'
           '    for n in range(attempts):\n        try:\n            return call()\n        except OSError:\n'
           '            time.sleep(2 ** n)\n')


def make_trees(base: Path) -> tuple[Path, Path, Path]:
    """Three small trees; a and b both hold src/util.py (different code at the same relative path)."""
    a, b, c = base / "alpha", base / "beta", base / "gamma"
    for root, files in ((a, {"src/util.py": UTIL_A, "src/hello.py": GREET}),
                        (b, {"src/util.py": UTIL_B, "net.py": BACKOFF}),
                        (c, {"lib/greet.py": GREET.replace("greet", "welcome")})):
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    return a, b, c


def ids(store: Store, repo: str) -> set[str]:
    return {h.id for h in store.scroll("code", [], Filter(must=[Match("repo", repo)]))}


def repos_with_points(store: Store) -> set[str]:
    return {name for name, count in store.facet("code", "repo").items() if count}


def snapshot(store: Store) -> tuple[int, dict[str, int], dict]:
    return store.count("code"), store.facet("code", "repo"), store.metadata("code")["repos"]


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    text = (result.stdout + result.stderr).strip()
    assert result.exit_code == 1 and "\n" not in text and "Traceback" not in text, text
    return text


def test_cli_several_trees_in_one_collection(cli, tmp_path: Path) -> None:
    a, b, c = make_trees(tmp_path)
    store = tmp_path / "store"
    cli("index", a, f"bee={b}", "--store", store, "-q", "--source-url", "bee=https://example.com/b/blob/abc")
    listed = {r["name"]: r for r in json.loads(cli("repos", "--store", store, "--json").stdout)}
    assert set(listed) == {"alpha", "bee"}
    assert listed["alpha"]["files"] == 2 and listed["bee"]["files"] == 2 and listed["alpha"]["root"] == str(a)
    assert listed["alpha"]["structures"] >= 2 and listed["alpha"]["updated"] and listed["alpha"]["revision"] is None
    text = cli("repos", "--store", store).stdout
    assert text.startswith("alpha  2 files") and "https://example.com/b/blob/abc" in text

    db = EdgeStore(store)
    try:
        same = db.count("code", Filter(must=[Match("context.file_path", "src/util.py")]))
        assert same == 2  # the same relative path in two repositories stays two points
        before_b, before_a = ids(db, "bee"), ids(db, "alpha")
    finally:
        db.close()

    hits = json.loads(cli("search", "split command line arguments", "--store", store, "--json").stdout)["hits"]
    assert {h["repo"] for h in hits} == {"alpha", "bee"}
    top = hits[0]
    assert (top["repo"], top["path"], top["name"]) == ("bee", "src/util.py", "parse_args")
    assert top["overlap"] == [[1, 3]], "the code model's agreement is marked in a collection of repositories too"
    assert top["url"] == "https://example.com/b/blob/abc/src/util.py#L1-L3"
    only = json.loads(cli("search", "read a settings file", "--store", store, "--json", "--repo", "alpha").stdout)
    assert only["hits"] and {h["repo"] for h in only["hits"]} == {"alpha"}
    panel = cli("search", "split command line arguments", "--store", store, "-k", "1").stdout
    assert "bee:src/util.py:1-3" in panel

    # an edit in one repository re-indexes it alone; the other's points stay exactly as they were
    (a / "src" / "util.py").write_text(UTIL_A + "\n\ndef write_config(path, text):\n    open(path, 'w').write(text)\n")
    out = cli("index", a, "--store", store, "-q").stderr
    assert "1 indexed, 1 unchanged" in out
    db = EdgeStore(store)
    try:
        assert ids(db, "bee") == before_b and ids(db, "alpha") != before_a and len(ids(db, "alpha")) > len(before_a)
        counts, _, _ = snapshot(db)
    finally:
        db.close()

    # a third tree joins, then one repository goes without touching the others
    cli("index", c, "--store", store, "-q")
    cli("repos", "remove", "bee", "--store", store)
    db = EdgeStore(store)
    try:
        assert not ids(db, "bee") and repos_with_points(db) == {"alpha", "gamma"}
        assert set(db.metadata("code")["repos"]) == {"alpha", "gamma"}
    finally:
        db.close()
    gone = cli("search", "flags", "--store", store, "--repo", "bee", ok=False)
    assert "unknown repository 'bee': this collection holds alpha, gamma" in one_line(gone)


def test_cli_bad_input_is_one_line_and_loses_nothing(cli, tmp_path: Path) -> None:
    a, b, c = make_trees(tmp_path)
    store = tmp_path / "store"
    cli("index", a, b, "--store", store, "-q", "--lexical-only")
    db = EdgeStore(store)
    try:
        before = snapshot(db)
    finally:
        db.close()
    twin = tmp_path / "elsewhere" / "alpha"
    twin.mkdir(parents=True)
    (twin / "x.py").write_text("def x():\n    return 1\n")
    cases = {
        ("search", "x", "--repo", "nope"): "unknown repository 'nope'",
        ("index", f"new={tmp_path / 'missing'}"): "no such directory",
        ("index", f"second={a}"): "is already indexed as repository 'alpha'",
        ("index", c, f"gamma={b}"): "two trees named 'gamma'",
        ("index", a, f"again={a}"): "is given twice",
        ("index", twin): "repository 'alpha' is",
        ("index", c, twin): "repository 'alpha' is",  # nothing of c is written either
        ("index", "bad name=" + str(c)): "invalid repository name",
        ("repos", "remove", "nope"): "unknown repository 'nope'",
    }
    for args, message in cases.items():
        result = cli(*args, "--store", store, ok=False)
        assert message in one_line(result), (args, result.stderr)
    db = EdgeStore(store)
    try:
        assert snapshot(db) == before
    finally:
        db.close()


def test_several_trees_default_to_the_working_directory_store(cli, tmp_path: Path, monkeypatch) -> None:
    a, b, _ = make_trees(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cli("index", a, b, "-q", "--lexical-only")
    assert (work / ".semsearch" / "code" / "collection.json").is_file() and not (a / ".semsearch").exists()
    assert {r["name"] for r in json.loads(cli("repos", "--json").stdout)} == {"alpha", "beta"}
    listed = cli("repos").stdout  # no options at all: the list, not the group's help
    assert [line.split()[0] for line in listed.splitlines()] == ["alpha", "beta"]


def test_python_api_on_a_real_qdrant_server(tmp_path: Path, qdrant_url: str) -> None:
    server_store(qdrant_url).close()
    a, b, c = make_trees(tmp_path)
    with semsearch.open_index({"a": a, "b": b}, url=qdrant_url) as index:
        index.update()
        assert {r["name"]: r["files"] for r in index.repo_status()} == {"a": 2, "b": 2}
        hits = index.search("retry a failing call with backoff", limit=5)
        assert hits[0].repo == "b" and hits[0].path == "net.py" and hits[0].to_json()["repo"] == "b"
        assert {h.repo for h in index.search("hello", limit=10, repos=["a"])} == {"a"}
        with pytest.raises(QueryError, match="unknown repository 'z': this collection holds a, b"):
            index.search("hello", repos=["z"])
        with pytest.raises(QueryError, match="is in repositories a, b"):
            index.read("src/util.py")
        assert index.read("src/util.py", repo="b").lines[0] == "def parse_args(argv):"
        related = index.related("src/util.py", 1, repo="a", limit=5)
        assert related and not any(h.repo == "a" and h.path == "src/util.py" for h in related)
        before_b = ids(index.store, "b")
        (a / "src" / "hello.py").unlink()
        summary = index.update()
        assert index.summaries["a"].files_removed == 1 and summary.files_unchanged == 2
        assert ids(index.store, "b") == before_b
        assert index.remove_repo("a") > 0
        assert set(index.repos()) == {"b"} and ids(index.store, "b") == before_b
        assert repos_with_points(index.store) == {"b"}
    with semsearch.open_index([c], url=qdrant_url) as more:  # another tree joins over the server
        more.update(lexical_only=True)
        assert set(more.repos()) == {"b", "gamma"}
        with pytest.raises(StoreError, match="already indexed as repository 'gamma'"):
            semsearch.open_index({"other": c}, url=qdrant_url).update(lexical_only=True)
        assert set(more.repos()) == {"b", "gamma"} and ids(more.store, "b") == before_b


def test_a_collection_made_before_repositories_stays_searchable(tmp_path: Path) -> None:
    """Points without `repo` and metadata without `repos`, as an earlier semsearch wrote them."""
    a, b, _ = make_trees(tmp_path)
    store = EdgeStore(tmp_path / "store")
    Indexer(store, "code").import_structures([])  # a collection without repositories, then its tree
    store.update_metadata("code", {"root": str(a)})
    assert "repos" not in store.metadata("code")
    Indexer(store, "code").index_tree(a, lexical_only=True)
    assert not store.facet("code", "repo")  # no point carries a repository
    index = CodeIndex(store, "code", owns_store=False)
    assert [r["name"] for r in index.repo_status()] == ["alpha"] and index.repo_status()[0]["legacy"]
    hits = index.search("settings file", mode="lexical", repos=["alpha"])
    assert hits and {h.repo for h in hits} == {"alpha"}
    with pytest.raises(QueryError, match="unknown repository 'beta'"):
        index.search("x", repos=["beta"])
    points = store.count("code")
    with pytest.raises(StoreError, match="made before it could hold several repositories"):
        Indexer(store, "code").index_tree(b, lexical_only=True)
    assert store.count("code") == points and index.read("src/util.py").lines[0] == "def parse_config(path):"
    store.close()


@pytest.fixture(scope="module")
def two_repos(tmp_path_factory):
    base = tmp_path_factory.mktemp("repos-api")
    a, b, _ = make_trees(base)
    store = EdgeStore(base / "store")
    with CodeIndex(store, "code", trees=semsearch.repos.parse_trees([a, f"bee={b}"]), owns_store=False,
                   source_urls={"bee": "https://example.com/b/blob/r1"}) as index:
        index.update()
    yield store, a, b
    store.close()


def test_http_api_names_and_filters_repositories(two_repos) -> None:
    store, a, b = two_repos
    client = TestClient(create_app(store))
    listed = client.get("/api/collections").json()[0]["repos"]
    assert [r["name"] for r in listed] == ["alpha", "bee"] and listed[1]["source_url"] == "https://example.com/b/blob/r1"
    body = client.get("/api/search", params={"q": "split command line arguments into flags"}).json()
    top = body["result"][0]
    assert (top["repo"], top["path"], top["url"]) == ("bee", "src/util.py",
                                                      "https://example.com/b/blob/r1/src/util.py#L1-L3")
    only = client.get("/api/search", params={"q": "flags", "repo": "alpha"}).json()["result"]
    assert only and {h["repo"] for h in only} == {"alpha"}
    both = client.get("/api/search", params=[("q", "flags"), ("repo", "alpha"), ("repo", "bee")]).json()["result"]
    assert {h["repo"] for h in both} == {"alpha", "bee"}
    wrong = client.get("/api/search", params={"q": "flags", "repo": "nope"})
    assert wrong.status_code == 404 and wrong.json()["detail"].startswith("unknown repository 'nope'")
    gone = client.get("/api/file", params={"path": "src/util.py", "repo": "nope"})
    assert gone.status_code == 404 and gone.json()["detail"].startswith("unknown repository 'nope'")
    ambiguous = client.get("/api/file", params={"path": "src/util.py"})
    assert ambiguous.status_code == 400 and "alpha, bee" in ambiguous.json()["detail"]
    lines = client.get("/api/file", params={"path": "src/util.py", "repo": "bee"}).json()
    assert lines["lines"][0] == "def parse_args(argv):"
    related = client.get("/api/related", params={"path": "src/util.py", "line": 1, "repo": "alpha"})
    assert related.status_code == 200 and all((h["repo"], h["path"]) != ("alpha", "src/util.py")
                                               for h in related.json()["result"])


def test_mcp_search_takes_a_repo(two_repos, tmp_path: Path) -> None:
    from mcp.client.stdio import StdioServerParameters

    from tests.test_mcp import SEMSEARCH, Client, text, until

    store, a, b = two_repos
    store.close()  # the MCP server process holds the embedded store now
    params = StdioServerParameters(command=str(SEMSEARCH), args=["mcp", str(a), f"bee={b}", "--store",
                                                                  str(Path(store.location)), "--no-watch"],
                                   cwd=str(tmp_path), env={"SEMSEARCH_CACHE": os.environ["SEMSEARCH_CACHE"],
                                                           "SEMSEARCH_VECTOR_CACHE": os.environ["SEMSEARCH_VECTOR_CACHE"]})

    async def session() -> None:
        async with Client(params) as client:
            async def indexed(c: Client):  # type: ignore[no-untyped-def]
                status = (await c.call_tool("status", {})).structured_content
                return status if status and status["indexing"]["state"] == "done" else None

            assert await until(client, indexed), "the background update never finished"
            found = await client.call_tool("search", {"query": "split command line arguments", "limit": 3})
            assert text(found).splitlines()[0].startswith("bee:src/util.py:1-3 Function parse_args")
            assert found.structured_content["hits"][0]["repo"] == "bee"
            only = await client.call_tool("search", {"query": "flags", "repo": "alpha", "limit": 5})
            assert {h["repo"] for h in only.structured_content["hits"]} == {"alpha"}
            several = await client.call_tool("search", {"query": "flags", "repo": ["alpha", "bee"], "limit": 10})
            assert {h["repo"] for h in several.structured_content["hits"]} == {"alpha", "bee"}
            wrong = await client.call_tool("search", {"query": "flags", "repo": "nope"})
            assert wrong.is_error and "unknown repository 'nope'" in text(wrong)
            lines = await client.call_tool("read", {"path": "src/util.py", "repo": "alpha"})
            assert lines.structured_content["text"].startswith("def parse_config")
            status = (await client.call_tool("status", {})).structured_content
            assert [r["name"] for r in status["repos"]] == ["alpha", "bee"]

    anyio.run(session)


def test_watch_and_the_server_job_take_several_trees(tmp_path: Path) -> None:
    import threading

    from semsearch.index_job import IndexJob
    from semsearch.repos import parse_trees
    from semsearch.store.shared import SharedStore
    from semsearch.watch import Update, watch
    from tests.test_watch import wait_for

    a, b, _ = make_trees(tmp_path)
    trees = parse_trees([a, f"bee={b}"])
    job = IndexJob(SharedStore(EdgeStore(tmp_path / "job")), trees, "code").start()  # `serve --index A --index B`
    job.join(timeout=120)
    assert job.status()["state"] == "done" and job.status()["repos"] == {"alpha": str(a), "bee": str(b)}
    assert repos_with_points(job.store) == {"alpha", "bee"}
    job.store.inner.close()

    store_dir = tmp_path / "watched"
    updates: list[Update] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(trees, lambda: EdgeStore(store_dir, wait=30), "code"),
                              kwargs={"on_update": updates.append, "debounce_ms": 200, "stop": stop,
                                      "lexical_only": True}, daemon=True)
    thread.start()
    try:
        wait_for(updates, 1)
        with EdgeStore(store_dir, wait=30) as db:
            first = db.metadata("code")["repos"]
            bee_ids = ids(db, "bee")
        time.sleep(1.1)  # `updated` has whole seconds
        (a / "src" / "extra.py").write_text("def extra_step():\n    return 3\n")
        wait_for(updates, 2)
        with EdgeStore(store_dir, wait=30) as db:
            now = db.metadata("code")["repos"]
            assert ids(db, "bee") == bee_ids and now["bee"] == first["bee"]  # only alpha was updated
            assert now["alpha"]["updated"] > first["alpha"]["updated"]
            assert "extra_step" in {h.payload["name"] for h in db.scroll("code", ["name"],
                                                                       Filter(must=[Match("repo", "alpha")]))}
    finally:
        stop.set()
        thread.join(timeout=30)


def test_the_page_filters_by_repository_and_names_each_hits(tmp_path: Path, tmp_path_factory) -> None:
    from tests.test_page import CHROMEDRIVER, CHROMIUM, running
    from tests.test_page import wait_for as wait_in_page

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/install adds them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    a, b, _ = make_trees(tmp_path)
    store = EdgeStore(tmp_path / "store")
    with CodeIndex(store, "code", trees=semsearch.repos.parse_trees([a, f"bee={b}"]), owns_store=False,
                   source_urls={"bee": "https://example.com/b/blob/r1"}) as index:
        index.update()
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        with running(create_app(store)) as url:
            browser.get(url + "/?q=split+command+line+arguments+into+flags")
            first = wait_in_page(browser, ".code-hit")[0]
            assert first.find_element(By.CSS_SELECTOR, ".repo").text == "bee"
            assert first.find_element(By.CSS_SELECTOR, ".loc").get_attribute("href") == \
                "https://example.com/b/blob/r1/src/util.py#L1-L3"
            options_text = [o.text for o in Select(browser.find_element(By.ID, "repo")).options]
            assert options_text[0] == "all repositories" and [t.split(" ")[0] for t in options_text[1:]] == \
                ["alpha", "bee"]
            Select(browser.find_element(By.ID, "repo")).select_by_value("alpha")
            deadline = time.time() + 20
            while time.time() < deadline:
                try:
                    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".code-hit .repo")]
                except StaleElementReferenceException:  # the hits were redrawn while being read
                    names = []
                if names and set(names) == {"alpha"}:
                    break
                time.sleep(0.1)
            assert names and set(names) == {"alpha"}
            assert "repo=alpha" in browser.current_url
            Select(browser.find_element(By.ID, "repo")).select_by_value("")
            assert browser.find_element(By.ID, "group-repo").get_attribute("hidden") is None  # offered: several
            Select(browser.find_element(By.ID, "group-by")).select_by_value("repo")
            deadline = time.time() + 20
            while time.time() < deadline:
                try:
                    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".group-title")]
                except StaleElementReferenceException:
                    titles = []
                if sorted(titles) == ["repository: alpha", "repository: bee"]:
                    break
                time.sleep(0.1)
            assert sorted(titles) == ["repository: alpha", "repository: bee"]
    finally:
        browser.quit()
        store.close()


def test_the_revision_is_gits_head_when_the_tree_is_a_checkout(cli, tmp_path: Path) -> None:
    import subprocess

    a, b, _ = make_trees(tmp_path)
    git = ["git", "-C", str(a), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    cli("index", a, b, "--store", tmp_path / "store", "-q", "--lexical-only")
    listed = {r["name"]: r for r in json.loads(cli("repos", "--store", tmp_path / "store", "--json").stdout)}
    assert listed["alpha"]["revision"] == head and listed["beta"]["revision"] is None
    assert head[:12] in cli("repos", "--store", tmp_path / "store").stdout


def test_a_search_from_inside_a_repository_ranks_its_hits_first(cli, tmp_path: Path, monkeypatch) -> None:
    a, b, c = make_trees(tmp_path)  # alpha's greet and gamma's welcome are the same code
    store = tmp_path / "store"
    cli("index", a, b, c, "--store", store, "-q")
    query = "say hello to a person by name"

    def first_repos(*options: str) -> list[str]:
        found = json.loads(cli("search", query, "--store", store, "--json", "--limit", "3", *options).stdout)
        return [h["repo"] for h in found["hits"]]

    monkeypatch.chdir(c / "lib")
    assert first_repos()[0] == "gamma"
    assert json.loads(cli("search", query, "--store", store, "--json").stdout)["prefer"] == "gamma"
    assert "gamma's hits first" in cli("search", query, "--store", store).stderr
    narrowed = cli("search", query, "--store", store, "--json", "--repo", "alpha")  # --repo makes the preference moot
    assert "prefer" not in json.loads(narrowed.stdout) and "hits first" not in narrowed.stderr
    assert json.loads(cli("search", query, "--store", store, "--json", "--repo", "alpha", "--repo", "gamma").stdout)[
        "prefer"] == "gamma"
    assert first_repos("--prefer", "alpha")[0] == "alpha"
    monkeypatch.chdir(a)
    assert first_repos()[0] == "alpha"
    monkeypatch.chdir(tmp_path)  # inside none of them: every repository alike
    alike = first_repos()
    assert alike == first_repos("--no-prefer") and set(alike[:2]) == {"alpha", "gamma"}
    assert "unknown repository 'nope'" in one_line(cli("search", query, "--store", store, "--prefer", "nope", ok=False))
    with semsearch.open_index(store=store) as index:
        assert index.home(c / "lib") == "gamma" and index.home(tmp_path) is None
        assert index.preferring("gamma") == "gamma" and index.preferring("gamma", ["alpha", "gamma"]) == "gamma"
        assert index.preferring("gamma", ["alpha"]) is None and index.preferring("gamma", ["gamma"]) is None
        elsewhere = tmp_path / "checkouts" / "beta"  # a developer's own clone of an indexed repository
        (elsewhere / ".git").mkdir(parents=True)
        (elsewhere / "pkg").mkdir()
        assert index.home(elsewhere / "pkg") == "beta"
        for home in ("alpha", "gamma"):
            assert index.search(query, limit=1, prefer=home)[0].repo == home
        # another repository's answer still shows when the home repository has none
        backoff = [h.repo for h in index.search("retry a failing call, doubling the wait", limit=3, prefer="alpha")]
        assert "beta" in backoff
