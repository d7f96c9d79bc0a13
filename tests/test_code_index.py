"""The public Python API: semsearch.open_index on a real tree, real model, embedded store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import semsearch
from semsearch.code_index import MAX_READ_LINES, CodeIndex
from semsearch.search import QueryError

FIXTURES = Path(__file__).parent / "fixtures" / "languages"
FILES = len(list(FIXTURES.iterdir())) + 3  # the language fixtures, a guide, a config, a long file


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> CodeIndex:
    root = tmp_path_factory.mktemp("api") / "repo"
    shutil.copytree(FIXTURES, root / "src")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# Greeting people\n\nHow to greet a user by name, politely.\n")
    (root / "config.yaml").write_text("greeting:\n  text: hello\n  polite: true\n")
    (root / "long.py").write_text("".join(f"x{n} = {n}\n" for n in range(1, 1001)))
    ix = semsearch.open_index(root)
    summary = ix.update()
    assert summary.files_indexed == FILES and summary.points > 100
    yield ix
    ix.close()


def test_search_defaults_to_code_and_takes_content_language_and_path(index: CodeIndex) -> None:
    hits = index.search("greet a user by name", limit=10)
    assert hits and all(h.payload["language"] not in ("markdown", "yaml") for h in hits)
    docs = index.search("greet a user by name", limit=3, content="docs")
    assert [h.path for h in docs] == ["docs/guide.md"]
    assert index.search("greeting", limit=3, content="config")[0].path == "config.yaml"
    assert {h.payload["language"] for h in index.search("greet", limit=5, language="rust")} == {"rust"}
    assert {h.path for h in index.search("greet", limit=5, path="src/sample.py")} == {"src/sample.py"}
    assert all(h.path.startswith("src/") for h in index.search("greet", limit=8, path="src"))
    groups = index.search_groups("greet", group_by="language", limit=3)
    assert len(groups) == 3 and len({g.value for g in groups}) == 3


def test_related_finds_the_same_idea_in_other_files(index: CodeIndex) -> None:
    anchor = index.structure_at("src/sample.py", 17)  # inside Greeter.greet
    assert anchor.payload["name"] == "greet"
    hits = index.related("src/sample.py", 17, limit=5)
    assert hits and all(h.path != "src/sample.py" for h in hits)
    assert sum(h.payload["name"] in ("greet", "hello") for h in hits) >= 3


def test_read_is_bounded_and_confined_to_the_tree(index: CodeIndex) -> None:
    lines = index.read("src/sample.py", 1, 3)
    assert (lines.line_from, lines.line_to, len(lines.lines)) == (1, 3, 3)
    whole = index.read("long.py", 1, 5000)
    assert len(whole.lines) == MAX_READ_LINES and whole.total_lines == 1000 and whole.line_to == MAX_READ_LINES
    (index.root / "notes.txt").write_text("not indexed\n")
    for bad in ("../x", "/etc/passwd", "notes.txt", "src/../../x", "", "src/missing.py"):
        with pytest.raises(QueryError):
            index.read(bad)
    with pytest.raises(QueryError):
        index.read("src/sample.py", 5, 2)


def test_status_counts_what_is_indexed(index: CodeIndex) -> None:
    status = index.status()
    assert status.files == FILES and status.structures == index.store.count("code")
    assert status.languages["python"] >= 6 and status.root == str(index.root) and status.indexing is None


def test_bad_requests_are_query_errors(index: CodeIndex) -> None:
    for call in (lambda: index.search("x", content="pictures"), lambda: index.search("x", filters=["nope"]),
                 lambda: index.search("x", mode="psychic"), lambda: index.search("x", language="klingon"),
                 lambda: index.related("src/sample.py", 0), lambda: index.related("nope.py", 3),
                 lambda: index.search("   ")):
        with pytest.raises(QueryError):
            call()


def test_open_index_finds_the_store_of_the_repository_around_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "pkg").mkdir()
    (root / "pkg" / "mail.py").write_text('def send_mail(to, body):\n    """Send an e-mail."""\n    return to, body\n')
    monkeypatch.chdir(root / "pkg")
    with semsearch.open_index() as ix:
        assert ix.root == root.resolve()
        ix.update()
        assert ix.search("send an email", limit=1)[0].payload["name"] == "send_mail"
    with semsearch.open_index(root / ".semsearch") as by_store:
        assert by_store.root == root.resolve()  # as the collection recorded it
        assert by_store.status().files == 1
