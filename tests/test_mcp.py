"""`semsearch mcp` as an agent meets it: a real MCP client session from the SDK, over stdio."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

FIXTURES = Path(__file__).parent / "fixtures" / "languages"
SEMSEARCH = Path(sys.executable).with_name("semsearch")

RETRY = '''"""Network helpers."""


def retry_with_backoff(call, attempts=5, base_delay=0.1):
    """Call `call` until it succeeds, sleeping twice as long after each failure."""
    for attempt in range(attempts):
        try:
            return call()
        except OSError:
            time.sleep(base_delay * 2 ** attempt)
    raise RuntimeError("gave up")
'''

ADDED = '''

def parse_toml_settings(path):
    """Read the settings file written in TOML and return its tables as dictionaries."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES, root / "src")
    (root / "net.py").write_text(RETRY)
    (root / "README.md").write_text("# Demo\n\nA small tree for the MCP tests.\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for agents\n")
    (root / "link.txt").symlink_to(outside)
    return root


def text(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(block.text for block in result.content if hasattr(block, "text"))


async def until(client: Client, check, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    """Call check(client) until it returns something truthy (indexing runs in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check(client)
        if value or time.monotonic() > deadline:
            return value
        await anyio.sleep(0.5)


@pytest.mark.slow
def test_an_agent_session_over_stdio(tree: Path) -> None:
    params = StdioServerParameters(command=str(SEMSEARCH), args=["mcp", str(tree)], cwd=str(tree.parent),
                                   env={"SEMSEARCH_CACHE": os.environ["SEMSEARCH_CACHE"],
                                        "SEMSEARCH_VECTOR_CACHE": os.environ["SEMSEARCH_VECTOR_CACHE"]})

    async def session() -> None:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"search", "related", "read", "status"}
            search_schema = tools["search"].input_schema
            assert search_schema["required"] == ["query"]
            assert set(search_schema["properties"]) == {"query", "limit", "mode", "language", "path", "content", "repo"}
            assert search_schema["properties"]["limit"]["maximum"] == 50
            assert tools["search"].output_schema is not None and tools["search"].description

            async def indexed(c: Client):  # type: ignore[no-untyped-def]
                status = (await c.call_tool("status", {})).structured_content
                return status if status and status["indexing"]["state"] == "watching" else None

            status = await until(client, indexed)
            assert status, "the background index never finished"
            assert status["files"] >= 18 and status["structures"] > 100 and "python" in status["languages"]

            found = await client.call_tool("search", {"query": "retry a failing call with exponential backoff",
                                                       "limit": 3})
            assert not found.is_error
            first = found.structured_content["hits"][0]
            assert (first["path"], first["name"], first["line_from"]) == ("net.py", "retry_with_backoff", 4)
            assert text(found).startswith("net.py:4-11 Function retry_with_backoff")
            assert "README.md" not in text(found)  # content=code by default

            related = await client.call_tool("related", {"path": "src/sample.py", "line": 16, "limit": 3})
            assert not related.is_error
            hits = related.structured_content["hits"]
            assert hits and all(h["path"] != "src/sample.py" for h in hits)
            assert any(h["name"].endswith("greet") for h in hits)  # the other languages' greet()

            lines = await client.call_tool("read", {"path": "net.py", "line_from": 4, "line_to": 5})
            assert lines.structured_content["text"].startswith("def retry_with_backoff")
            for bad in ("../secret.txt", str(tree.parent / "secret.txt"), "link.txt", "src/../../secret.txt"):
                refused = await client.call_tool("read", {"path": bad})
                assert refused.is_error and "not for agents" not in text(refused), bad

            wrong = await client.call_tool("search", {"query": "x", "limit": 500})
            assert wrong.is_error and "limit" in text(wrong) and "Traceback" not in text(wrong)
            wrong = await client.call_tool("search", {"query": "x", "content": "binaries"})
            assert wrong.is_error
            wrong = await client.call_tool("related", {"path": "nope.py", "line": 1})
            assert wrong.is_error and "not in the index" in text(wrong)

            with (tree / "net.py").open("a") as f:
                f.write(ADDED)

            async def edit_found(c: Client):  # type: ignore[no-untyped-def]
                result = await c.call_tool("search", {"query": "parse_toml_settings", "limit": 1})
                hits = (result.structured_content or {}).get("hits") or []
                return hits if hits and hits[0]["name"] == "parse_toml_settings" else None

            hits = await until(client, edit_found)
            assert hits, "the edited file was not re-indexed during the session"
            assert hits[0]["path"] == "net.py" and hits[0]["line_from"] == 14

            assert not (await client.call_tool("status", {})).is_error  # still usable after the errors

    anyio.run(session)


def test_mcp_refuses_a_missing_root(cli, tmp_path: Path) -> None:
    result = cli("mcp", str(tmp_path / "nope"), ok=False)
    assert result.exit_code == 1 and "no such directory" in result.output


def test_compact_output_is_one_line_per_hit_and_a_few_lines_of_code() -> None:
    from semsearch.mcp_server import compact, hit_model
    from semsearch.hits import SearchHit

    snippet = "\n".join(f"line {n}" for n in range(1, 21))
    hit = SearchHit("id", 0.5, {"name": "run", "code_type": "Method", "line_from": 10, "line_to": 29,
                                "context": {"file_path": "a/b.py", "struct_name": "Job", "snippet": snippet}})
    model = hit_model(hit)
    assert model.name == "Job.run" and model.snippet.endswith("… (+16 lines)")
    out = compact([model], "the index is still being built")
    assert out.split("\n")[:3] == ["(the index is still being built)", "a/b.py:10-29 Method Job.run", "    line 1"]
    assert json.loads(model.model_dump_json())["kind"] == "Method"
    hit.payload["deprecated"] = True  # the chunker's mark: the agent is told to prefer the replacement
    assert compact([hit_model(hit)], None).split("\n")[0] == "a/b.py:10-29 Method Job.run [deprecated]"
    assert hit.to_json()["deprecated"] is True


def test_no_index_searches_a_shared_collection_as_it_is(cli, tree: Path, tmp_path: Path) -> None:
    """A team's index is kept by its own job: an agent's `mcp --no-index` reads it and writes nothing."""
    store = tmp_path / "team-store"
    cli("index", str(tree), "--store", str(store), "--lexical-only", "-q")
    (tree / "extra.py").write_text(ADDED)  # a local change the shared index has not seen
    params = StdioServerParameters(command=str(SEMSEARCH), args=["mcp", "--no-index", "--store", str(store)],
                                   cwd=str(tree), env={"SEMSEARCH_CACHE": os.environ["SEMSEARCH_CACHE"],
                                                       "SEMSEARCH_VECTOR_CACHE": os.environ["SEMSEARCH_VECTOR_CACHE"]})

    async def session() -> None:
        async with Client(params) as client:
            found = await client.call_tool("search", {"query": "retry_with_backoff", "limit": 1})
            assert not found.is_error and found.structured_content["hits"][0]["path"] == "net.py"
            await anyio.sleep(3)
            status = (await client.call_tool("status", {})).structured_content
            assert status["files"] >= 18 and (status.get("indexing") or {}).get("state") != "watching"
            missing = await client.call_tool("search", {"query": "parse_toml_settings", "limit": 3})
            assert all(h["path"] != "extra.py" for h in missing.structured_content["hits"])

    anyio.run(session)
    listed = json.loads(cli("search", "parse_toml_settings", "--store", str(store), "--json").stdout)
    assert all(h["path"] != "extra.py" for h in listed["hits"])  # nothing was written to the store
