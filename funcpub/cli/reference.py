"""The command-line reference in Markdown, walked from the typer app (docs/reference/cli.md).

Generated from the same click command tree `funcpub --help` prints, so the page cannot drift
from the code; `funcpub.docgen` writes it and a test fails when the committed page is stale.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import typer
import typer.core

from funcpub.cli import cli_app


def _cell(text: str) -> str:
    """Help text safe in a Markdown table cell (metavars such as <path> are not HTML)."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _commands(
    command: typer.core.TyperGroup | typer.core.TyperCommand, ctx: typer.Context
) -> Iterator[tuple[typer.core.TyperGroup | typer.core.TyperCommand, typer.Context]]:
    """The command and every subcommand, depth first, with their contexts."""
    yield command, ctx
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            if isinstance(sub, (typer.core.TyperGroup, typer.core.TyperCommand)) and not sub.hidden:
                yield from _commands(sub, typer.Context(sub, info_name=name, parent=ctx))


def _section(command: typer.core.TyperGroup | typer.core.TyperCommand, ctx: typer.Context) -> str:
    path = ctx.command_path
    lines = [f"## `{path}`", "", "```", command.get_usage(ctx).removeprefix("Usage: "), "```", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [help_text, ""]
    rows = [record for param in command.params if (record := param.get_help_record(ctx))]
    if rows:
        lines += ["| argument or option | description |", "| --- | --- |"]
        lines += [f"| `{names}` | {_cell(description)} |" for names, description in rows]
        lines.append("")
    if isinstance(command, typer.core.TyperGroup):
        names = [f"[`{path} {name}`](#{_anchor(f'{path} {name}')})" for name in command.commands]
        lines += ["Commands: " + ", ".join(names), ""]
    return "\n".join(lines)


def _anchor(title: str) -> str:
    """The id Python-Markdown's toc gives a `## \\`title\\`` heading."""
    return "-".join("".join(c for c in title.lower() if c.isalnum() or c in " -_").split())


def cli_reference() -> str:
    """Every command, argument and option of `funcpub`, as Markdown sections."""
    root = typer.main.get_command(cli_app())
    assert isinstance(root, typer.core.TyperGroup)
    ctx = typer.Context(root, info_name="funcpub")
    return "\n".join(_section(command, context) for command, context in _commands(root, ctx))
