"""`funcpub cache list|clear`: the dependency cache in the user cache folder."""

from __future__ import annotations

import time
from dataclasses import asdict

import typer

from funcpub.build.cache import clear_entries, deps_dir, list_entries
from funcpub.cli.common import JsonFlag, make_console
from funcpub.cli.render import human_size

cache_app = typer.Typer(
    help="The dependency cache: builds of requirements reused by pack and publish.",
    no_args_is_help=True,
)


@cache_app.command("list")
def list_cache(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """List the cached dependency builds, newest first."""
    console = make_console(ctx, json_mode=json_output)
    entries = list_entries()
    if json_output:
        console.json({"folder": str(deps_dir()), "entries": [asdict(e) for e in entries]})
        return
    console.line(f"{len(entries)} cached build(s) in {deps_dir()}")
    now = time.time()
    for entry in entries:
        expiry = "exact (never expires)" if entry.exact else "open versions (expires)"
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
        age = f"{(now - entry.created) / 3600:.1f} h ago"
        console.line(f"{entry.key[:12]}  {built} ({age})  {human_size(entry.size)}  {expiry}")
        console.line(f"    {entry.describes}; {len(entry.installed)} distribution(s)")


@cache_app.command("clear")
def clear_cache(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """Remove every cached build that no running funcpub is using."""
    console = make_console(ctx, json_mode=json_output)
    removed, busy, freed = clear_entries()
    if json_output:
        console.json({"removed": removed, "in_use": busy, "freed_bytes": freed})
        return
    console.line(f"removed {removed} cached build(s), {human_size(freed)} freed")
    if busy:
        console.warn(f"{busy} cached build(s) are in use by a running funcpub and were kept")
