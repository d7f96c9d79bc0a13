"""Find structures (functions, methods, classes, …) in a parse tree.

Works on every grammar in languages.SPECS through one walk. The walk is iterative, so
deeply nested code cannot exhaust Python's recursion limit, and it does not descend into
function bodies: a nested helper is part of its parent's snippet.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from tree_sitter import Node, Parser

from semsearch.chunking.doctext import clean_doc
from semsearch.chunking.flags import is_deprecated
from semsearch.chunking.languages import SPECS, TYPE_CONTAINERS, LanguageSpec
from semsearch.chunking.names import lua_function_value, lua_module_table, name_of, plain_name, receiver
from semsearch.chunking.nodes import descendants as _descendants
from semsearch.chunking.nodes import text_of as _text

_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_BODY_TYPES = frozenset({
    "block", "body_statement", "compound_statement", "declaration_list", "field_declaration_list",
    "class_body", "function_body", "template_body", "enum_class_body", "protocol_body",
    "statement_block", "enumerator_list", "enum_body", "interface_body", "enum_member_declaration_list",
    "constructor_body", "object_type", "do_group", "do_block", "Block", "class_declarations",
    "instance_declarations",
})
# Elixir defines with calls: the callee says what (`defstruct`, `use`, `plug` … define nothing here).
_ELIXIR_DEFINITIONS = {"defmodule": "Module", "defprotocol": "Protocol", "defimpl": "Impl",
                       "def": "Function", "defp": "Function", "defdelegate": "Function",
                       "defguard": "Function", "defguardp": "Function",
                       "defmacro": "Macro", "defmacrop": "Macro"}
_ZIG_CONTAINERS = {"struct": "Struct", "enum": "Enum", "union": "Struct", "opaque": "Struct"}
_HASKELL_EQUATIONS = ("function", "bind")
# A type alias is a definition at the top of a module (`pub type Result<T> = …`, `using json = …`); inside
# an impl it is an associated type (`type Item = u8;`, named after its trait's, so every impl repeats
# `Item` and `Error`) and inside a class a member alias, both part of their owner.
_ALIASES = frozenset({"type_item", "alias_declaration"})
_ALIAS_OWNERS = frozenset({"impl_item", "trait_item", "class_specifier", "struct_specifier"})
# Attributes that make a definition a test in its source file (Rust's `#[test]`, `#[tokio::test]`,
# `#[test_case(…)]`, `#[rstest]`, `#[cfg(test)]`, and `#[bench]`: code that exercises the library
# rather than being it).
_TEST_ATTRIBUTE = re.compile(r"#\[(\w+::)*(test\w*|rstest|quickcheck|bench)\b|#\[cfg\(test\)\]")


@dataclass
class Found:
    """A structure located in the tree, before it becomes a Structure record (0-based rows)."""

    code_type: str
    name: str
    struct_name: str | None
    start: int  # first row, including decorators/attributes
    end: int  # last row
    doc_start: int  # first row of the doc comment above, or start
    name_row: int
    body_row: int | None  # row where the body starts, for skeletons and part headers
    signature: str
    docstring: str | None
    children: list[Found] = field(default_factory=list)
    test: bool = False  # a test inside a source file: `#[test]`, `#[cfg(test)] mod tests`, and what they hold
    deprecated: bool = False  # marked as replaced (`@Deprecated`, `#[deprecated]`, …), or inside what is

    @property
    def is_container(self) -> bool:
        return bool(self.children) or self.code_type in TYPE_CONTAINERS or self.code_type == "Module"


@lru_cache(maxsize=None)
def parser_for(language: str) -> Parser:
    from tree_sitter_language_pack import get_parser

    return get_parser(language)  # type: ignore[arg-type]


# C and C++ macros the parser cannot expand: a line that is only a macro (`NLOHMANN_JSON_NAMESPACE_BEGIN`,
# `Q_OBJECT`, `FMT_BEGIN_NAMESPACE`) and an export macro before a class name (`class SPDLOG_API logger`).
# A macro line right above a function's name is its return type (`YAML_DECLARE(int)` over
# `yaml_parser_parse(…)`, an `EXPORT` line): kept, so the function is still one.
_MACRO_LINE = re.compile(r"^[ \t]*[A-Z][A-Z0-9_]{2,}(?:[ \t]*\([^;{}\n]*\))?[ \t]*$"
                         r"(?!\n[ \t]*[*&]*[ \t]*(?![A-Z][A-Z0-9_]*[ \t]*\()[A-Za-z_]\w*[ \t]*\()",
                         re.MULTILINE)
_EXPORT_MACRO = re.compile(r"\b(?:class|struct)[ \t]+([A-Z][A-Z0-9_]{2,})[ \t]+\w+[ \t]*(?:final\b[ \t]*)?(?:\{|:(?!:)|$)",
                           re.MULTILINE)


def find_structures(text: str, language: str) -> list[Found]:
    """Top-level structures of a source text, each with its nested members as children."""
    spec = SPECS[language]
    source = (_without_macros(text) if language in ("c", "cpp") else text).encode("utf-8", errors="replace")
    tree = parser_for(language).parse(source)
    lines = text.split("\n")
    top: list[Found] = []
    # (node, enclosing type name, enclosing type kind, list to append found structures to)
    stack: list[tuple[Node, str | None, str | None, list[Found]]] = [(tree.root_node, None, None, top)]
    while stack:
        node, container, container_kind, out = stack.pop()
        for child in reversed(node.named_children):
            kind = spec.definitions.get(child.type)
            found = _make(child, kind, spec, container, container_kind, lines) if kind else None
            if found is None:
                stack.append((child, container, container_kind, out))
                continue
            out.append(found)
            if found.code_type not in ("Function", "Method", "Macro", "Type"):
                in_type = found.code_type in TYPE_CONTAINERS
                stack.append((child, found.name if in_type else container,
                              found.code_type if in_type else container_kind, found.children))
    _sort(top)
    _mark_inside(top, False, False)
    return top


def _mark_inside(found: list[Found], test: bool, deprecated: bool) -> None:
    """What a test module holds is test code too; what a deprecated class holds is deprecated."""
    for f in found:
        f.test = f.test or test
        f.deprecated = f.deprecated or deprecated
        _mark_inside(f.children, f.test, f.deprecated)


def _without_macros(text: str) -> str:
    """The text with unexpandable macros blanked out, every other character where it was (rows and
    columns stay those of the file: snippets and lines come from the original)."""
    def blank(match: re.Match[str], group: int = 0) -> str:
        whole = match.group(0)
        a, b = match.start(group) - match.start(), match.end(group) - match.start()
        return whole[:a] + " " * (b - a) + whole[b:]

    text = _MACRO_LINE.sub(blank, text)
    return _EXPORT_MACRO.sub(lambda m: blank(m, 1), text)


def _sort(found: list[Found]) -> None:
    found.sort(key=lambda f: f.start)
    for f in found:
        _sort(f.children)


def _make(node: Node, kind: str, spec: LanguageSpec, container: str | None,
          container_kind: str | None, lines: list[str]) -> Found | None:
    code_type = _code_type(node, kind)
    if code_type is None:
        return None
    name_node, name, qualifier = name_of(node)
    if not name:
        return None
    name, qualifier = plain_name(name), plain_name(qualifier) if qualifier else None
    if code_type == "Function" and (container_kind in TYPE_CONTAINERS or qualifier):
        code_type = "Method"
    struct_name = qualifier or receiver(node) or (container if code_type == "Method" else None)

    outer = _outermost(node, spec)
    start, end = outer.start_point.row, node.end_point.row
    if node.end_point.column == 0 and end > start:
        end -= 1
    type_signature = None
    if node.type in _HASKELL_EQUATIONS:
        type_signature, start, end = _haskell_extent(node, name, start, end)
    attributes_start = _attributes_above(lines, start, spec)
    test = (code_type == "Module" and name in ("test", "tests")) or node.type == "TestDecl" or \
        any(_TEST_ATTRIBUTE.match(line.strip()) for line in lines[attributes_start:start])
    start = attributes_start
    doc_start, comment_doc = _doc_comment_above(lines, start, spec)
    body = _body(node)
    body_row = body.start_point.row if body is not None else None
    docstring = _python_docstring(body) if spec.name == "python" else None
    if node.type == "call":
        docstring, doc_start = _elixir_doc(node, code_type, doc_start)
    docstring = docstring or comment_doc
    if docstring and spec.name == "csharp":
        docstring = re.sub(r"<[^>]+>", " ", docstring).strip() or None
    docstring = clean_doc(docstring)  # rules, boxes, Haddock's `|`, Doxygen's \brief
    return Found(
        code_type=code_type,
        name=name,
        struct_name=struct_name,
        start=start,
        end=end,
        doc_start=doc_start,
        name_row=(name_node or node).start_point.row,
        body_row=body_row,
        signature=type_signature or _signature(outer if node.type in ("variable_declarator", "type_spec") else node,
                                               body, spec),
        docstring=docstring,
        test=test,
        deprecated=is_deprecated("\n".join(lines[doc_start:(name_node or node).start_point.row + 1]), docstring,
                                 lines[doc_start - 1] if doc_start > 0 else "",
                                 _python_first_statement(body) if spec.name == "python" else ""),
    )


def _zig_container(value: Node | None) -> str | None:
    """Zig: the kind of container a value is (`struct {…}`, `enum(u8) {…}`), or None."""
    while value is not None and value.type in ("ErrorUnionExpr", "SuffixExpr") and value.named_children:
        value = value.named_children[0]  # `struct {…}` is the value itself, not inside a call
    if value is None or value.type != "ContainerDecl":
        return None
    head = next((c for c in value.named_children if c.type == "ContainerDeclType"), None)
    return _ZIG_CONTAINERS.get(_text(head).split("(")[0].strip())


def _zig_generic_type(node: Node) -> str | None:
    """Zig's generic type: `fn LinkedList(comptime T: type) type { return struct {…}; }` is a type whose
    methods are the returned struct's; the kind of that container, or None for a plain function."""
    body = next((c for c in node.named_children if c.type == "Block"), None)
    for statement in body.named_children if body is not None else ():
        expr = statement.named_children[0] if statement.named_children else None
        if expr is not None and expr.type == "AssignExpr" and expr.children and expr.children[0].type == "return":
            return _zig_container(expr.named_children[0] if expr.named_children else None)
    return None


def _code_type(node: Node, kind: str) -> str | None:
    """Decide the code type where one node type covers several kinds, or is not a definition."""
    t = node.type
    if t == "call":
        # Elixir: `defmodule A do … end`, `def f(x) do … end`: the callee says what is defined.
        return _ELIXIR_DEFINITIONS.get(_text(node.child_by_field_name("target")))
    if t == "Decl":
        # Zig: a function, or a constant whose value is a struct/enum/union; other constants are not.
        inner = node.named_children[0] if node.named_children else None
        if inner is not None and inner.type == "FnProto":
            return _zig_generic_type(node) or kind
        return _zig_container(inner.named_children[-1] if inner is not None and inner.named_children else None)
    if t in _HASKELL_EQUATIONS:
        # Haskell: a function's later equations belong to its first; a `function` without a name
        # is a function type (`a -> b`) inside a signature.
        name = name_of(node)[1]
        if not name:
            return None
        previous = node.prev_named_sibling
        if previous is not None and previous.type in _HASKELL_EQUATIONS and name_of(previous)[1] == name:
            return None
    if t == "type_definition":
        # C: `typedef struct {…} point;` is the struct's (a wrapper gives it the typedef's lines), and
        # `typedef struct uv_loop_s uv_loop_t;` names a struct whose definition is the answer; a typedef
        # of a function pointer or of another type (`typedef int (*read_cb)(…);`) is a type of its own.
        tags = ("struct_specifier", "union_specifier", "enum_specifier")
        return None if any(c.type in tags for c in node.named_children) else kind
    if t in _ALIASES:
        parent = node.parent
        while parent is not None and parent.type not in _ALIAS_OWNERS:
            parent = parent.parent
        return kind if parent is None else None
    if t in ("variable_declarator", "field_definition", "public_field_definition"):
        value = node.child_by_field_name("value")
        return kind if value is not None and value.type in _FUNCTION_VALUES else None
    if t == "assignment_expression":
        # `exports.compile = function …`, `Router.prototype.route = …`: a function given a name at the
        # top of a module. Inside a function (`inst.parse = …` in a constructor callback) it is that
        # function's business.
        value, target = node.child_by_field_name("right"), node.child_by_field_name("left")
        statement = node.parent
        if value is None or value.type not in _FUNCTION_VALUES or target is None or statement is None \
                or statement.type != "expression_statement" or statement.parent is None \
                or statement.parent.type != "program":
            return None
        return kind if target.type in ("identifier", "member_expression") else None
    if t == "assignment_statement":
        # Lua: `M.setup = function(opts) … end`, `local f = function() … end` at the top of a module.
        value = lua_function_value(node)
        statement = node.parent.parent if node.parent is not None and node.parent.type == "variable_declaration" \
            else node.parent
        return kind if value is not None and statement is not None and statement.type == "chunk" else None
    if t == "field":
        # Lua: `shuffle = function(t, seed) … end` in a module's table (`local utils = { … }`, `return { … }`).
        value = node.child_by_field_name("value")
        return kind if value is not None and value.type == "function_definition" and lua_module_table(node)[0] \
            else None
    if t in ("struct_specifier", "union_specifier", "enum_specifier", "class_specifier",
             "mod_item", "namespace_definition", "namespace_declaration", "internal_module"):
        # A C type reference (`struct point *p`) or `mod foo;` has no body: not a definition.
        return kind if node.child_by_field_name("body") is not None else None
    if t == "type_spec":
        inner = node.child_by_field_name("type")
        inner_type = inner.type if inner is not None else ""
        return {"struct_type": "Struct", "interface_type": "Interface"}.get(inner_type, "Type")
    if t == "class_declaration":
        # Kotlin and Swift spell every class-like thing `class_declaration`; the keyword decides.
        tokens = {c.type for c in node.children if not c.is_named}
        for token, code_type in (("interface", "Interface"), ("struct", "Struct"), ("enum", "Enum"),
                                 ("extension", "Extension")):
            if token in tokens:
                return code_type
        modifiers = " ".join(_text(c) for c in node.children if c.type == "modifiers")
        if "enum" in modifiers.split():
            return "Enum"
    return kind


def _elixir_doc(node: Node, code_type: str, doc_start: int) -> tuple[str | None, int]:
    """The `@moduledoc` inside a module, or the `@doc` above a function (past its `@spec`s), and
    the row the doc starts on."""
    attributes: list[Node] = []
    if code_type == "Module":
        body = next((c for c in node.named_children if c.type == "do_block"), None)
        attributes = [c for c in body.named_children if c.type == "unary_operator"] if body is not None else []
    else:
        previous = node.prev_named_sibling
        while previous is not None and previous.type == "unary_operator":
            attributes.append(previous)
            previous = previous.prev_named_sibling
    wanted = "moduledoc" if code_type == "Module" else "doc"
    for attribute in attributes:
        operand = attribute.child_by_field_name("operand")
        if operand is None or _text(operand.child_by_field_name("target")) != wanted:
            continue
        strings = [n for n in _descendants(operand) if n.type == "quoted_content"]
        text = inspect.cleandoc("".join(_text(n) for n in strings)) if strings else ""
        start = attribute.start_point.row if code_type != "Module" else doc_start
        return text or None, min(start, doc_start)
    return None, doc_start


def _haskell_extent(node: Node, name: str, start: int, end: int) -> tuple[str | None, int, int]:
    """A Haskell function's type signature, and its rows from that signature to its last equation."""
    following = node.next_named_sibling
    while following is not None and following.type in _HASKELL_EQUATIONS and name_of(following)[1] == name:
        end = following.end_point.row
        following = following.next_named_sibling
    previous = node.prev_named_sibling
    if previous is None or previous.type != "signature" or name_of(previous)[1] != name:
        return None, start, end
    return " ".join(_text(previous).split())[:400], previous.start_point.row, end


def _outermost(node: Node, spec: LanguageSpec) -> Node:
    """Climb wrappers (decorators, export, a single-declarator const) to the full definition."""
    while node.parent is not None and node.parent.type in spec.wrappers:
        parent = node.parent
        if parent.type in ("lexical_declaration", "variable_declaration") and sum(
                c.type == "variable_declarator" for c in parent.named_children) != 1:
            break
        node = parent
    return node


def _body(node: Node) -> Node | None:
    if node.type in ("assignment_statement", "field"):
        value = lua_function_value(node) if node.type == "assignment_statement" else node.child_by_field_name("value")
        return (value.child_by_field_name("body") or next((c for c in value.named_children if c.type == "block"),
                                                           None)) if value is not None else None
    if node.type in ("variable_declarator", "assignment_expression", "field_definition", "public_field_definition"):
        value = node.child_by_field_name("value") or node.child_by_field_name("right")
        return value.child_by_field_name("body") if value is not None else None
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    return next((c for c in node.named_children if c.type in _BODY_TYPES), None)


def _signature(node: Node, body: Node | None, spec: LanguageSpec) -> str:
    raw = node.text or b""
    if body is not None and body.start_byte > node.start_byte:
        raw = raw[: body.start_byte - node.start_byte]
    else:
        raw = raw.split(b"\n", 1)[0]
    head = raw.decode("utf-8", errors="replace").split("\n")
    # Comments between the head and the body (Ruby's first member's docs) are not signature.
    head = head[:1] + [line for line in head[1:] if not line.strip().startswith(spec.line_comments or ("\0",))]
    text = " ".join(" ".join(head).split())
    text = text.rstrip("{:= ").removesuffix(" do").removesuffix("=>").rstrip()
    return text[:400]


def _python_docstring(body: Node | None) -> str | None:
    if body is None or not body.named_children:
        return None
    string = body.named_children[0]
    if string.type == "expression_statement" and string.named_children:
        string = string.named_children[0]  # older grammars wrap the docstring
    if string.type != "string":
        return None
    content = "".join(_text(c) for c in string.named_children if c.type == "string_content")
    return inspect.cleandoc(content) or None


def _python_first_statement(body: Node | None) -> str:
    """The text of a Python body's first statement after its docstring (where a deprecated function warns)."""
    statements = [c for c in (body.named_children if body is not None else []) if c.type != "comment"]
    if statements and (statements[0].type == "string" or (  # the docstring (older grammars wrap it)
            statements[0].type == "expression_statement" and statements[0].named_children
            and statements[0].named_children[0].type == "string")):
        statements = statements[1:]
    # only a call can warn: a loop or an `if` opening the body is not read (its text may be the whole body)
    return _text(statements[0]) if statements and statements[0].type in ("call", "expression_statement") else ""


def _attributes_above(lines: list[str], start: int, spec: LanguageSpec) -> int:
    """Extend start upward over attribute lines (`#[derive]`, `[Serializable]`, `@decorator`)."""
    if not spec.attribute_prefixes:
        return start
    row = start - 1
    while row >= 0 and lines[row].strip().startswith(spec.attribute_prefixes):
        row -= 1
    return row + 1


def _doc_comment_above(lines: list[str], start: int, spec: LanguageSpec) -> tuple[int, str | None]:
    """The comment block directly above `start` (no blank line between): (first row, text)."""
    row = start - 1
    collected: list[str] = []
    while row >= 0:
        stripped = lines[row].strip()
        if not stripped:
            break
        block = next((b for b in spec.block_comments if stripped.endswith(b[1])), None)
        if block is not None and not stripped.startswith(spec.line_comments or ("\0",)):
            if block[0] in stripped and not stripped.startswith(block[0]):
                break  # code with a comment after it (`typedef … t; /* incomplete */`), not a comment
            # Walk up to the opening of the block comment.
            block_rows = [stripped]
            while not block_rows[-1].startswith(block[0]) and row > 0:
                row -= 1
                block_rows.append(lines[row].strip())
            if not block_rows[-1].startswith(block[0]):
                break
            collected.extend(block_rows)
            row -= 1
            continue
        if spec.line_comments and stripped.startswith(spec.line_comments) and not stripped.startswith("#!"):
            collected.append(stripped)
            row -= 1
            continue
        break
    if not collected:
        return start, None
    text = "\n".join(strip_comment(line, spec) for line in reversed(collected)).strip()
    return row + 1, (text or None)


def strip_comment(line: str, spec: LanguageSpec) -> str:
    for opening, closing in spec.block_comments:
        line = line.removeprefix(opening).removesuffix(closing)
    for marker in sorted(spec.line_comments, key=len, reverse=True):
        if line.startswith(marker):
            line = line[len(marker):]
            break
    line = line.lstrip("/!*-#").strip()
    return line.removesuffix("*/").strip()
