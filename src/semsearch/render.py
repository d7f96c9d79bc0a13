"""Terminal output: hits as path:lines, name, score and a highlighted snippet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group as RichGroup
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from semsearch.hits import Group, SearchHit
from semsearch.records.display import Display, web_url

if TYPE_CHECKING:
    from semsearch.indexer import IndexSummary

MAX_SNIPPET_LINES = 30
# Our language names → Pygments lexer names where they differ.
_LEXERS = {"csharp": "csharp", "tsx": "tsx", "bash": "bash", "text": "text", "markdown": "markdown"}


def _lines_label(hit: SearchHit, show_repo: bool = False) -> str:
    where = f"{hit.repo}:{hit.path}" if show_repo and hit.repo else hit.path
    return f"{where}:{hit.line_from}-{hit.line_to}" if hit.line_to > hit.line_from else f"{where}:{hit.line_from}"


def hit_panel(rank: int, hit: SearchHit, show_repo: bool = False) -> Panel:
    """show_repo: the hit's repository before its path (a collection of several)."""
    p = hit.payload
    ctx = p.get("context", {})
    title = Text.assemble(
        (f"{rank}. ", "bold"), (_lines_label(hit, show_repo), "bold cyan"), "  ",
        (f"{p.get('code_type', '')} ", "magenta"),
        (f"{ctx.get('struct_name')}." if ctx.get("struct_name") else "", "yellow"),
        (str(p.get("name", "")), "bold yellow"),
        ("  deprecated" if p.get("deprecated") else "", "red"),
        (f"  score {hit.score:.3f}", "dim"),
    )
    snippet = ctx.get("snippet", "")
    lines = snippet.split("\n")
    # A split part's snippet starts with its structure's header; number from the part's
    # own first line only when the snippet is the plain source range.
    plain = len(lines) == hit.line_to - hit.line_from + 1
    start = hit.line_from if plain else 1
    highlight = set()
    if plain:
        for lo, hi in hit.overlap:
            highlight.update(range(lo, hi + 1))
    more = ""
    if len(lines) > MAX_SNIPPET_LINES:
        lines = lines[:MAX_SNIPPET_LINES]
        more = f"… {len(snippet.split(chr(10))) - MAX_SNIPPET_LINES} more lines"
    language = str(p.get("language") or "text")
    body = Syntax("\n".join(lines), _LEXERS.get(language, language), line_numbers=True,
                  start_line=start, highlight_lines=highlight, word_wrap=False, theme="ansi_dark")
    parts: list = [body]
    if hit.overlap:
        ranges = ", ".join(f"{lo}-{hi}" if hi > lo else str(lo) for lo, hi in hit.overlap)
        parts.append(Text(f"code model agrees on lines {ranges}", style="green"))
    if more:
        parts.append(Text(more, style="dim"))
    if hit.url:
        parts.append(Text(hit.url, style="dim"))
    return Panel(RichGroup(*parts), title=title, title_align="left", border_style="dim")


def print_hits(console: Console, hits: list[SearchHit], show_repo: bool = False) -> None:
    if not hits:
        console.print("no results")
    for rank, hit in enumerate(hits, start=1):
        console.print(hit_panel(rank, hit, show_repo))


def print_groups(console: Console, groups: list[Group], field: str, show_repo: bool = False) -> None:
    if not groups:
        console.print("no results")
    for group in groups:
        console.rule(f"{field} = {group.value}")
        for rank, hit in enumerate(group.hits, start=1):
            console.print(hit_panel(rank, hit, show_repo))


def summary_text(summary: IndexSummary, collection: str, location: str) -> str:
    walk = summary.walk
    lines = [
        f"{walk.files:,} files: {summary.files_indexed:,} indexed, {summary.files_unchanged:,} unchanged, "
        f"{summary.files_removed:,} removed; {summary.structures_embedded:,} structures embedded"
        f"{_cached(summary)}; collection {collection!r} in {location} holds {summary.points:,} points ({summary.seconds:.1f} s)"
    ]
    if summary.without_vectors:
        lines.append(f"{summary.without_vectors:,} structures have no dense vectors yet: they are found by their "
                     f"words and names; run `semsearch index` without --lexical-only to embed them")
    if walk.invalid_utf8:
        lines.append(f"{walk.invalid_utf8:,} files had invalid UTF-8 and were decoded with replacement")
    if walk.skipped:
        skipped = ", ".join(f"{count:,} {reason}" for reason, count in walk.skipped.most_common())
        lines.append(f"skipped: {skipped}")
    for error in summary.errors[:10]:
        lines.append(f"error: {error}")
    return "\n".join(lines)


def _cached(summary: IndexSummary) -> str:
    vectors = 2 * summary.structures_embedded
    return f" ({summary.vectors_cached:,} of {vectors:,} vectors from the cache)" if summary.vectors_cached else ""


RELEVANCE_CELLS = 5
MAX_FIELD_CHARS = 1000  # of one field in the terminal
_CONTROL = {c: "\ufffd" for c in (*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160))} | {13: " "}


def plain(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """A record's value as inert terminal text: control characters (escape sequences) replaced, bounded."""
    text = str(value).translate(_CONTROL)
    return text if len(text) <= limit else text[:limit] + "…"


def relevance(score: float, best: float) -> str:
    """A bar of RELEVANCE_CELLS relative to the best hit: raw scores (RRF's 0.033) mean nothing to a person."""
    share = max(0.0, score) / best if best > 0 else 0.0
    filled = max(1, round(share * RELEVANCE_CELLS)) if share > 0 else 0
    return "●" * filled + "○" * (RELEVANCE_CELLS - filled)


def print_records(console: Console, hits: list, text_fields: list[str], display: Display) -> None:
    """Record hits as cards, as the page draws them: title, labels, link, then the text with matched words
    marked; the other short fields dim."""
    if not hits:
        console.print("no results")
    near = [h.score if h.relevance is None else h.relevance for h in hits]
    for rank, (hit, value) in enumerate(zip(hits, near), start=1):
        payload = hit.payload
        title = _marked(payload.get(display.title), hit.highlights.get(display.title or "", []), style="bold cyan") \
            if payload.get(display.title) not in (None, "") else Text(hit.id, style="bold cyan")
        head = Text.assemble((f"{rank}. ", "bold"), title, (f"  {relevance(value, max(near))}", "dim"))
        body: list = []
        labels = [plain(v, 80) for name in display.labels for v in _values(payload.get(name))]
        if labels:
            body.append(Text("  ").join(Text(f" {v} ", style="reverse") for v in labels))
        link = web_url(payload.get(display.link)) if display.link else None
        if link:
            body.append(Text(link, style=f"blue underline link {link}"))
        for name in text_fields:
            if name != display.title and payload.get(name) not in (None, ""):
                body.append(_marked(payload[name], hit.highlights.get(name, [])))
        shown = display.roles() | set(display.labels) | set(text_fields)
        rest = [f"{k}: {plain(v, 120)}" for k, v in payload.items() if k not in shown
                and isinstance(v, (str, int, float)) and len(str(v)) < 120]
        body.append(Text("  ".join([*rest, f"id {hit.id}"]), style="dim"))
        console.print(Panel(RichGroup(*body), title=head, title_align="left", border_style="dim"))


def _values(value: object) -> list[object]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values[:5] if v not in (None, "") and isinstance(v, (str, int, float))]


def _marked(value: object, spans: list[list[int]], style: str = "") -> Text:
    """value with the matched words' spans marked (spans index the raw text; replacing controls keeps lengths)."""
    text = Text(plain(value), style=style)
    for start, end in spans:
        text.stylize("bold black on yellow", start, end)
    return text
