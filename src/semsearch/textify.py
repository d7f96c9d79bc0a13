"""Structure → an English sentence, for the natural-language (`text`) model.

The seed tutorial's conversion: identifiers humanised (camel and snake case split into
words with `inflection`), "that does <docstring>", "defined in struct <X> module <m>
file <f>", every non-word character dropped. A general-purpose sentence model reads
"Function await ready for timeout that does return true if ready" far better than
`fn await_ready_for_timeout(&self, timeout: Duration) -> bool`.
"""

from __future__ import annotations

import re

import inflection

from semsearch.structures import Structure

_NON_WORD = re.compile(r"\W+")


def humanize(identifier: str) -> str:
    """`await_ready_for_timeout` / `awaitReadyForTimeout` → `Await ready for timeout`."""
    return inflection.humanize(inflection.underscore(identifier))


def textify(structure: Structure) -> str:
    context = structure.context
    parts = [structure.code_type, humanize(structure.name)]
    if structure.docstring:
        parts.append(f"that does {structure.docstring}")
    if structure.code_type != "Block":
        parts.append(f"defined as {humanize(structure.signature)}")
    else:
        parts.append(f"containing {structure.signature}")
    if context.struct_name:
        parts.append(f"defined in struct {humanize(context.struct_name)}")
    parts.append(f"module {context.module} file {context.file_name}")
    return " ".join(token for token in _NON_WORD.split(" ".join(parts)) if token)
