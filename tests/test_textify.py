"""The seed tutorial's textification."""

from semsearch.structures import Structure
from semsearch.textify import humanize, spell_identifiers, textify

# The tutorial's example structure, verbatim.
TUTORIAL = {
    "name": "await_ready_for_timeout",
    "signature": "fn await_ready_for_timeout (& self , timeout : Duration) -> bool",
    "code_type": "Function",
    "docstring": "= \" Return `true` if ready, `false` if timed out.\"",
    "line": 44,
    "line_from": 43,
    "line_to": 51,
    "context": {
        "module": "common",
        "file_path": "lib/collection/src/common/is_ready.rs",
        "file_name": "is_ready.rs",
        "struct_name": "IsReady",
        "snippet": "    pub fn await_ready_for_timeout(&self, timeout: Duration) -> bool {\n"
                   "        let mut is_ready = self.value.lock();\n    }\n",
    },
}


def test_tutorial_example() -> None:
    assert textify(Structure.from_dict(TUTORIAL)) == (
        "Function Await ready for timeout that does Return true if ready false if timed out "
        "defined as Fn await ready for timeout self timeout duration bool "
        "defined in struct Is ready module common file is_ready rs"
    )


def test_humanize_camel_and_snake() -> None:
    assert humanize("HTTPException") == "Http exception"
    assert humanize("countIndexedPoints") == "Count indexed points"
    assert humanize("count_indexed_points") == "Count indexed points"


def test_without_docstring_or_struct() -> None:
    data = {**TUTORIAL, "docstring": None, "context": {**TUTORIAL["context"], "struct_name": None}}
    text = textify(Structure.from_dict(data))
    assert "that does" not in text and "defined in struct" not in text
    assert text.endswith("module common file is_ready rs")
    with_body = textify(Structure.from_dict(data), with_body=True)
    assert with_body.endswith("module common file is_ready rs uses timeout duration mut is ready value lock")


def test_identifiers_are_spelt_as_names_are() -> None:
    assert spell_identifiers("ZodError") == "zod error"
    assert spell_identifiers("count_indexed_points()") == "count indexed points()"
    assert spell_identifiers("$ZodType") == "zod type"
    assert spell_identifiers("Client.get") == "client.get"
