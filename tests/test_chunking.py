"""Each supported language: the exact structures found in a small fixture.

Expected rows are (code_type, name, line_from, line_to, struct_name, docstring), 1-based
inclusive lines. Line windows ("Block") are checked separately.
"""

from pathlib import Path

import pytest

from semsearch.chunking import chunk_source
from semsearch.chunking.flags import is_generated
from semsearch.chunking.languages import SPECS, detect_language

FIXTURES = Path(__file__).parent / "fixtures" / "languages"

EXPECTED = {
    "Sample.cs": [
        ('Module', 'Demo', 3, 25, None, None),
        ('Class', 'Account', 6, 15, None, 'A bank account.'),
        ('Method', 'Deposit', 9, 12, 'Account', 'Deposits money.'),
        ('Method', 'Account', 14, 14, 'Account', None),
        ('Interface', 'IStore', 17, 20, None, None),
        ('Method', 'Count', 19, 19, 'IStore', None),
        ('Struct', 'Money', 22, 22, None, None),
        ('Enum', 'Kind', 24, 24, None, None),
    ],
    "Sample.java": [
        ('Class', 'Counter', 4, 16, None, 'A simple counter.'),
        ('Method', 'Counter', 8, 10, 'Counter', 'Makes a counter.'),
        ('Method', 'increment', 13, 15, 'Counter', 'Adds one.'),
        ('Interface', 'Shape', 18, 20, None, None),
        ('Method', 'area', 19, 19, 'Shape', None),
        ('Enum', 'Level', 22, 22, None, None),
    ],
    "sample.c": [
        ('Struct', 'point', 4, 7, None, 'A point in 2D.'),
        ('Enum', 'color', 9, 9, None, None),
        ('Function', 'add', 12, 14, None, 'Adds two ints.'),
        ('Function', 'name_of', 16, 18, None, None),
    ],
    "sample.cpp": [
        ('Module', 'geo', 3, 20, None, None),
        ('Class', 'Circle', 6, 14, None, 'A circle.'),
        ('Method', 'area', 9, 11, 'Circle', 'Area of the circle.'),
        ('Struct', 'Pair', 16, 18, None, None),
        ('Function', 'geo_area', 22, 24, None, None),
        ('Method', 'size', 26, 28, 'Widget', None),
    ],
    "sample.go": [
        ('Struct', 'Point', 4, 6, None, 'Point is a stored vector.'),
        ('Interface', 'Reader', 8, 10, None, None),
        ('Method', 'Count', 13, 15, 'Store', 'Count returns the number of points.'),
        ('Function', 'NewStore', 18, 20, None, 'NewStore makes a store.'),
    ],
    "sample.js": [
        ('Function', 'add', 2, 4, None, 'Adds numbers.'),
        ('Class', 'Widget', 7, 12, None, 'A widget.'),
        ('Method', 'render', 9, 11, 'Widget', 'Renders it.'),
        ('Function', 'double', 14, 14, None, None),
        ('Function', 'load', 16, 18, None, None),
    ],
    "sample.kt": [
        ('Class', 'User', 4, 4, None, 'A user of the system.'),
        ('Interface', 'Repo', 6, 8, None, None),
        ('Method', 'find', 7, 7, 'Repo', None),
        ('Class', 'MemoryRepo', 11, 16, None, 'Storage in memory.'),
        ('Method', 'find', 13, 15, 'MemoryRepo', 'Finds a user.'),
        ('Object', 'Registry', 18, 20, None, None),
        ('Method', 'all', 19, 19, 'Registry', None),
        ('Function', 'main', 22, 24, None, None),
    ],
    "sample.lua": [
        ('Method', 'add', 5, 7, 'M', 'Adds two numbers.'),
        ('Method', 'method', 9, 11, 'M', None),
        ('Function', 'helper', 13, 15, None, None),
    ],
    "sample.php": [
        ('Class', 'UserRepo', 5, 12, None, 'Repository of users.'),
        ('Method', 'find', 8, 11, 'UserRepo', 'Finds by id.'),
        ('Interface', 'Cache', 14, 17, None, None),
        ('Method', 'get', 16, 16, 'Cache', None),
        ('Trait', 'Loggable', 19, 22, None, None),
        ('Method', 'log', 21, 21, 'Loggable', None),
        ('Function', 'hello', 25, 28, None, 'Say hello.'),
    ],
    "sample.py": [
        ('Function', 'top_level', 5, 8, None, 'Add two numbers.'),
        ('Class', 'Greeter', 11, 21, None, 'Says hello.'),
        ('Method', 'greet', 16, 18, 'Greeter', 'Return a greeting.'),
        ('Method', 'wait', 20, 21, 'Greeter', None),
    ],
    "sample.rb": [
        ('Module', 'TextTools', 2, 14, None, 'Helpers for text.'),
        ('Class', 'Formatter', 4, 13, None, 'A formatter.'),
        ('Method', 'format', 6, 8, 'Formatter', 'Formats a line.'),
        ('Method', 'build', 10, 12, 'Formatter', None),
        ('Function', 'top', 16, 18, None, None),
    ],
    "sample.rs": [
        ('Struct', 'IsReady', 4, 6, None, 'A readiness flag.'),
        ('Impl', 'IsReady', 8, 13, None, None),
        ('Method', 'await_ready_for_timeout', 10, 12, 'IsReady', 'Return `true` if ready, `false` if timed out.'),
        ('Enum', 'State', 15, 18, None, None),
        ('Trait', 'Check', 20, 23, None, None),
        ('Method', 'check', 22, 22, 'Check', 'Checks it.'),
        ('Module', 'inner', 25, 27, None, None),
        ('Function', 'helper', 26, 26, None, None),
        ('Function', 'free', 29, 31, None, None),
    ],
    "sample.scala": [
        ('Trait', 'Shape', 4, 6, None, 'A shape.'),
        ('Method', 'area', 5, 5, 'Shape', None),
        ('Class', 'Circle', 9, 12, None, 'A circle.'),
        ('Method', 'area', 11, 11, 'Circle', 'Its area.'),
        ('Object', 'Main', 14, 18, None, None),
        ('Method', 'main', 15, 17, 'Main', None),
    ],
    "sample.sh": [
        ('Function', 'greet', 5, 7, None, 'Prints a greeting.'),
        ('Function', 'cleanup', 9, 11, None, None),
    ],
    "sample.swift": [
        ('Protocol', 'Vehicle', 4, 6, None, 'A vehicle.'),
        ('Method', 'drive', 5, 5, 'Vehicle', None),
        ('Class', 'Car', 9, 16, None, 'A car.'),
        ('Method', 'drive', 11, 13, 'Car', 'Drives it.'),
        ('Method', 'init', 15, 15, 'Car', None),
        ('Struct', 'Point', 18, 20, None, None),
        ('Enum', 'Direction', 22, 24, None, None),
        ('Function', 'greet', 26, 28, None, None),
    ],
    "sample.ts": [
        ('Interface', 'User', 2, 5, None, 'Shape of a user.'),
        ('Method', 'greet', 4, 4, 'User', None),
        ('Enum', 'Color', 7, 10, None, None),
        ('Class', 'Service', 12, 17, None, None),
        ('Method', 'find', 14, 16, 'Service', 'Finds a user.'),
        ('Function', 'total', 19, 21, None, None),
        ('Type', 'Id', 23, 23, None, None),
    ],
    "sample.tsx": [
        ('Function', 'Button', 4, 6, None, 'Shows a button.'),
        ('Function', 'Card', 8, 10, None, None),
    ],
    # Elixir defines with calls; the @doc above a def (past its @spec) is its docstring.
    "sample.ex": [
        ('Module', 'Router', 1, 22, None, 'Routes requests to plugs.'),
        ('Function', 'match', 11, 13, None, 'Matches a path against the routes.'),
        ('Function', 'helper', 15, 15, None, None),
        ('Function', 'guarded', 17, 17, None, None),
        ('Macro', 'route', 19, 21, None, None),
        ('Protocol', 'Size', 24, 27, None, None),
        ('Method', 'size', 26, 26, 'Size', 'The size.'),
        ('Impl', 'Size', 29, 31, None, None),
        ('Method', 'size', 30, 30, 'Size', None),
    ],
    # Plain constants (`const std = @import("std")`, `const x = 5`) stay windows; a test is marked one.
    "sample.zig": [
        ('Struct', 'Router', 4, 11, None, 'A router.'),
        ('Method', 'match', 8, 10, 'Router', 'Match a path.'),
        ('Enum', 'Kind', 13, 13, None, None),
        ('Function', 'main', 15, 17, None, None),
        ('Function', 'router matches', 21, 23, None, None),
    ],
    # A function's type signature and all its equations are one structure.
    "Sample.hs": [
        ('Type', 'Router', 4, 4, None, 'A router.'),
        ('Type', 'Path', 6, 6, None, None),
        ('Function', 'findRoute', 9, 11, None, 'Find the route.'),
        ('Function', 'main', 13, 13, None, None),
        ('Class', 'MonadRoute', 15, 17, None, None),
        ('Method', 'route', 16, 17, 'MonadRoute', None),
        ('Impl', 'Router', 19, 20, None, None),
        ('Method', 'show', 20, 20, 'Router', None),
        ('Type', 'Handler', 22, 22, None, None),
    ],
}


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_structures(file_name: str) -> None:
    text = (FIXTURES / file_name).read_text()
    found = [
        (s.code_type, s.name, s.line_from, s.line_to, s.context.struct_name, s.docstring)
        for s in chunk_source(f"pkg/{file_name}", text)
        if s.code_type != "Block"
    ]
    assert found == EXPECTED[file_name]


def test_every_required_language_has_a_fixture() -> None:
    required = {"python", "rust", "go", "javascript", "typescript", "tsx", "java", "c", "cpp",
                "csharp", "ruby", "php", "kotlin", "scala", "swift", "lua", "bash", "elixir", "zig", "haskell"}
    covered = {detect_language(name, "") for name in EXPECTED}
    assert required <= covered <= set(SPECS)


def test_record_shape_and_paths() -> None:
    text = (FIXTURES / "sample.rs").read_text()
    record = next(s for s in chunk_source("lib/collection/src/common/sample.rs", text)
                  if s.name == "await_ready_for_timeout").to_dict()
    assert record["signature"] == "pub fn await_ready_for_timeout(&self, timeout: Duration) -> bool"
    assert record["line"] == 10 and record["language"] == "rust"
    assert record["context"]["module"] == "common"
    assert record["context"]["file_path"] == "lib/collection/src/common/sample.rs"
    assert record["context"]["file_name"] == "sample.rs"
    assert record["context"]["snippet"].splitlines()[0].strip().startswith("pub fn await_ready_for_timeout")
    assert record["context"]["snippet"].splitlines()[-1].strip() == "}"


def test_a_module_doc_is_not_its_first_function_doc() -> None:
    text = 'defmodule A do\n  @moduledoc "About A."\n  def f(x), do: x\nend\n'
    assert [(s.name, s.docstring) for s in chunk_source("a.ex", text) if s.code_type != "Block"] == \
        [("A", "About A."), ("f", None)]


def test_signatures_say_what_a_caller_sees() -> None:
    signatures = {(f, s.name): s.signature for f in ("sample.ex", "sample.zig", "Sample.hs")
                  for s in chunk_source(f, (FIXTURES / f).read_text()) if s.code_type != "Block"}
    assert signatures[("Sample.hs", "findRoute")] == "findRoute :: Router -> Path -> Maybe Route"
    assert signatures[("sample.ex", "match")] == "def match(conn, path)"
    assert signatures[("sample.ex", "guarded")] == "def guarded(x) when x > 0, do: x"
    assert signatures[("sample.zig", "match")] == "fn match(self: *Router, path: []const u8) ?Route"


def test_a_qualified_or_generic_type_is_named_as_a_query_names_it() -> None:
    def named(path: str, text: str) -> list[tuple[str, str, str | None]]:
        return [(s.code_type, s.name, s.context.struct_name) for s in chunk_source(path, text) if s.code_type != "Block"]

    ruby = "class Rack::Response\n  def finish\n  end\nend\n"
    assert named("lib/response.rb", ruby) == [("Class", "Response", None), ("Method", "finish", "Response")]
    rust = "impl<K, V> Map<K, V> {\n    fn get(&self) {}\n}\nimpl fmt::Display for error::Kind {}\n"
    assert named("src/map.rs", rust) == [("Impl", "Map", None), ("Method", "get", "Map"), ("Impl", "Kind", None)]
    cpp = "template<typename T>\nvoid basic_json<T>::parse(int x) {\n}\nbool operator<=>(A a, A b) { return 0; }\n"
    assert named("src/json.cpp", cpp) == [("Method", "parse", "basic_json"), ("Function", "operator<=>", None)]
    signatures = [s.signature for s in chunk_source("lib/response.rb", ruby)]
    assert "class Rack::Response" in signatures  # the signature keeps the whole


def definitions(path: str, text: str) -> list[tuple[str, str, str | None, int, int, str | None]]:
    """What the chunker defines in a file, head windows left out: (type, name, enclosing type, lines, doc)."""
    return [(s.code_type, s.name, s.context.struct_name, s.line_from, s.line_to, s.docstring)
            for s in chunk_source(path, text) if s.code_type != "Block"]


def test_cpp_macros_and_headers_named_dot_h() -> None:
    text = ("NLOHMANN_JSON_NAMESPACE_BEGIN\n"
            "template<typename T>\n"
            "class box : public T\n"
            "{\n"
            "  public:\n"
            "    void set(int x) noexcept\n"
            "    {\n"
            "        v = x;\n"
            "    }\n"
            "  private:\n"
            "    int v;\n"
            "};\n"
            "NLOHMANN_JSON_NAMESPACE_END\n"
            "class SPDLOG_API logger {\n"
            "  public:\n"
            "    void flush() { sink_->flush(); }\n"
            "};\n")
    found = [(s.code_type, s.name, s.context.struct_name, s.line_from, s.line_to)
             for s in chunk_source("include/box.h", text) if s.code_type != "Block"]
    assert found == [("Class", "box", None, 2, 12), ("Method", "set", "box", 6, 9),
                     ("Class", "logger", None, 14, 17), ("Method", "flush", "logger", 16, 16)]
    c = ("YAML_DECLARE(int)\nyaml_parser_parse(yaml_parser_t *parser)\n{\n    return 1;\n}\n\n"
         "Q_DECLARE_METATYPE(Foo)\nstatic int\nstate_machine(yaml_parser_t *parser)\n{\n    return 0;\n}\n")
    assert [(s.code_type, s.name, s.line_from, s.line_to) for s in chunk_source("src/parser.c", c)
            if s.code_type != "Block"] == [("Function", "yaml_parser_parse", 1, 5),  # the macro is its return type
                                           ("Function", "state_machine", 8, 12)]
    snippet = next(s for s in chunk_source("include/box.h", text) if s.name == "set").context.snippet
    assert "void set(int x) noexcept" in snippet  # snippets are the file's own text
    assert detect_language("include/box.h", text) == "cpp"
    assert detect_language("src/list.h", "struct node { int v; struct node *next; };\nint len(struct node *n);\n") == "c"


def test_functions_assigned_at_the_top_of_a_javascript_module() -> None:
    text = ("/**\n * Send a response.\n */\n"
            "res.send = function send(body) {\n  return this;\n};\n\n"
            "exports.compile = function (fn) {\n  return fn;\n};\n\n"
            "Router.prototype.route = function route(path) {\n  return new Route(path);\n};\n\n"
            "export const ZodType = $constructor('ZodType', (inst, def) => {\n  inst.parse = (data) => data;\n});\n")
    found = definitions("lib/response.js", text)
    assert found == [("Method", "send", "res", 4, 6, "Send a response."),
                     ("Function", "compile", None, 8, 10, None),
                     ("Method", "route", "Router", 12, 14, None)]  # not a callback's own assignments


def test_lua_functions_assigned_to_a_table_field_at_the_top_of_a_module() -> None:
    lua = ("local MiniAi = {}\nlocal H = {}\n\n--- Module setup\nMiniAi.setup = function(config)\n"
           "  H.cache = function() return 1 end\nend\n\nMiniAi.gen_spec = {}\n\n"
           "MiniAi.gen_spec.argument = function(opts)\n  return opts\nend\n\nlocal pick = function(x) return x end\n"
           "\nreturn MiniAi\n")
    found = definitions("lua/mini/ai.lua", lua)
    assert found == [("Method", "setup", "MiniAi", 5, 7, "Module setup"),  # H.cache inside it is its own business
                     ("Method", "argument", "gen_spec", 11, 13, None), ("Function", "pick", None, 15, 15, None)]


def test_haskell_definitions_named_by_an_operator() -> None:
    hs = ("-- | The value at a key.\n(.:) :: Object -> Key -> Parser a\n(.:) = explicitParseField parseJSON\n\n"
          "(.:?) :: Object -> Key -> Parser (Maybe a)\nobj .:? key = explicitParseFieldMaybe obj key\n\n"
          "data a :<|> b = a :<|> b\n    deriving (Eq)\n\n"
          "instance Bifunctor (:<|>) where\n    bimap f g ~(a :<|> b) = f a :<|> g b\n\n"
          "type family Elem x xs where\n  Elem x '[] = 'False\n")
    found = definitions("Data/Aeson.hs", hs)
    assert found == [("Function", ".:", None, 2, 3, "The value at a key."),  # named as a query writes it
                     ("Function", ".:?", None, 5, 6, None),  # defined infix, with its signature
                     ("Type", ":<|>", None, 8, 9, None), ("Impl", ":<|>", None, 11, 12, None),
                     ("Method", "bimap", ":<|>", 12, 12, None), ("Type", "Elem", None, 14, 15, None)]


def test_lua_functions_in_a_module_table() -> None:
    lua = ("local utils = {\n  split = require 'pl.utils'.split,\n\n  -- Shuffles in place.\n"
           "  shuffle = function(t, seed)\n    return t\n  end,\n  opts = { hook = function() end },\n}\n\n"
           "local function run()\n  local t = { step = function() end }\nend\n\n"
           "return {\n  exit = function(code)\n    os.exit(code)\n  end,\n}\n")
    found = definitions("busted/utils.lua", lua)
    assert found == [("Method", "shuffle", "utils", 5, 7, "Shuffles in place."),  # not a nested table's hook
                     ("Function", "run", None, 11, 13, None),  # nor a table built inside a function
                     ("Function", "exit", None, 16, 18, None)]


def test_a_function_held_by_a_class_field_is_a_method() -> None:
    ts = ("class Form {\n  private count = 1;\n  /** Submits it. */\n  submit = async (e: Event): Promise<void> => {\n"
          "    send(e);\n  };\n}\n")
    found = definitions("src/form.ts", ts)
    assert found == [("Class", "Form", None, 1, 7, None), ("Method", "submit", "Form", 4, 6, "Submits it.")]
    js = "class Form {\n  count = 1;\n  submit = (e) => {\n    send(e);\n  };\n}\n"
    assert [(s.code_type, s.name) for s in chunk_source("src/form.js", js)] == [("Class", "Form"), ("Method", "submit")]


def test_tests_inside_a_source_file_are_marked() -> None:
    text = ("/// Parses.\npub fn parse(s: &str) -> u8 { 0 }\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
            "    #[test]\n    fn parses_empty() {\n        assert_eq!(parse(\"\"), 0);\n    }\n\n    fn helper() {}\n}\n\n"
            "#[tokio::test]\nasync fn runs() {}\n\n#[test_case(1)]\nfn cased(x: u8) {}\n\n#[bench]\nfn speed(b: &mut Bencher) {}\n\n"
            "#[inline]\nfn fast() {}\n")
    zig = {s.name: s.to_dict().get("test", False) for s in chunk_source("x.zig", (FIXTURES / "sample.zig").read_text())
           if s.code_type != "Block"}
    assert zig["router matches"] is True and zig["main"] is False
    marked = {s.name: s.to_dict().get("test", False) for s in chunk_source("src/lib.rs", text) if s.code_type != "Block"}
    assert marked == {"parse": False, "tests": True, "parses_empty": True, "helper": True, "runs": True,
                      "cased": True, "speed": True, "fast": False}


def test_code_outside_structures_becomes_windows() -> None:
    text = (FIXTURES / "sample.py").read_text()
    blocks = [(s.line_from, s.line_to) for s in chunk_source("sample.py", text) if s.code_type == "Block"]
    assert blocks == [(1, 2), (24, 24)]  # module docstring + import; the trailing call


def test_file_without_grammar_is_windows_only() -> None:
    text = "\n".join(f"line {i} of the notes about search" for i in range(1, 101)) + "\n"
    records = chunk_source("docs/notes.md", text)
    assert {r.code_type for r in records} == {"Block"}
    assert records[0].line_from == 1 and records[-1].line_to == 100
    covered = [line for r in records for line in range(r.line_from, r.line_to + 1)]
    assert covered == list(range(1, 101))  # every line exactly once
    assert all(r.line_to - r.line_from < 60 for r in records)


def test_class_snippet_is_an_outline_of_its_members() -> None:
    text = (FIXTURES / "sample.py").read_text()
    greeter = next(s for s in chunk_source("sample.py", text) if s.name == "Greeter")
    assert "def greet(self, name: str) -> str:" in greeter.context.snippet
    assert 'return f"{self.greeting} {name}"' not in greeter.context.snippet
    assert (greeter.line_from, greeter.line_to) == (11, 21)


def test_long_function_is_split_into_parts_that_keep_the_signature() -> None:
    body = "".join(f"    total += {i}\n" + ("\n" if i % 10 == 9 else "") for i in range(150))
    text = "def accumulate(total):\n    \"\"\"Sum a lot.\"\"\"\n" + body + "    return total\n"
    parts = [s for s in chunk_source("acc.py", text) if s.name == "accumulate"]
    assert len(parts) >= 3
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert all(p.parts == len(parts) for p in parts)
    assert parts[0].line_from == 1 and parts[-1].line_to == text.count("\n")
    for before, after in zip(parts, parts[1:]):
        assert after.line_from == before.line_to + 1  # contiguous, no overlap
    for p in parts[1:]:
        assert p.context.snippet.startswith("def accumulate(total):")
        assert p.docstring == "Sum a lot."


def test_syntax_errors_and_deep_nesting_do_not_raise() -> None:
    broken = "def ok():\n    return 1\n\ndef broken(:\n    pass\n"
    assert any(s.name == "ok" for s in chunk_source("b.py", broken))
    deep = "data = " + "[1, " * 3000 + "]" * 3000 + "\n"
    assert chunk_source("deep.py", deep)
    nested_js = "function f() {" * 500 + "}" * 500
    assert chunk_source("deep.js", nested_js)


def test_language_detection() -> None:
    assert detect_language("a/b.tsx", "") == "tsx"
    assert detect_language("bin/tool", "#!/usr/bin/env python3\nprint(1)\n") == "python"
    assert detect_language("run", "#!/bin/bash\necho\n") == "bash"
    assert detect_language("Dockerfile", "") == "dockerfile"
    assert detect_language("LICENSE", "MIT") == "text"


def test_generated_and_reexport_only_files_are_flagged_on_every_structure() -> None:
    generated = chunk_source("pb/x.pb.go", "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage pb\n\n"
                                           "func (x *Msg) Reset() {\n\t*x = Msg{}\n}\n")
    assert generated and all(s.to_dict().get("generated") is True for s in generated)
    amalgamation = chunk_source("sqlite3.c", "/*\n** This file is an amalgamation of many separate C source files\n"
                                             "*/\nint sqlite3_open(const char *name) {\n  return 0;\n}\n")
    assert amalgamation and all(s.to_dict().get("generated") is True for s in amalgamation)
    for head in ("# Generated by the protocol buffer compiler.  DO NOT EDIT!\n# source: a.proto\n",
                 "/**\n * Autogenerated by Thrift Compiler (0.13.0)\n *\n * DO NOT EDIT UNLESS YOU ARE SURE\n */\n",
                 "/* automatically generated by rust-bindgen 0.69.4 */\n",
                 "/*\n * NOTE: This class is auto generated by OpenAPI Generator.\n * Do not edit the class manually.\n */\n",
                 "/* Generated by Cython 3.1.4 */\n\n#ifndef PY_SSIZE_T_CLEAN\n",  # the C beside a .pyx in an sdist
                 "/* A lexical scanner generated by flex */\n", "/* A Bison parser, made by GNU Bison 3.8.2.  */\n"):
        assert is_generated(head), head
    assert not is_generated('"""Helpers. The docs are generated by sphinx from these docstrings."""\n')
    assert not is_generated("# This file was generated by a script; hand edits are fine.\n")
    barrel = chunk_source("src/index.ts", 'export * from "./a";\nexport { b, c } from "./b";\n')
    assert barrel and all(s.to_dict().get("reexport") is True for s in barrel)
    init = chunk_source("pkg/__init__.py", '"""Pkg."""\nfrom .a import (\n    x,\n    y,\n)\n__all__ = ["x", "y"]\n')
    assert init and all(s.to_dict().get("reexport") is True for s in init)
    code = chunk_source("pkg/__init__.py", "from .a import x\n\n\ndef helper():\n    return x\n")
    assert all("reexport" not in s.to_dict() and "generated" not in s.to_dict() for s in code)
    # a package's documentation is no re-export: a Go doc.go holds its doc comment and its clause only
    doc = chunk_source("doc.go", "// Package chi is a small router for HTTP services.\n//\n// It routes by path.\npackage chi\n")
    assert doc and all("reexport" not in s.to_dict() for s in doc)
    # an exported definition opens a body, not a list of names: a file of them is code
    for source in ('import cb from "./_cb.js";\n\nexport default function some(obj, test) {\n  return cb(obj, test);\n}\n',
                   'export interface Point {\n  x: number;\n}\nexport class Shape {\n  area(): number {\n    return 0;\n  }\n}\n'):
        module = chunk_source("src/some.ts", source)
        assert module and all("reexport" not in s.to_dict() for s in module), source
    listed = chunk_source("src/index.ts", 'export {\n  a,\n  b,\n} from "./a";\nexport type {\n  C,\n} from "./c";\n')
    assert listed and all(s.to_dict().get("reexport") is True for s in listed)
    plugins = chunk_source("all/all.go", 'package all\n\nimport (\n\t_ "example.com/a"\n\t_ "example.com/b"\n)\n')
    assert plugins and all(s.to_dict().get("reexport") is True for s in plugins)


def _head_doc(path: str, text: str) -> str | None:
    head = next(s for s in chunk_source(path, text) if s.code_type == "Block")
    assert head.line_from == 1 and head.extra.get("defines") is not None  # the window standing for the file
    return head.docstring


def test_a_licence_header_is_not_the_files_doc_text() -> None:
    licence = "Copyright 2020 The Authors.\nLicensed under the Apache License, Version 2.0.\n"
    go = "".join(f"// {line}\n" for line in licence.splitlines()) + (
        "\n// Package chi routes HTTP requests.\npackage chi\n\nimport \"net/http\"\n\nfunc Route() {}\n")
    assert _head_doc("chi.go", go) == "Package chi routes HTTP requests."
    java = "/*\n * " + licence.replace("\n", "\n * ") + "/\n\npackage com.example;\n\nimport java.util.List;\n\n" \
        "/** The main class. */\npublic class Main {\n  void run() {}\n}\n"
    assert _head_doc("Main.java", java) is None  # the class's Javadoc is the class's own
    python = "".join(f"# {line}\n" for line in licence.splitlines()) + \
        '"""Reading and writing settings."""\nimport os\n\n\ndef load():\n    return os.environ\n'
    assert _head_doc("settings.py", python) == "Reading and writing settings."
    own = "// Licence files: finding and reading them.\npackage licence\n\nfunc Find() {}\n"
    assert _head_doc("licence.go", own) == "Licence files: finding and reading them."
    xcode = "//\n//  Session.swift\n//\n//  Copyright (c) 2014 Alamofire Software Foundation\n//\n\nimport Foundation\n\n" \
        "public func request() {}\n"
    assert _head_doc("Session.swift", xcode) == "Session.swift"
    own_then_licence = '"""Reading and writing settings.\n\nCopyright 2019 The Authors, MIT licence.\n"""\nimport os\n\n\n' \
        'def load():\n    return os.environ\n'
    assert _head_doc("settings.py", own_then_licence) == "Reading and writing settings."


def test_a_banner_or_a_module_header_is_not_the_files_doc_text() -> None:
    curl = ("/" + "*" * 40 + "\n *                                  _   _ ____  _\n"
            " *  Project                     ___| | | |  _ \\| |\n *\n * Copyright (C) Daniel Stenberg\n *\n "
            + "*" * 40 + "/\n/* Parse a URL into its parts */\n#include <stdio.h>\n\nint parse(void) { return 0; }\n")
    assert _head_doc("lib/urlapi.c", curl) == "Parse a URL into its parts"
    unprefixed = "/*\n   Reads the configuration file.\n*/\n#include <stdio.h>\n\nint read(void) { return 0; }\n"
    assert _head_doc("lib/config.c", unprefixed) == "Reads the configuration file."
    haddock = ("{-# LANGUAGE OverloadedStrings #-}\n" + "-" * 40 + "\n-- |\n-- Module      :  XMonad.Core\n"
               "-- Copyright   :  (c) Spencer Janssen 2007\n-- License     :  BSD3-style (see LICENSE)\n--\n"
               "-- The 'X' monad, a state monad transformer over 'IO'.\n" + "-" * 40 + "\n\n"
               "module XMonad.Core (X) where\n\nx :: Int\nx = 1\n")
    assert _head_doc("src/XMonad/Core.hs", haddock) == "The 'X' monad, a state monad transformer over 'IO'."
    block = ("{-# LANGUAGE CPP #-}\n{- |\n   Module      : Text.Pandoc.Readers.Markdown\n   Copyright   : (C) 2006 J\n"
             "   Description : Markdown to Pandoc.\n\nConversion of markdown text to 'Pandoc' document.\n-}\n"
             "module Text.Pandoc.Readers.Markdown (readMarkdown) where\n\nreadMarkdown :: Int\nreadMarkdown = 1\n")
    assert _head_doc("src/Markdown.hs", block) == "Markdown to Pandoc.\nConversion of markdown text to 'Pandoc' document."


def test_an_apache_header_tags_and_art_are_not_doc_text() -> None:
    asf = ("/*\n * Licensed to the Apache Software Foundation (ASF) under one or more\n * contributor license "
           "agreements.  See the NOTICE file distributed with\n * this work for additional information.\n */\n"
           "package org.apache.commons.lang3;\n\npublic class StringUtils {\n  void run() {}\n}\n")
    assert _head_doc("StringUtils.java", asf) is None
    lua = "---\n-- @author Julien Danjou\n-- @copyright 2008 Julien Danjou\n-- Widget that shows the layout.\n" \
          "local M = {}\nfunction M.new() end\nreturn M\n"
    assert _head_doc("awful/widget/layout.lua", lua) == "Widget that shows the layout."
    expat = "/*\n       ___ \\/ /_\n      |_| XML parser\n*/\n#include <stdio.h>\nint parse(void) { return 0; }\n"
    assert _head_doc("lib/xmlparse.c", expat) == "XML parser"
    c = "/* =======MAIN===== */\nint main(void) { return 0; }\n/** \\brief Gets the names. */\nint names(void) { return 0; }\n"
    docs = {s.name: s.docstring for s in chunk_source("run.c", c) if s.code_type == "Function"}
    assert docs == {"main": None, "names": "Gets the names."}
    swift = "extension AVCaptureDevice.Format {\n    func supportsOutput() -> Bool { true }\n}\n"
    assert [(s.name, s.context.struct_name) for s in chunk_source("Format.swift", swift) if s.code_type != "Block"] \
        == [("Format", None), ("supportsOutput", "Format")]


def test_magic_comments_are_not_the_files_doc_text() -> None:
    ruby = "# frozen_string_literal: true\n\nrequire 'set'\n\nmodule Rack\n  def self.call(env)\n  end\nend\n"
    assert _head_doc("urlmap.rb", ruby) is None
    documented = "# frozen_string_literal: true\n# Routes requests by path.\n\nmodule Rack\n  def self.call(env)\n  end\nend\n"
    assert _head_doc("router.rb", documented) == "Routes requests by path."
    ts = "/* eslint-disable */\n// @ts-nocheck\n// The schema checks.\nimport { a } from './a';\n\nexport function check() {}\n"
    assert _head_doc("checks.ts", ts) == "The schema checks."
    python = "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\"\"\"Settings.\"\"\"\nimport os\n\n\ndef load():\n    pass\n"
    assert _head_doc("settings.py", python) == "Settings."


def test_zig_generic_types_hold_their_methods() -> None:
    # Zig's generic containers are functions returning a struct (std.ArrayList, clap's Parser):
    # the function is the type, and the returned struct's functions are its methods.
    text = ("/// A singly linked list of T.\n"
            "pub fn LinkedList(comptime T: type) type {\n"
            "    return struct {\n"
            "        const Self = @This();\n"
            "        head: ?*T = null,\n"
            "        /// Adds one at the front.\n"
            "        pub fn push(self: *Self, item: *T) void {\n"
            "            self.head = item;\n"
            "        }\n"
            "    };\n"
            "}\n"
            "\n"
            "pub fn max(comptime T: type, a: T, b: T) T {\n"
            "    return if (a > b) a else b;\n"
            "}\n")
    assert definitions("list.zig", text) == [
        ("Struct", "LinkedList", None, 2, 11, "A singly linked list of T."),
        ("Method", "push", "LinkedList", 7, 9, "Adds one at the front."),
        ("Function", "max", None, 13, 15, None),
    ]


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("lib.rs", "/// The crate's result.\npub type Result<T> = std::result::Result<T, Error>;\n"
               "impl Iterator for Bytes { type Item = u8; fn next(&mut self) -> Option<u8> { None } }\n",
     [("Type", "Result", None, 2, 2, "The crate's result."), ("Impl", "Bytes", None, 3, 3, None),
      ("Method", "next", "Bytes", 3, 3, None)]),
    ("json.hpp", "namespace nl {\n/// default specialization\nusing json = basic_json<>;\n"
                 "class basic_json { using value_t = int; void clear(); };\n}\n",
     [("Module", "nl", None, 1, 5, None), ("Type", "json", None, 3, 3, "default specialization"),
      ("Class", "basic_json", None, 4, 4, None)]),
    ("uv.h", "/* Handle types. */\ntypedef struct uv_loop_s uv_loop_t;\n"
             "typedef union LZ4_streamHC_u LZ4_streamHC_t;   /* incomplete type */\n"
             "/** Called with the data read. */\ntypedef int (*read_cb)(void *data, size_t size);\n"
             "typedef struct { int x; } point_t;\n",
     [("Type", "read_cb", None, 5, 5, "Called with the data read."),  # not the code above it
      ("Struct", "point_t", None, 6, 6, None)]),  # a struct's typedef is the struct's
    ("handler.go", "package x\n\n// Handler handles.\ntype Handler = func(int)\n",
     [("Type", "Handler", None, 4, 4, "Handler handles.")]),
    ("Job.kt", "package x\n\n/** Called on completion. */\ntypealias CompletionHandler = (Throwable?) -> Unit\n",
     [("Type", "CompletionHandler", None, 4, 4, "Called on completion.")]),
    ("Types.swift", "/// A completion.\npublic typealias Completion = (Int) -> Void\n",
     [("Type", "Completion", None, 2, 2, "A completion.")]),
    ("Api.cs", "namespace A {\n  public delegate void Handler(int x);\n}\n",
     [("Module", "A", None, 1, 3, None), ("Type", "Handler", None, 2, 2, None)]),
])
def test_type_aliases_are_definitions(path: str, text: str, expected: list[tuple]) -> None:
    # A module's alias is a name users ask for (anyhow's `Result`, nlohmann's `json`, libuv's `uv_read_cb`);
    # an impl's associated type (`type Item`) and a class's member alias belong to their owner.
    assert definitions(path, text) == expected


def test_a_definition_marked_deprecated_is_flagged_and_so_is_what_a_deprecated_class_holds() -> None:
    def flagged(path: str, text: str) -> dict[str, bool]:
        return {s.name: bool(s.to_dict().get("deprecated")) for s in chunk_source(path, text) if s.code_type != "Block"}

    assert flagged("A.java", "class A {\n    /** Old.\n     * @deprecated use {@link #b()} */\n    @Deprecated\n"
                             "    public int a() { return 1; }\n    public int b() { return 2; }\n}\n") \
        == {"A": False, "a": True, "b": False}
    assert flagged("Old.java", "@Deprecated\npublic class Old {\n    public void m() {}\n}\n") == {"Old": True, "m": True}
    assert flagged("m.py", 'class M:\n    @typing_extensions.deprecated("use model_dump")\n    def dict(self):\n'
                           '        return 1\n\n    def skip(self):\n        """Deprecated options are ignored."""\n\n'
                           '    def old(self):\n        """Return x."""\n        warnings.warn("use new", DeprecationWarning)\n\n'
                           '    def new(self, hash=None):\n        """Return y.\n\n        .. deprecated:: 24.1 *hash*\n        """\n'
                           '        if hash is not None:\n            warnings.warn("hash is deprecated", DeprecationWarning)\n') \
        == {"M": False, "dict": True, "skip": False, "old": True, "new": False}
    assert flagged("a.rs", '#[deprecated(since = "1.0", note = "use b")]\npub fn a() {}\n/// Doc.\npub fn b() {}\n') \
        == {"a": True, "b": False}
    assert flagged("a.go", "package a\n\n// A does a.\n//\n// Deprecated: use B.\nfunc A() {}\n\n// B does b.\nfunc B() {}\n") \
        == {"A": True, "B": False}
    assert flagged("a.ts", "/** @deprecated use b */\nexport function a() {}\nexport function b() {}\n") \
        == {"a": True, "b": False}
    assert flagged("C.cs", 'class C {\n    [Obsolete("use B")]\n    public void A() {}\n    public void B() {}\n}\n') \
        == {"C": False, "A": True, "B": False}
    assert flagged("a.swift", '@available(*, deprecated, message: "use b")\nfunc a() {}\nfunc b() {}\n') \
        == {"a": True, "b": False}
    assert flagged("m.ex", 'defmodule M do\n  @doc "Old."\n  @deprecated "Use b/0"\n  def a, do: 1\n\n'
                           '  @doc "New."\n  def b, do: 2\nend\n') == {"M": False, "a": True, "b": False}
    # a function named for deprecation is not itself deprecated
    assert flagged("w.py", "def deprecated(reason):\n    return reason\n") == {"deprecated": False}
    # an argument named `deprecated` described in a docstring (pydantic's `Field(deprecated=…)`) is not a mark
    assert flagged("f.py", 'def Field(default, deprecated=None):\n    """A field.\n\n    Args:\n'
                           '        deprecated: A deprecation message, shown when the field is accessed.\n    """\n') \
        == {"Field": False}
    # a doc that mentions the attribute in passing (serde's derive code) is not marked
    assert flagged("d.rs", "/// Determine if an `#[allow(deprecated)]` should be added:\n///   - `#[deprecated]`\n"
                           "fn should_allow_deprecated() -> bool { true }\n") == {"should_allow_deprecated": False}
    # C and C++ libraries' own deprecation macros, on the line the parser leaves above the definition
    assert flagged("str_cat.h", '// Old.\nABSL_DEPRECATED("Use absl::StrCat() instead")\n'
                                'inline std::string OldCat(int a) { return ""; }\n\n'
                                'inline std::string NewCat(int a) { return ""; }\n') == {"OldCat": True, "NewCat": False}
    assert flagged("d.cpp", 'class A {\n public:\n  [[deprecated("use g")]] void f() {}\n  void g() {}\n};\n') \
        == {"A": False, "f": True, "g": False}
    # Elixir: the attribute above a def without @doc, and the @doc metadata
    assert flagged("n.ex", 'defmodule N do\n  @deprecated "Use b/0"\n  def a, do: 1\n\n  @doc deprecated: "Use b/0"\n'
                           '  def c, do: 3\n\n  def b, do: 2\nend\n') == {"N": False, "a": True, "c": True, "b": False}
