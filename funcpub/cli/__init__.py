"""The `funcpub` command line: thin commands over the library, and the one error boundary.

A run imports only the command its argv names (`COMMANDS`), so `funcpub pack` never loads the
code of `publish` or `settings`; help, completion and a mistyped name get every command.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Final

import typer

from funcpub import __version__
from funcpub.cli.common import RunState
from funcpub.console import Console
from funcpub.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, ConfigError, FuncpubError

# Every command in help order: the module, and its command function or sub-app there.
COMMANDS: Final[Mapping[str, tuple[str, str]]] = {
    "validate": ("funcpub.cli.validate", "validate"),
    "pack": ("funcpub.cli.pack", "pack"),
    "publish": ("funcpub.cli.publish", "publish"),
    "lock": ("funcpub.cli.lock", "lock"),
    "settings": ("funcpub.cli.settings", "settings_app"),
    "emulator": ("funcpub.cli.emulator", "emulator_app"),
    "cache": ("funcpub.cli.cache", "cache_app"),
}


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"funcpub {__version__}")
        raise typer.Exit


def main_options(
    ctx: typer.Context,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only results, warnings and errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Package and publish Azure Functions Python apps."""
    ctx.ensure_object(RunState).quiet = quiet


def cli_app(argv: Sequence[str] = ()) -> typer.Typer:
    """The `funcpub` app with the command `argv` names, or with all of them when it names none
    (help, completion) or one that does not exist (so typer answers "did you mean")."""
    name = _command_named(argv)
    names = [name] if name is not None else list(COMMANDS)
    app = typer.Typer(
        name="funcpub",
        help="Package and publish Azure Functions Python apps.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(main_options)
    for command in names:
        module, attribute = COMMANDS[command]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=command)
        else:
            app.command(command)(target)
    return app


def _command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` runs; None when help is asked for before any (`funcpub --help pack`
    lists every command) or its first word is no command."""
    for arg in argv:
        if arg == "--help":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def run(argv: Sequence[str]) -> int:
    """Run the CLI; every failure becomes a message and an exit code, never a traceback.

    In a pipeline the run ends with its summary, and the step marked failed unless the code is 0.
    """
    state = RunState()
    code = _run(argv, state)
    _console(state).finish(code)
    return code


def _console(state: RunState) -> Console:
    """The run's console (it knows the run's secrets); a plain one if the command made none."""
    if state.console is None:
        state.console = Console(quiet=state.quiet)
    return state.console


def _run(argv: Sequence[str], state: RunState) -> int:
    command = typer.main.get_command(cli_app(argv))
    # The Azure SDKs log warnings (e.g. each credential a chain tried); funcpub reports failures
    # itself, so keep Python's last-resort handler from printing them.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    try:
        result = command.main(
            args=list(argv), prog_name="funcpub", standalone_mode=False, obj=state
        )
    except FuncpubError as error:
        _console(state).error(error)
        return error.exit_code
    except typer.TyperException as error:
        # Usage errors from the option parser (exit 2), already worded for the user.
        _console(state).error(ConfigError(error.format_message()))
        return error.exit_code
    except (KeyboardInterrupt, typer.Abort):
        result = EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the boundary: report, never a traceback
        _console(state).internal_error(error)
        return EXIT_INTERNAL
    if result == EXIT_INTERRUPTED:  # typer also turns Ctrl-C inside a command into Exit(130)
        _console(state).warn("interrupted")
    return result if isinstance(result, int) else 0
