"""The Query value: one analysis of a query, read by retrieval and ranking alike."""

import pytest

from semsearch.query import analyse


def test_an_identifier_query() -> None:
    q = analyse("ZodError")
    assert (q.kind, q.identifier, q.names, q.asked) == ("identifier", "ZodError", ("ZodError",), ())
    assert q.spelt == "zod error"  # the sentence model reads names as textify spells them
    assert q.words == ("zod", "error")
    bang = analyse("Rack::Request#params!")
    assert bang.identifier == "params!" and bang.names == ("params!", "params")
    for php in ("Twig\\Node\\Node", "\\Twig\\Node\\Node"):  # a PHP namespace path
        assert (analyse(php).kind, analyse(php).identifier) == ("identifier", "Node")
    for operator, name in ((".:", ".:"), ("(<|>)", "<|>"), (":<|>", ":<|>")):  # Haskell's, Scala's operators
        assert (analyse(operator).kind, analyse(operator).names) == ("identifier", (name,))
    assert analyse("?").identifier is None and analyse("a - b").kind == "topic"


def test_a_question_with_identifiers_inside() -> None:
    q = analyse("how does safeParse return a result, like `parse` but without throwing")
    assert q.kind == "question" and q.is_question
    assert q.identifier is None and q.asked == ("safeParse",) and q.names == ("safeParse",)
    assert q.spelt == q.text  # prose reaches the sentence model as written
    assert "result" in q.words and "how" not in q.words


def test_compared_identifiers_are_not_asked_for() -> None:
    q = analyse("This method is like `_.uniqBy` except that it's optimized for sorted arrays.")
    assert q.kind == "topic" and q.compared == ("uniqBy",) and q.asked == () and q.names == ()


@pytest.mark.parametrize(("text", "roles"), [
    ("tests for parsing a header", {"test"}),
    ("how are model fields collected internally", {"internal"}),
    ("v3 compatibility error types", {"compat"}),
    ("parse a header", set()),
    ("JUnit integration for kotlin.test assertions", set()),  # a package's name, not a request for tests
    ("helpers for testing.T", {"test"}),
])
def test_roles_a_query_asks_for(text: str, roles: set[str]) -> None:
    assert analyse(text).asks_for == roles


def test_languages_a_query_names() -> None:
    assert analyse("async runtime in Rust").languages == {"rust"}
    assert analyse("c++ string formatting and C# attributes").languages == {"cpp", "csharp"}
    assert analyse("go to the next token").languages == set()  # "go" is English before it is Go
