"""What every command shares: global flags, loading the project and resolving options."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from funcpub.cli.render import count_summary, render_findings
from funcpub.console import Console
from funcpub.errors import ValidationError
from funcpub.ignore import FileSelection, select_files
from funcpub.options import CommandName, Options, StrategyName, resolve_options
from funcpub.project import FunctionProject
from funcpub.strategies import strategy_for
from funcpub.validate import Finding, Report, validate


@dataclass(kw_only=True)
class RunState:
    """One CLI run: global flags, and the console the error boundary must reuse (its secrets)."""

    quiet: bool = False
    console: Console | None = None


@dataclass(frozen=True, kw_only=True)
class Loaded:
    """A project with its effective options."""

    project: FunctionProject
    options: Options


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """A loaded project with the files its build strategy ships, validated."""

    project: FunctionProject
    options: Options
    selection: FileSelection
    report: Report


AppDir = Annotated[
    Path,
    typer.Argument(help="The function app folder (the one holding host.json).", show_default=True),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]
PythonVersion = Annotated[
    str | None, typer.Option("--python-version", help="Python version of the app, e.g. 3.11.")
]
FunctionsVersion = Annotated[
    str | None, typer.Option("--functions-version", help="Functions runtime major version, e.g. 4.")
]
Installer = Annotated[
    str | None, typer.Option("--installer", help="Installer for local/docker builds: uv or pip.")
]


def make_console(ctx: typer.Context, *, json_mode: bool) -> Console:
    """The console for this run, honouring -q and --json."""
    state = ctx.find_object(RunState) or RunState()
    state.console = Console(json_mode=json_mode, quiet=state.quiet, command=ctx.command_path)
    return state.console


def load(
    command: CommandName,
    app_dir: Path,
    cli_values: dict[str, str | None],
    console: Console,
    *,
    app_settings: Sequence[str] = (),
) -> Loaded:
    """Load the project and resolve options, printing the effective settings.

    `app_settings` are the `--app-setting KEY=VALUE` values of the command line.
    """
    project = FunctionProject.load(app_dir)
    options = resolve_options(
        command, project.root, cli_values, os.environ, app_settings=app_settings
    )
    for warning in options.warnings:
        console.warn(warning)
    console.settings(options.summary())
    console.step(f"reading {project.root}")
    return Loaded(project=project, options=options)


def validate_loaded(
    loaded: Loaded,
    console: Console,
    selection: FileSelection | None = None,
    *,
    build: StrategyName | None = None,
) -> Report:
    """Validate with the run's versions (validate() selects the files when `selection` is None).

    `build` is the build the run makes (pack, publish): some findings are errors only for one.
    In a pipeline every finding also becomes an annotation at its file and line.
    """
    report = validate(
        loaded.project,
        python_version=loaded.options.python_version,
        functions_version=loaded.options.functions_version,
        selection=selection,
        build=build,
    )
    console.findings(report.findings, loaded.project.root)
    return report


def prepare(
    command: CommandName,
    app_dir: Path,
    cli_values: dict[str, str | None],
    console: Console,
    *,
    app_settings: Sequence[str] = (),
) -> Prepared:
    """Load, select the files the strategy ships, and validate: the start of pack and publish."""
    loaded = load(command, app_dir, cli_values, console, app_settings=app_settings)
    ships = strategy_for(loaded.options.build).ships_python_packages
    selection = select_files(loaded.project.root, ship_python_packages=ships)
    return Prepared(
        project=loaded.project,
        options=loaded.options,
        selection=selection,
        report=validate_loaded(loaded, console, selection, build=loaded.options.build),
    )


def require_valid(findings: tuple[Finding, ...], console: Console, *, undone: str) -> None:
    """Stop with ValidationError (after printing the findings) when any finding is an error."""
    if all(finding.severity != "error" for finding in findings):
        return
    console.result(render_findings(findings))
    msg = f"the app is not valid ({count_summary(findings)}); {undone}"
    raise ValidationError(msg, hint="fix the errors above, then run the command again")
