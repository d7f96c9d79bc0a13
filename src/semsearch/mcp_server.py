"""`semsearch mcp [ROOT]`: code search for coding agents, over the Model Context Protocol (stdio).

An agent pays for every token a tool returns, so answers are compact: one line per hit
(`path:from-to kind name`) and its first lines of code, with the same data as structured
content for clients that read it. On start the server opens (or creates) the index of ROOT
and brings it up to date in a background thread, then follows file changes; searches
answer meanwhile and say how far indexing has come. Nothing but protocol messages goes to
stdout (the SDK points fd 1 at stderr while it serves; logs go to stderr).

Several trees (`semsearch mcp A B`) are repositories of one collection: a hit line then reads
`repo:path:from-to`, `search` takes `repo` (one name or several) and `related`/`read` take the
repository a path is in when more than one holds it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from semsearch.code_index import CodeIndex, open_index
from semsearch.hits import SearchHit
from semsearch.store import StoreError

SNIPPET_LINES = 4  # lines of code shown under each hit
INSTRUCTIONS = """Semantic code search over one or more repositories (semsearch).
Use `search` for questions by meaning ("where are retries with backoff handled", "how is the
config file parsed") or for a name you only half know; use grep for exact strings you already
know. `related` finds code like a given structure elsewhere in the tree; `read` returns lines
of an indexed file; `status` says what is indexed (each repository) and whether indexing is still running."""

Mode = Literal["hybrid", "text", "code", "lexical"]
Content = Literal["code", "docs", "config", "all"]


class Hit(BaseModel):
    repo: str | None = Field(None, description="The repository the file is in.")
    path: str
    line_from: int
    line_to: int
    kind: str
    name: str
    score: float
    deprecated: bool = Field(False, description="Marked deprecated in the code: prefer what replaces it.")
    snippet: str = Field(description="The first lines of the structure.")


class Hits(BaseModel):
    hits: list[Hit]
    indexing: str | None = Field(None, description="Set while the index is still being built or updated.")


class Lines(BaseModel):
    path: str
    line_from: int
    line_to: int
    total_lines: int
    text: str


def hit_model(hit: SearchHit, lines: int = SNIPPET_LINES) -> Hit:
    """The hit as the agent gets it (its repository only matters, and only shows, when there are several)."""
    p = hit.payload
    snippet = (p.get("context") or {}).get("snippet") or ""
    shown = snippet.split("\n")
    text = "\n".join(shown[:lines]) + (f"\n… (+{len(shown) - lines} lines)" if len(shown) > lines else "")
    name = str(p.get("name") or "")
    struct = (p.get("context") or {}).get("struct_name")
    return Hit(repo=hit.repo, path=hit.path, line_from=hit.line_from, line_to=hit.line_to,
               kind=str(p.get("code_type") or ""),
               name=f"{struct}.{name}" if struct and struct != name else name, score=round(hit.score, 4),
               deprecated=bool(p.get("deprecated")), snippet=text)


def compact(hits: list[Hit], note: str | None, show_repo: bool = False) -> str:
    """What the agent reads: `[repo:]path:from-to kind name [deprecated]`, then the snippet indented."""
    out = [f"({note})"] if note else []
    if not hits:
        out.append("no results")
    for h in hits:
        where = f"{h.repo}:{h.path}" if show_repo and h.repo else h.path
        out.append(f"{where}:{h.line_from}-{h.line_to} {h.kind} {h.name}" + (" [deprecated]" if h.deprecated else ""))
        out.extend("    " + line for line in h.snippet.split("\n"))
    return "\n".join(out)


def build_server(index: CodeIndex) -> MCPServer:
    server = MCPServer("semsearch", instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def indexing_note() -> str | None:
        job = index.job
        if job is None:
            return None
        state = job.status()
        if state["state"] in ("pending", "indexing"):
            progress = state.get("progress") or {}
            if progress.get("phase") == "embedding":
                done, total = progress["structures_embedded"], progress["structures_to_embed"]
                return (f"the index is being filled in: {done:,} of {total:,} structures embedded; "
                        f"the rest are found by their words and names")
            return "the index is still being built; results may be incomplete"
        if state["state"] == "failed":
            return f"indexing failed: {state['error']}"
        return None

    def answer(hits: list[SearchHit]) -> CallToolResult:
        note = indexing_note()
        partial = index.partial() if note is None else None
        if partial:
            note = (f"{partial['embedded']:,} of {partial['total']:,} structures have vectors so far; "
                    f"the rest are found by their words and names")
        models = [hit_model(h) for h in hits]
        show_repo = len({h.repo for h in hits}) > 1 or len(index.repos()) > 1
        return CallToolResult(content=[TextContent(type="text", text=compact(models, note, show_repo))],
                              structured_content=Hits(hits=models, indexing=note).model_dump())

    def not_ready(exc: StoreError) -> ToolError:
        note = indexing_note()
        return ToolError(f"{note}; try again shortly" if note and "collection" in str(exc) else str(exc))

    @server.tool(annotations=read_only)
    def search(
        query: Annotated[str, Field(min_length=1, max_length=1000, description="What to look for, in words or as a name.")],
        limit: Annotated[int, Field(ge=1, le=50, description="How many hits.")] = 10,
        mode: Annotated[Mode, Field(description="hybrid (default): meaning and words; lexical: words only.")] = "hybrid",
        language: Annotated[str | None, Field(description="Only this language, e.g. python, rust, typescript.")] = None,
        path: Annotated[str | None, Field(description="Only this file, or files under this folder.")] = None,
        content: Annotated[Content, Field(description="code (default), docs, config or all.")] = "code",
        repo: Annotated[str | list[str] | None, Field(
            description="Only this repository (or these), when the index holds several.")] = None,
    ) -> Annotated[CallToolResult, Hits]:
        """Find code by meaning: functions, classes and other structures that answer a question."""
        repos = [repo] if isinstance(repo, str) else repo
        try:  # an agent works in one checkout (the server's working directory): its repository's hits first
            return answer(index.search(query, limit=limit, mode=mode, language=language, path=path, content=content,
                                       repos=repos, prefer=index.home(Path.cwd())))
        except StoreError as exc:
            raise not_ready(exc) from None

    @server.tool(annotations=read_only)
    def related(
        path: Annotated[str, Field(description="A file of the tree, relative to its root.")],
        line: Annotated[int, Field(ge=1, description="A line inside the structure of interest.")],
        limit: Annotated[int, Field(ge=1, le=50)] = 5,
        repo: Annotated[str | None, Field(description="The repository path is in, when several hold it.")] = None,
    ) -> Annotated[CallToolResult, Hits]:
        """Code like the structure at path:line, elsewhere in the tree."""
        try:
            return answer(index.related(path, line, limit=limit, repo=repo))
        except StoreError as exc:
            raise not_ready(exc) from None

    @server.tool(annotations=read_only)
    def read(
        path: Annotated[str, Field(description="A file of the tree, relative to its root.")],
        line_from: Annotated[int, Field(ge=1)] = 1,
        line_to: Annotated[int | None, Field(ge=1, description="Inclusive; at most 400 lines are returned.")] = None,
        repo: Annotated[str | None, Field(description="The repository path is in, when several hold it.")] = None,
    ) -> Annotated[CallToolResult, Lines]:
        """Lines of an indexed file of the tree."""
        try:
            got = index.read(path, line_from, line_to, repo=repo)
        except StoreError as exc:
            raise not_ready(exc) from None
        width = len(str(got.line_to))
        text = "\n".join(f"{n:>{width}} {line}" for n, line in enumerate(got.lines, start=got.line_from))
        lines = Lines(path=got.path, line_from=got.line_from, line_to=got.line_to, total_lines=got.total_lines,
                      text="\n".join(got.lines))
        return CallToolResult(content=[TextContent(type="text", text=text or "(no lines)")],
                              structured_content=lines.model_dump())

    @server.tool(annotations=read_only)
    def status() -> dict[str, Any]:
        """What is indexed (files, structures, languages) and whether indexing is running, and how far."""
        try:
            return index.status().to_json()
        except StoreError as exc:
            raise ToolError(str(exc)) from None

    return server


def serve(root: Path | list[str] | None = None, *, watch: bool = True, update: bool = True, **options: Any) -> None:
    """Run the stdio server for the tree at root (default: the repository around the working directory),
    several trees (DIR or NAME=DIR, as repositories of one collection), or a store folder as it is.

    `update=False` searches the collection as it is: a team's shared index, kept by its own job,
    which an agent's checkout must not write to."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="semsearch mcp: %(message)s")
    index = open_index(root, **options)
    try:
        if not update:
            pass  # the collection as it is
        elif index.root is not None:
            index.keep_fresh(watch=watch)
        else:  # a store folder whose collection records no tree (e.g. imported structures): search it as it is
            logging.getLogger(__name__).warning("%s records no source tree: serving it as it is", index.collection)
        build_server(index).run("stdio")
    finally:
        index.close()
