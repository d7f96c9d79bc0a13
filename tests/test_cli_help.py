"""Every command's `--help` at a terminal of 80 columns reads as other tools' help does.

Typer's rich panels printed a type after every option, flags included (`--quiet -q <bool>`);
a flag takes no value and shows none, any other option names its value as people know it
(`--store DIR`, `-k, --limit N`, `--filter FIELD=VALUE`).
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from semsearch.cli import app

TYPE_NAMES = re.compile(r"<(bool|str|int|float|path|file|dir|list\[\w+\]|\w+ range)>")


def commands(command, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from commands(sub, (*path, name))


ALL = list(commands(typer.main.get_command(app)))


def test_every_command_is_checked() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"", "index", "search", "serve", "records load", "cache prune"} <= names and len(names) == 18


@pytest.mark.parametrize("path, command", ALL, ids=[" ".join(path) or "semsearch" for path, _ in ALL])
def test_help_at_80_columns(path: tuple[str, ...], command) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert not TYPE_NAMES.search(text), text
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert re.search(r"^  --help {2,}Show this message and exit\.$", text, re.M), text
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        names = ", ".join(param.opts)
        if param.is_flag:  # `-q, --quiet   No progress bar.`, `--neural / --fulltext   …`
            assert re.search(rf"^  {re.escape(names)}( / [\w-]+)? {{2,}}\S", text, re.M), (names, text)
        else:  # `--store DIR   …`, `--filter FIELD=VALUE   …`
            assert re.search(rf"^  {re.escape(names)} [A-Z][A-Z_=:]*( {{2,}}\S|$)", text, re.M), (names, text)
