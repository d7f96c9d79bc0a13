"""The HTTP API against a real embedded store, through FastAPI's TestClient (real HTTP semantics)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from semsearch.api import create_app
from tests.conftest import build_demo_store

SNIPPET = 'def render_banner(title):\n    """Return the page banner."""\n    return "<script>alert(1)</script>" + title\n'


@pytest.fixture(scope="module")
def served(tmp_path_factory, inflection_src: Path):
    base = tmp_path_factory.mktemp("api")
    store, tree = build_demo_store(base, inflection_src)
    (base / "secret.txt").write_text("top secret\n")
    os.symlink(base / "secret.txt", tree / "leak.py")  # a symlink out of the root: never indexed, never served
    yield store, tree
    store.close()


@pytest.fixture(scope="module")
def client(served):
    return TestClient(create_app(served[0]))


def test_code_search(client) -> None:
    response = client.get("/api/search", params={"q": "return the plural form of a word", "limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "hybrid" and body["latency_ms"] > 0
    top = body["result"][0]
    assert top["name"] == "pluralize" and top["path"] == "inflection/__init__.py"
    assert {"line_from", "line_to", "signature", "language", "snippet", "overlap"} <= set(top)
    grouped = client.get("/api/search", params={"q": "plural", "group_by": "module", "group_size": 2}).json()
    assert all(len(g["hits"]) <= 2 for g in grouped["result"])
    filtered = client.get("/api/search", params={"q": "banner", "filter": "path:web.py"}).json()
    assert [h["path"] for h in filtered["result"]] == ["web.py"]


def test_record_search_with_filters_and_the_seed_alias(client) -> None:
    body = client.get("/api/search", params={"q": "wooden furniture", "collection": "startups",
                                             "filter": "city:Berlin", "neural": "true"}).json()
    assert body["mode"] == "neural"
    assert body["result"][0]["payload"]["name"] == "Oakline"
    assert {h["payload"]["city"] for h in body["result"]} == {"Berlin"}
    text = client.get("/api/search", params={"q": "wooden", "collection": "startups", "neural": "false"}).json()
    assert text["mode"] == "fulltext" and len(text["result"]) == 2
    first = text["result"][0]
    (start, end), = first["highlights"]["description"]
    assert first["payload"]["description"][start:end].lower() == "wooden"
    like = client.get("/api/similar", params={"collection": "startups", "id": first["id"]}).json()
    assert first["id"] not in [h["id"] for h in like["result"]]


@pytest.mark.parametrize("params, status, message", [
    ({"q": ""}, 422, None),
    ({"q": "\x1f"}, 422, "q: String should match pattern"),  # blank to Python (str.isspace), not to JSON Schema
    ({"q": " \ufeff "}, 422, "q: String should match pattern"),  # blank to JSON Schema, not to str.strip
    ({"q": "x" * 1001}, 422, None),
    ({"q": "x", "limit": 0}, 422, None),
    ({"q": "x", "limit": 101}, 422, None),
    ({"q": "x", "collection": "nope"}, 404, "no collection 'nope'"),
    ({"q": "x", "collection": "startups", "filter": "color:red"}, 404, "cannot filter on 'color'"),
    ({"q": "x", "filter": "language:cobolx"}, 404, "unknown language"),
    ({"q": "x", "mode": "psychic"}, 422, "mode: Input should be"),
    ({"q": "x", "filter": "' OR 1=1 --:x"}, 400, "bad field"),
    ({"q": "x", "group_by": "${jndi:ldap://x}"}, 422, "group_by: String should match pattern"),
    ({"q": "x", "filter": "nocolon"}, 400, "bad filter"),
])
def test_validation(client, params, status, message) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == status
    if message:
        assert message in response.json()["detail"]


def test_collections_and_health(client) -> None:
    listed = {c["name"]: c for c in client.get("/api/collections").json()}
    assert listed["code"]["kind"] == "code" and listed["code"]["points"] > 10
    assert listed["startups"]["filter_fields"] == ["city"] and listed["startups"]["modes"][0] == "hybrid"
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/openapi.json").json()["paths"]["/api/search"]


def test_file_serves_indexed_lines(client) -> None:
    body = client.get("/api/file", params={"path": "web.py", "start": 2, "end": 3}).json()
    assert body["lines"] == ['    """Return the page banner."""', '    return "<script>alert(1)</script>" + title']
    assert body["total_lines"] == 3 and (body["start"], body["end"]) == (2, 3)  # 3 lines, a final newline


@pytest.mark.parametrize("path", [
    "../secret.txt", "inflection/../../secret.txt", "/etc/passwd", "%2e%2e/secret.txt", "..%2fsecret.txt",
    "leak.py", "inflection//__init__.py", "inflection\\__init__.py", "missing.py", "",
])
def test_file_refuses_everything_outside_the_index(client, path: str) -> None:
    expected = 422 if path == "" else 404  # the schema asks for a path of at least one character
    assert client.get("/api/file", params={"path": path}).status_code == expected
    raw = client.get(f"/api/file?path={path}")  # also as the raw, encoded URL
    assert raw.status_code == expected
    assert "top secret" not in raw.text


def test_api_key_guards_every_route(served) -> None:
    guarded = TestClient(create_app(served[0], api_key="s3cret"))
    routes = ["/api/health", "/api/collections", "/api/search?q=plural", "/api/file?path=web.py",
              "/api/similar?collection=startups&id=x"]
    for route in routes:
        assert guarded.get(route).status_code == 401, route
        assert guarded.get(route, headers={"Authorization": "Bearer wrong"}).status_code == 401, route
    ok = guarded.get("/api/search?q=plural", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_cors_only_when_configured(served) -> None:
    plain = TestClient(create_app(served[0]))
    assert "access-control-allow-origin" not in plain.get("/api/health", headers={"Origin": "http://x.test"}).headers
    open_ = TestClient(create_app(served[0], cors_origins=["http://x.test"]))
    response = open_.get("/api/health", headers={"Origin": "http://x.test"})
    assert response.headers["access-control-allow-origin"] == "http://x.test"


def test_scores_say_what_they_are(client) -> None:
    records = client.get("/api/search", params={"q": "wooden furniture", "collection": "startups"}).json()
    assert records["score_kind"] == "rrf" and all(0 < h["score"] <= 2 / 60 + 1e-6 for h in records["result"])
    top = records["result"][0]
    assert top["payload"]["name"] == "Oakline" and top["relevance"] > 0.5  # its cosine: how near, for the page's bar
    assert client.get("/api/search", params={"q": "plural"}).json()["score_kind"] == "fused"
    assert client.get("/api/search", params={"q": "plural", "mode": "lexical"}).json()["score_kind"] == "bm25"
    assert client.get("/api/search", params={"q": "wooden", "collection": "startups",
                                             "mode": "neural"}).json()["score_kind"] == "cosine"


def test_collections_say_how_records_show_and_what_to_try(client, served) -> None:
    from tests.test_records import STARTUPS

    listed = {c["name"]: c for c in client.get("/api/collections").json()}
    assert listed["startups"]["display"] == {"title": "name", "link": "link", "image": "images", "alt": "alt",
                                             "labels": ["city"]}
    assert listed["code"]["display"] is None
    descriptions = " ".join(s["description"].lower() for s in STARTUPS)
    assert listed["startups"]["examples"] and all(e in descriptions for e in listed["startups"]["examples"])
    source = " ".join(path.read_text().lower() for path in served[1].rglob("*.py"))
    assert len(listed["code"]["examples"]) == 3 and all(e in source for e in listed["code"]["examples"])  # docstrings
