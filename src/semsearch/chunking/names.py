"""What a definition is called: its name, and the type it belongs to, read from its node.

Every grammar names things its own way (a declarator chain in C, `Type::method`, a Lua table
field, an Elixir call's first argument, a Go receiver); the rest of the chunker only sees
(name, qualifier). Names are plain, as a query spells them: `Rack::Response` is Response.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from semsearch.chunking.nodes import descendants, text_of

_HASKELL_INFIX = frozenset({"function", "bind", "data_type", "newtype"})
_NAME_TYPES = frozenset({"identifier", "simple_identifier", "type_identifier", "constant",
                         "name", "field_identifier", "word", "property_identifier"})
# `A::B::Name`, `A.B.Name` and `Name<…>`: a namespace path and template arguments around a plain name.
_QUALIFIED_NAME = re.compile(r"^(?:[A-Za-z_]\w*(?:::|\.))*([A-Za-z_]\w*)\s*(?:<.*>)?$", re.DOTALL)


def name_of(node: Node) -> tuple[Node | None, str, str | None]:
    """(name node, name, qualifier) — the qualifier is the type in `Type::method`, `M.add`."""
    if node.type == "init_declaration":
        return node, "init", None
    if node.type == "call":
        return _elixir_name(node)
    if node.type == "Decl":
        inner = node.named_children[0]
        name_node = inner.child_by_field_name("function") or inner.child_by_field_name("variable_type_function")
        return name_node, text_of(name_node), None
    if node.type == "assignment_expression":
        # `res.send = …` → send on res; `Router.prototype.route` → route on Router; exports hold no type.
        target = node.child_by_field_name("left")
        if target is not None and target.type == "member_expression":
            owner = text_of(target.child_by_field_name("object")).removesuffix(".prototype")
            member = target.child_by_field_name("property")
            return member, text_of(member), None if owner in ("exports", "module.exports", "module", "this") else owner
        return target, text_of(target), None
    if node.type == "TestDecl":  # Zig: `test "router matches" { … }` is named by its string
        label = next((c for c in node.named_children if c.type != "Block"), None)
        return label, text_of(label).strip('"'), None
    if node.type == "instance":
        # Haskell `instance Show Router`: named for the type, as a Rust `impl Show for Router`;
        # `instance Semigroup (a :<|> b)` for its operator.
        patterns = node.child_by_field_name("patterns")
        target = next((n for n in descendants(patterns) if n.type in ("name", "constructor_operator", "operator")),
                      None) if patterns else None
        return target, text_of(target), None
    if node.type in _HASKELL_INFIX and node.child_by_field_name("name") is None:
        # Haskell, defined infix: `obj .:? key = …` (an equation), `data a :<|> b = …` (a type).
        infix = next((c for c in node.named_children if c.type == "infix"), None)
        operator = infix.child_by_field_name("operator") if infix is not None else None
        if operator is None or (node.type == "function" and node.child_by_field_name("match") is None):
            return None, "", None  # a function type (`a -> b`) inside a signature
        return operator, text_of(operator), None
    if node.type == "field":  # Lua: `shuffle = function(t) … end` in `local utils = { … }`, on utils
        name_node = node.child_by_field_name("name")
        if name_node is None or name_node.type != "identifier":
            return None, "", None
        return name_node, text_of(name_node), lua_module_table(node)[1]
    if node.type == "assignment_statement":  # Lua: the one name assigned (`M.setup`, `f`)
        names = next((c for c in node.named_children if c.type == "variable_list"), None)
        name_node = names.named_children[0] if names is not None and names.named_children else None
        if name_node is not None and name_node.type == "identifier":
            return name_node, text_of(name_node), None
        if name_node is None or name_node.type != "dot_index_expression":
            return None, "", None
        return _name_of_index(name_node)
    if node.type == "impl_item":
        target = node.child_by_field_name("type")
        return target, text_of(target), None
    name_node = node.child_by_field_name("name")
    if name_node is None and node.type in ("struct_specifier", "union_specifier", "enum_specifier"):
        parent = node.parent
        if parent is not None and parent.type == "type_definition":
            name_node = parent.child_by_field_name("declarator")
    if name_node is None:
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type not in (
                "identifier", "field_identifier", "qualified_identifier", "destructor_name",
                "operator_name", "type_identifier"):
            inner = declarator.child_by_field_name("declarator")
            if inner is None and declarator.type == "parenthesized_declarator" and declarator.named_children:
                inner = declarator.named_children[0]  # a function pointer's `(*name)`
            declarator = inner
        name_node = declarator
    if name_node is None:
        name_node = next((c for c in node.named_children if c.type in _NAME_TYPES), None)
    if name_node is None:
        return None, "", None
    if name_node.type in ("dot_index_expression", "method_index_expression"):
        return _name_of_index(name_node)
    if name_node.type == "prefix_id" and name_node.named_children:  # Haskell's `(.:)`: named `.:`
        inner = name_node.named_children[0]
        return inner, text_of(inner), None
    if name_node.type == "qualified_identifier":
        scope = name_node.child_by_field_name("scope")
        inner = name_node.child_by_field_name("name")
        return inner, text_of(inner), text_of(scope) or None
    return name_node, text_of(name_node), None


def _name_of_index(node: Node) -> tuple[Node | None, str, str | None]:
    """Lua's `M.setup` / `Picker:new`: the member, named on its table."""
    table = node.child_by_field_name("table")
    member = node.child_by_field_name("field") or node.child_by_field_name("method")
    return member, text_of(member), text_of(table) or None


def plain_name(name: str) -> str:
    """A type's own name, as a query names it: Ruby's `class Rack::Response` → Response, Rust's
    `impl<K, V> Map<K, V>` → Map, C++'s `basic_json<T>::parse` → basic_json, Swift's
    `extension AVCaptureDevice.Format` → Format (the signature keeps the whole). Operators
    (`operator<=>`, Haskell's `<$>`) stay as written."""
    if name.startswith("operator"):
        return name
    match = _QUALIFIED_NAME.match(name)
    return match.group(1) if match else name


def _elixir_name(node: Node) -> tuple[Node | None, str, str | None]:
    """`defmodule Plug.Conn` → Conn (`Plug` is a namespace, not an enclosing type: the signature
    keeps it); `def call(conn, opts) when …` → call."""
    arguments = next((c for c in node.named_children if c.type == "arguments"), None)
    head = arguments.named_children[0] if arguments is not None and arguments.named_children else None
    if head is not None and head.type == "binary_operator":  # a guard: `def f(x) when x > 0`
        head = head.child_by_field_name("left")
    if head is not None and head.type == "call":
        head = head.child_by_field_name("target")
    if head is None or head.type not in ("alias", "identifier"):
        return None, "", None
    return head, text_of(head).rpartition(".")[2], None


def lua_function_value(node: Node) -> Node | None:
    """The function a Lua assignment gives a name to, when it assigns one function to one name."""
    names = next((c for c in node.named_children if c.type == "variable_list"), None)
    values = next((c for c in node.named_children if c.type == "expression_list"), None)
    if names is None or values is None or len(names.named_children) != 1 or len(values.named_children) != 1:
        return None
    value = values.named_children[0]
    return value if value.type == "function_definition" else None


def lua_module_table(field: Node) -> tuple[bool, str | None]:
    """Whether a Lua table field sits in a module-level table — `local utils = { … }`, `M.config = { … }`
    or the chunk's `return { … }` — and the table's name (None for the returned table). A table
    nested in another, or built inside a function, is that code's business."""
    table = field.parent
    holder = table.parent if table is not None and table.type == "table_constructor" else None
    if holder is not None and holder.type == "expression_list":
        if len(holder.named_children) != 1:
            return False, None
        holder = holder.parent
    if holder is None or holder.parent is None:
        return False, None
    if holder.type == "return_statement":
        return holder.parent.type == "chunk", None
    if holder.type != "assignment_statement":
        return False, None
    statement = holder.parent.parent if holder.parent.type == "variable_declaration" else holder.parent
    names = next((c for c in holder.named_children if c.type == "variable_list"), None)
    if statement is None or statement.type != "chunk" or names is None or len(names.named_children) != 1:
        return False, None
    return True, text_of(names.named_children[0]).rpartition(".")[2] or None


def receiver(node: Node) -> str | None:
    """The receiver type of a Go method: `func (s *Store) Count()` → Store."""
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return None
    names = [text_of(n) for n in descendants(receiver) if n.type == "type_identifier"]
    return names[0] if names else None
