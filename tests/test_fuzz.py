"""Generated hostile input against every face: only documented errors, nothing lost.

Bounded and seeded (derandomized Hypothesis), so a CI run is fast and repeatable; the
10,000-request sweep is bench/fuzz.py.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import anyio
import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from semsearch.api import create_app
from semsearch.chunking import chunk_source
from semsearch.chunking.languages import EXTENSIONS
from semsearch.cli import app as cli_app
from semsearch.code_index import CodeIndex
from semsearch.indexer import Indexer
from semsearch.records.loader import RecordLoader
from semsearch.records.reader import RecordError, RecordFile
from semsearch.search import QueryError, parse_filters
from semsearch.store.edge import EdgeStore
from semsearch.vector_cache import VectorCache
from tests.conftest import build_demo_store

SEEDED = settings(derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
HOSTILE = ["' OR 1=1 --", "${jndi:ldap://x}", "../../etc/passwd", "%2e%2e%2f", "\u202e\u0000", "a" * 5000,
           "language", "language=", "=python", "context..module=x", "dir=/", "😀=😀", "-1", "1e309", "NaN",
           "null", "[]", "{}", "\\", "path:a\\b", "name:" + "x" * 2000, " ", "\t\n"]
text_or_hostile = st.one_of(st.text(max_size=80), st.sampled_from(HOSTILE))


@pytest.fixture(scope="module")
def demo(inflection_src: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store, tree = build_demo_store(tmp_path_factory.mktemp("fuzz"), inflection_src)
    yield store, tree
    store.close()


def snapshot(store: EdgeStore) -> dict[str, Any]:
    """Counts and a sample of points of every collection: what a refused request must leave as it was."""
    out = {}
    for name in store.collections():
        ids = sorted(h.id for h in store.scroll(name, []))
        sample = store.retrieve(name, ids[:: max(1, len(ids) // 20)])
        out[name] = (len(ids), sorted(json.dumps(p.payload, sort_keys=True) for p in sample))
    return out


def test_every_api_operation_holds_under_generated_requests(demo) -> None:  # type: ignore[no-untyped-def]
    store, _ = demo
    before = snapshot(store)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store))
    failures: dict[tuple[str, str], int] = {}
    requests = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(SEEDED, max_examples=100)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal requests
            requests += 1
            try:
                response = case.call_and_validate()  # every check: status codes, schemas, acceptance, …
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                for failure in getattr(exc, "exceptions", [exc]):
                    key = (operation.label, str(failure).splitlines()[0][:160])
                    failures[key] = failures.get(key, 0) + 1
                return
            if response.status_code >= 400:
                detail = response.json().get("detail")
                assert isinstance(detail, str) and detail.strip(), response.text

        run()
    assert not failures, "\n".join(f"{n} x {op}: {what}" for (op, what), n in failures.items())
    assert requests >= 300
    assert snapshot(store) == before  # nothing a request did changed the store


@settings(SEEDED, max_examples=300)
@given(st.lists(text_or_hostile, max_size=4))
def test_filter_parsing_gives_matches_or_one_query_error(items: list[str]) -> None:
    try:
        matches = parse_filters(items)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert all(m.key and m.value for m in matches)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


def _line(value: Any) -> bytes:
    return json.dumps(value).encode()


hostile_lines = st.one_of(
    json_values.map(_line),
    st.binary(max_size=60),
    st.sampled_from([b"\xef\xbb\xbf{\"name\": \"bom\"}", "{\"name\": \"utf16\"}".encode("utf-16"),
                     b"[" * 50_000 + b"]" * 50_000, b"{\"a\": " * 5000 + b"1" + b"}" * 5000,
                     b"{\"n\": 1e400}", b"{\"n\": 123456789012345678901234567890}", b"{\"n\": NaN}",
                     b"{\"name\": \"a\", \"name\": \"b\"}", b"\x00\x00\x00", b"{\"description\": \"\\ud800\"}"]),
)
GOOD = [{"name": f"good{i}", "description": f"a good record number {i} about wooden furniture", "city": "Berlin"}
        for i in range(3)]


@settings(SEEDED, max_examples=40)
@given(st.lists(hostile_lines, min_size=1, max_size=6), st.sampled_from(["jsonl", "json", "csv"]))
def test_reading_records_yields_records_or_line_errors_only(tmp_path_factory, lines: list[bytes],  # type: ignore[no-untyped-def]
                                                            fmt: str) -> None:
    path = tmp_path_factory.mktemp("records") / f"records.{fmt}"
    good = [json.dumps(r).encode() for r in GOOD]
    if fmt == "json":
        path.write_bytes(b"[" + b",".join(good) + b"," + b",".join(lines) + b"]")
    elif fmt == "csv":
        path.write_bytes(b"name,description,city\n" + b"\n".join(
            f"{r['name']},{r['description']},{r['city']}".encode() for r in GOOD) + b"\n" + b"\n".join(lines))
    else:
        path.write_bytes(b"\n".join(good + lines))
    items = list(RecordFile(path))
    records = [item for _, item in items if not isinstance(item, RecordError)]
    assert [r.get("name") for r in records[:3]] == ["good0", "good1", "good2"]  # the good ones come through
    for number, item in items:
        assert isinstance(number, int) and (isinstance(item, dict) or item.message)


def test_loading_hostile_records_keeps_the_good_ones_and_the_store(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    hostile = [b"[" * 50_000 + b"]" * 50_000, b"{\"description\": \"huge\", \"n\": 123456789012345678901234567890}",
               b"{\"description\": \"nan\", \"n\": NaN}", b"{\"description\": 5}", b"\xff\xfe\x00",
               b"{\"description\": \"deep\", \"d\": " + b"[" * 3000 + b"]" * 3000 + b"}"]
    path.write_bytes(b"\n".join([json.dumps(r).encode() for r in GOOD] + hostile) + b"\n")
    with EdgeStore(tmp_path / "store") as store:
        summary = RecordLoader(store, "mixed").load(path, index_fields=["city"])
        assert summary.loaded >= 3 and store.count("mixed") == summary.loaded
        names = {h.payload.get("name") for h in store.scroll("mixed")}
        assert {"good0", "good1", "good2"} <= names
        before = snapshot(store)
        with pytest.raises(Exception) as refused:  # noqa: PT011 - the strict load names the first bad line
            RecordLoader(store, "mixed").load(path, index_fields=["city"], strict=True)
        assert "mixed.jsonl:4:" in str(refused.value)  # the first bad line, by number
        assert snapshot(store) == before


SUFFIXES = sorted(EXTENSIONS)


@settings(SEEDED, max_examples=60)
@given(st.sampled_from(SUFFIXES), st.text(max_size=400) | st.binary(max_size=400).map(
    lambda b: b.decode("utf-8", errors="replace")))
def test_chunking_any_text_under_any_extension_gives_sane_structures(suffix: str, text: str) -> None:
    structures = chunk_source(f"pkg/file{suffix}", text)
    lines = max(1, text.count("\n") + 1)
    for s in structures:
        assert 1 <= s.line_from <= s.line_to <= lines and s.context.file_path == f"pkg/file{suffix}"


def test_a_tree_of_random_bytes_indexes_and_the_good_file_survives(tmp_path: Path) -> None:
    import random

    rng = random.Random(11)
    tree = tmp_path / "tree"
    tree.mkdir()
    texty = list(range(32, 127)) * 8 + [9, 10, 10, 10] + list(range(128, 256))  # mostly text, some invalid UTF-8
    for i, suffix in enumerate(SUFFIXES):
        alphabet = texty if i % 2 else list(range(256))
        (tree / f"junk{i}{suffix}").write_bytes(bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 3000))))
    (tree / "good.py").write_text('def ship_order(order):\n    """Send the order to the warehouse."""\n    return order\n')
    with EdgeStore(tmp_path / "store") as store:
        summary = Indexer(store, "code", cache=VectorCache(None)).index_tree(tree, lexical_only=True)
        walked = summary.walk
        assert walked.files + sum(walked.skipped.values()) == len(SUFFIXES) + 1 and walked.files > len(SUFFIXES) // 2
        assert not summary.errors
        index = CodeIndex(store, "code", tree, owns_store=False)
        assert index.search("ship_order", limit=1)[0].payload["name"] == "ship_order"


@pytest.fixture(scope="module")
def mcp_index(demo):  # type: ignore[no-untyped-def]
    store, tree = demo
    return CodeIndex(store, "code", tree, owns_store=False)


mcp_arguments = st.dictionaries(
    st.sampled_from(["query", "limit", "mode", "language", "path", "content", "line", "line_from", "line_to", "x"]),
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True), text_or_hostile,
              st.lists(st.integers(), max_size=2)),
    max_size=5)


@settings(SEEDED, max_examples=80)
@given(st.sampled_from(["search", "related", "read", "status"]), mcp_arguments)
def test_mcp_tools_answer_or_explain(mcp_index, tool: str, arguments: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    from mcp import Client

    from semsearch.mcp_server import build_server

    async def call() -> Any:
        async with Client(build_server(mcp_index)) as client:
            return await client.call_tool(tool, arguments)

    result = anyio.run(call)
    if result.is_error:
        message = "\n".join(getattr(block, "text", "") for block in result.content)
        # a crash would read only "Error executing tool <name>"; an anticipated error says why
        assert message.startswith(f"Error executing tool {tool}: ") and "Traceback" not in message, message


cli_runner = CliRunner()


@settings(SEEDED, max_examples=40)
@given(text_or_hostile, st.lists(text_or_hostile, max_size=2), st.integers(-5, 2000),
       st.sampled_from(["hybrid", "text", "lexical", "both", "bogus", ""]),
       st.sampled_from(["code", "docs", "config", "all", "images"]))
def test_cli_search_options_end_in_a_result_or_one_message(demo, query: str, filters: list[str], limit: int,  # type: ignore[no-untyped-def]
                                                           mode: str, content: str) -> None:
    store, _ = demo
    args = ["search", query or "x", "--store", store.location, "--limit", str(limit), "--mode", mode,
            "--content", content, "--json"]
    for item in filters:
        args += ["--filter", item]
    store.close()  # the CLI opens the store itself; the fixture's handle reopens on its next call
    result = cli_runner.invoke(cli_app, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.stderr.strip().startswith("semsearch:")


def test_printable_noise_everywhere_in_a_filter_is_a_message_not_a_crash(demo) -> None:  # type: ignore[no-untyped-def]
    store, tree = demo
    index = CodeIndex(store, "code", tree, owns_store=False)
    for ch in string.printable:
        try:
            index.search("plural", filters=[f"na{ch}me=pluralize"], limit=1)
        except QueryError:
            pass
