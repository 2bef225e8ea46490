"""The `funcpub` command line: thin commands over the library, and the one error boundary."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

import typer

from funcpub import __version__
from funcpub.cli import pack, publish
from funcpub.cli import validate as validate_command
from funcpub.cli.common import RunState
from funcpub.cli.emulator import emulator_app
from funcpub.console import Console
from funcpub.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, FuncpubError

app = typer.Typer(
    name="funcpub",
    help="Package and publish Azure Functions Python apps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("validate")(validate_command.validate)
app.command("pack")(pack.pack)
app.command("publish")(publish.publish)
app.add_typer(emulator_app, name="emulator")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"funcpub {__version__}")
        raise typer.Exit


@app.callback()
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


def run(argv: Sequence[str]) -> int:
    """Run the CLI; every failure becomes a message and an exit code, never a traceback."""
    command = typer.main.get_command(app)
    state = RunState()
    # The Azure SDKs log warnings (e.g. each credential a chain tried); funcpub reports failures
    # itself, so keep Python's last-resort handler from printing them.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    try:
        result = command.main(
            args=list(argv), prog_name="funcpub", standalone_mode=False, obj=state
        )
    except FuncpubError as error:
        (state.console or Console()).error(error)
        return error.exit_code
    except typer.TyperException as error:
        # Usage errors from the option parser (exit 2), already worded for the user.
        typer.echo(f"error: {error.format_message()}", err=True)
        return error.exit_code
    except (KeyboardInterrupt, typer.Abort):
        result = EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the boundary: report, never a traceback
        (state.console or Console()).internal_error(error)
        return EXIT_INTERNAL
    if result == EXIT_INTERRUPTED:  # typer also turns Ctrl-C inside a command into Exit(130)
        (state.console or Console()).warn("interrupted")
    return result if isinstance(result, int) else 0
