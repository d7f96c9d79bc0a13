"""Which language a file is in, and which tree-sitter nodes are structures in it.

One table per language: node type → code type. The extraction code is generic; the
few grammars whose nodes need a decision (Go type specs, Kotlin and Swift class kinds,
C declarators) are handled there by node type, not by language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # tree-sitter-language-pack name, also the `language` payload value
    definitions: dict[str, str]  # node type -> code_type
    # Line-comment markers and block-comment delimiters, for doc comments above structures.
    line_comments: tuple[str, ...] = ("//",)
    block_comments: tuple[tuple[str, str], ...] = (("/*", "*/"),)
    # Lines directly above a structure that belong to it (attributes, decorators).
    attribute_prefixes: tuple[str, ...] = ()
    # Node types that wrap a single definition and should give it their range.
    wrappers: frozenset[str] = field(default_factory=frozenset)


_JS_DEFS = {
    "function_declaration": "Function",
    "generator_function_declaration": "Function",
    "class_declaration": "Class",
    "method_definition": "Method",
    "variable_declarator": "Function",  # only when its value is a function (see extract)
    "assignment_expression": "Function",  # `res.send = function send(body) {…}`: the same
    "field_definition": "Method",  # `handle = (e) => {…}` in a class body: the same
}
_TS_DEFS = {
    **_JS_DEFS,
    "public_field_definition": "Method",
    "abstract_class_declaration": "Class",
    "interface_declaration": "Interface",
    "enum_declaration": "Enum",
    "type_alias_declaration": "Type",
    "method_signature": "Method",
    "abstract_method_signature": "Method",
    "internal_module": "Module",
}
_JS_WRAPPERS = frozenset({"export_statement", "lexical_declaration", "variable_declaration"})
_C_DEFS = {
    "function_definition": "Function",
    "struct_specifier": "Struct",
    "union_specifier": "Struct",
    "enum_specifier": "Enum",
    "type_definition": "Type",  # a typedef of a function pointer or a plain type; of a struct, the struct (treesitter.py)
}
_HASH = ("#",)

SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in [
        LanguageSpec("python", {"function_definition": "Function", "class_definition": "Class"},
                     line_comments=_HASH, block_comments=(), attribute_prefixes=("@",),
                     wrappers=frozenset({"decorated_definition"})),
        LanguageSpec("rust", {
            "function_item": "Function", "function_signature_item": "Function",
            "struct_item": "Struct", "union_item": "Struct", "enum_item": "Enum",
            "trait_item": "Trait", "impl_item": "Impl", "mod_item": "Module",
            "macro_definition": "Macro", "type_item": "Type",
        }, attribute_prefixes=("#[", "#!["),),
        LanguageSpec("go", {
            "function_declaration": "Function", "method_declaration": "Method",
            "type_spec": "Type", "type_alias": "Type",
        }, wrappers=frozenset({"type_declaration"})),
        LanguageSpec("javascript", _JS_DEFS, attribute_prefixes=("@",), wrappers=_JS_WRAPPERS),
        LanguageSpec("typescript", _TS_DEFS, attribute_prefixes=("@",), wrappers=_JS_WRAPPERS),
        LanguageSpec("tsx", _TS_DEFS, attribute_prefixes=("@",), wrappers=_JS_WRAPPERS),
        LanguageSpec("java", {
            "class_declaration": "Class", "interface_declaration": "Interface",
            "enum_declaration": "Enum", "record_declaration": "Class",
            "annotation_type_declaration": "Interface",
            "method_declaration": "Method", "constructor_declaration": "Method",
        }),
        LanguageSpec("c", _C_DEFS, wrappers=frozenset({"type_definition"})),
        LanguageSpec("cpp", {
            **_C_DEFS, "class_specifier": "Class", "namespace_definition": "Module", "alias_declaration": "Type",
        }, wrappers=frozenset({"template_declaration", "type_definition"})),
        LanguageSpec("csharp", {
            "class_declaration": "Class", "struct_declaration": "Struct",
            "interface_declaration": "Interface", "enum_declaration": "Enum",
            "record_declaration": "Class", "namespace_declaration": "Module",
            "method_declaration": "Method", "constructor_declaration": "Method",
            "delegate_declaration": "Type",
        }, attribute_prefixes=("[",)),
        LanguageSpec("ruby", {
            "method": "Function", "singleton_method": "Function",
            "class": "Class", "module": "Module",
        }, line_comments=_HASH, block_comments=(("=begin", "=end"),)),
        LanguageSpec("php", {
            "function_definition": "Function", "method_declaration": "Method",
            "class_declaration": "Class", "interface_declaration": "Interface",
            "trait_declaration": "Trait", "enum_declaration": "Enum",
        }, line_comments=("//", "#"), attribute_prefixes=("#[",)),
        LanguageSpec("kotlin", {
            "function_declaration": "Function", "class_declaration": "Class",
            "object_declaration": "Object", "type_alias": "Type",
        }, attribute_prefixes=("@",)),
        LanguageSpec("scala", {
            "function_definition": "Function", "function_declaration": "Function",
            "class_definition": "Class", "object_definition": "Object",
            "trait_definition": "Trait", "enum_definition": "Enum", "type_definition": "Type",
        }, attribute_prefixes=("@",)),
        LanguageSpec("swift", {
            "function_declaration": "Function", "protocol_function_declaration": "Function",
            "init_declaration": "Function", "class_declaration": "Class",
            "protocol_declaration": "Protocol", "typealias_declaration": "Type",
        }, attribute_prefixes=("@",)),
        # `M.setup = function(opts) … end` (mini.nvim writes every function so) and a module table's
        # `shuffle = function(t) … end` field (`local utils = { … }`, `return { … }`): see treesitter.py.
        LanguageSpec("lua", {"function_declaration": "Function", "assignment_statement": "Function",
                             "field": "Function"},
                     line_comments=("--",), block_comments=(("--[[", "]]"),)),
        LanguageSpec("bash", {"function_definition": "Function"},
                     line_comments=_HASH, block_comments=()),
        # Elixir's definitions are all calls (`defmodule`, `def`, …): treesitter.py reads the callee.
        LanguageSpec("elixir", {"call": "Function"}, line_comments=_HASH, block_comments=()),
        # Zig's `Decl` holds a function or a `const X = struct {…}`: treesitter.py decides which.
        LanguageSpec("zig", {"Decl": "Function", "TestDecl": "Function"}),
        # A Haskell function is one node per equation and its type signature another: the first
        # equation stands for all of them (treesitter.py).
        LanguageSpec("haskell", {
            "function": "Function", "bind": "Function", "data_type": "Type", "newtype": "Type",
            "type_synomym": "Type", "type_family": "Type", "class": "Class", "instance": "Impl",
        }, line_comments=("--",), block_comments=(("{-", "-}"),)),
    ]
}

# Code types whose members are methods and carry the container's name as struct_name.
TYPE_CONTAINERS = frozenset({"Class", "Struct", "Interface", "Trait", "Impl", "Enum",
                             "Object", "Protocol", "Extension"})

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".rs": "rust", ".go": "go",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".java": "java", ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".cs": "csharp", ".rb": "ruby", ".rake": "ruby", ".php": "php",
    ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".sc": "scala",
    ".swift": "swift", ".lua": "lua", ".sh": "bash", ".bash": "bash",
    ".ex": "elixir", ".exs": "elixir", ".zig": "zig", ".hs": "haskell",
    # Indexed as line windows: no structures, but still searchable.
    ".md": "markdown", ".rst": "rst", ".txt": "text", ".toml": "toml", ".yaml": "yaml",
    ".yml": "yaml", ".json": "json", ".html": "html", ".css": "css", ".scss": "css",
    ".sql": "sql", ".cfg": "ini", ".ini": "ini", ".xml": "xml", ".proto": "protobuf",
    ".dockerfile": "dockerfile", ".dart": "dart", ".erl": "erlang", ".ml": "ocaml", ".r": "r",
    ".jl": "julia", ".pl": "perl", ".pm": "perl", ".vue": "vue", ".svelte": "svelte",
    ".pyx": "cython", ".pxd": "cython", ".m": "objc", ".mm": "objc", ".tf": "hcl",
}
FILE_NAMES = {"Dockerfile": "dockerfile", "Makefile": "make", "CMakeLists.txt": "cmake",
              "Rakefile": "ruby", "Gemfile": "ruby"}
_SHEBANGS = {"python": "python", "bash": "bash", "sh": "bash", "zsh": "bash",
             "node": "javascript", "ruby": "ruby", "lua": "lua", "php": "php"}

# Kinds of content besides code: what `--content docs|config` selects and what ranking demotes.
DOC_LANGUAGES = frozenset({"markdown", "rst", "text"})
CONFIG_LANGUAGES = frozenset({"json", "yaml", "toml", "ini", "xml", "html", "css"})

ALL_LANGUAGES = frozenset(SPECS) | frozenset(EXTENSIONS.values()) | frozenset(FILE_NAMES.values())

# A `.h` that is C++ (spdlog, Qt and many others name their C++ headers so): a namespace, a
# template, an access label, a class or `std::` says so. Parsed as C, a namespace reads as a
# function and every class is lost.
_CPP_HEADER = re.compile(r"^\s*(namespace\s+\w+\s*\{|template\s*<|(public|private|protected)\s*:|class\s+\w+)"
                         r"|\bstd::", re.MULTILINE)


def detect_language(path: str, text: str) -> str:
    """Name the language of a file from its name, else its shebang; 'text' otherwise."""
    pure = PurePosixPath(path)
    if pure.name in FILE_NAMES:
        return FILE_NAMES[pure.name]
    language = EXTENSIONS.get(pure.suffix.lower())
    if language == "c" and pure.suffix.lower() == ".h" and _CPP_HEADER.search(text):
        return "cpp"
    if language:
        return language
    if text.startswith("#!"):
        first = text.split("\n", 1)[0].split()
        for word in reversed(first):
            interpreter = word.rsplit("/", 1)[-1].rstrip("0123456789.")
            if interpreter in _SHEBANGS:
                return _SHEBANGS[interpreter]
    return "text"
