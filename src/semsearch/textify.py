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
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# Words every language's bodies are full of; they say nothing about what the code does.
_NOISE = frozenset("""
self cls this super none null nil true false return returns def function func fn let var const
class struct impl pub static async await yield import from export default new delete typeof
instanceof elif else for while break continue pass raise throw try except catch finally with
and not the int str float bool bytes dict list tuple set string void char long double usize
isize u8 u16 u32 u64 i32 i64 f32 f64 public private protected override final abstract
""".split())
BODY_TERMS = 40  # identifiers from the body added to the sentence, at most


def humanize(identifier: str) -> str:
    """`await_ready_for_timeout` / `awaitReadyForTimeout` → `Await ready for timeout`."""
    return inflection.humanize(inflection.underscore(identifier))


def spell_identifiers(text: str) -> str:
    """Every identifier of `text` spelt as `textify` spells names (`ZodError` → "zod error").

    For a query that is one identifier: the text model reads every document's names spelt so,
    and reads `ZodError` as the word pieces "z", "##oder", "##ror".
    """
    return _WORD.sub(lambda m: humanize(m.group(0).strip("$")).lower() or m.group(0), text)


def body_terms(structure: Structure, limit: int = BODY_TERMS) -> list[str]:
    """Distinct identifiers of the snippet, in order, minus the name itself and noise words."""
    seen = {structure.name.lower()}
    terms = []
    for identifier in _IDENTIFIER.findall(structure.context.snippet):
        key = identifier.lower()
        if key in seen or key in _NOISE:
            continue
        seen.add(key)
        terms.append(identifier)
        if len(terms) >= limit:
            break
    return terms


def textify(structure: Structure, with_body: bool = False) -> str:
    """The tutorial's sentence, plus the body's identifiers (humanised) when `with_body`.

    Off by default: measured on the dev set (+0.002 NDCG@10) and on CodeSearchNet-style
    pairs it helped Python (+0.05 MRR) but hurt JavaScript, Go and Rust (-0.02 to -0.04);
    see bench/README.md.
    """
    context = structure.context
    defines = structure.extra.get("defines")
    if structure.code_type == "Block" and defines is not None:
        return _file_head(structure, defines)
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
    if with_body:
        terms = body_terms(structure)
        if terms:
            parts.append("uses " + " ".join(humanize(t).lower() for t in terms))
    return " ".join(token for token in _NON_WORD.split(" ".join(parts)) if token)


def _file_head(structure: Structure, defines: list[str]) -> str:
    """A file's head window stands for the file: its doc text and what it defines."""
    context = structure.context
    stem = context.file_name.rsplit(".", 1)[0]
    parts = [f"File {humanize(stem)}"]
    if structure.docstring:
        parts.append(f"that does {structure.docstring}")
    if defines:
        parts.append("defines " + " ".join(humanize(name).lower() for name in defines))
    parts.append(f"module {context.module} file {context.file_name}")
    return " ".join(token for token in _NON_WORD.split(" ".join(parts)) if token)
