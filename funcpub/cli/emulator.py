"""`funcpub emulator`: run the local Azure emulator and create function apps in it.

The commands import the emulator when they run, so other commands never load its server.
"""

from __future__ import annotations

import shlex
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from funcpub.cli.common import JsonFlag, make_console
from funcpub.console import Console
from funcpub.errors import ConfigError

if TYPE_CHECKING:
    from funcpub.emulator import Emulator, SiteInfo

FEDERATED_TOKEN_FILE: Final = "federated-token.jwt"  # noqa: S105 - a file name
FEDERATED_TOKEN_LIFETIME: Final = 24 * 3600

emulator_app = typer.Typer(
    name="emulator",
    help="The local Azure emulator: Entra ID, ARM, Kudu and a Functions host over HTTPS.",
    no_args_is_help=True,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Emulator state [default: $FUNCPUB_EMULATOR_DATA or ~/.local/share/funcpub/emulator].",
    ),
]


def _export_lines(emulator: Emulator, token_file: Path) -> list[str]:
    """Shell lines that point Azure SDK clients and funcpub at the emulator."""
    lines = [f"export {name}={shlex.quote(value)}" for name, value in emulator.client_env().items()]
    lines.append(
        "# workload identity instead of the secret: unset AZURE_CLIENT_SECRET; "
        f"export AZURE_FEDERATED_TOKEN_FILE={shlex.quote(str(token_file))}"
    )
    return lines


def _site_line(site: SiteInfo) -> str:
    name = site.name if site.slot is None else f"{site.name}/{site.slot}"
    return f"  {name} ({site.plan}, {site.os}): app {site.app_url}  scm {site.scm_url}"


def _announce(console: Console, emulator: Emulator, token_file: Path) -> None:
    console.line(f"funcpub emulator listening on {emulator.url}")
    console.line(f"CA bundle: {emulator.ca_bundle}")
    console.line(f"data dir:  {emulator.data_dir}")
    # The client secret only unlocks this local emulator; clients need it, so it is printed.
    console.line("# point clients at the emulator (the secret only unlocks this emulator):")
    for line in _export_lines(emulator, token_file):
        console.line(line)
    sites = emulator.sites()
    if sites:
        console.line("sites:")
        for site in sites:
            console.line(_site_line(site))
    console.line("Press Ctrl-C to stop.")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", help="Main port (Entra ID + ARM).")] = 8443,
    data_dir: DataDir = None,
    faults: Annotated[
        Path | None, typer.Option("--faults", help="JSON file of fault-injection rules.")
    ] = None,
    seed: Annotated[
        Path | None,
        typer.Option("--seed", help="TOML file of apps to create at start when missing."),
    ] = None,
) -> None:
    """Serve the emulator until Ctrl-C; prints the URL, the CA bundle and client settings."""
    from funcpub.emulator import Emulator
    from funcpub.emulator.control import default_data_dir
    from funcpub.emulator.seed import apply_seed, read_seed

    console = make_console(ctx, json_mode=False)
    directory = data_dir or default_data_dir()
    try:
        emulator = Emulator(directory, port=port, faults_file=faults)
    except (OSError, ValueError) as exc:
        msg = f"cannot load the fault rules in {faults}: {exc}"
        raise ConfigError(msg, hint="--faults takes a JSON list of rules") from None
    apps = read_seed(seed) if seed else ()
    emulator.start()
    try:
        apply_seed(emulator, apps)
        token_file = directory / FEDERATED_TOKEN_FILE
        token_file.write_text(emulator.federated_token(lifetime=FEDERATED_TOKEN_LIFETIME))
        _announce(console, emulator, token_file)
        signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under `docker stop` / CI too
        threading.Event().wait()
    except KeyboardInterrupt:
        console.step("stopping the emulator")
    finally:
        emulator.stop()


def create_app_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The function app name.")],
    plan: Annotated[str, typer.Option("--plan", help="Y1, EP1, EP2, EP3, FC1 or P1v3.")] = "EP1",
    python: Annotated[str, typer.Option("--python", help="Python version, e.g. 3.11.")] = "3.11",
    functions_version: Annotated[
        str, typer.Option("--functions-version", help="Functions runtime major version.")
    ] = "4",
    os: Annotated[str, typer.Option("--os", help="linux or windows.")] = "linux",
    resource_group: Annotated[
        str, typer.Option("--resource-group", help="Resource group to create it in.")
    ] = "rg-funcpub",
    no_basic_auth: Annotated[
        bool, typer.Option("--no-basic-auth", help="Disallow Basic auth on the SCM site.")
    ] = False,
    data_dir: DataDir = None,
    json_output: JsonFlag = False,
) -> None:
    """Create a function app; a running `serve` on the same data dir picks it up at once."""
    from funcpub.emulator.control import AppOptions, create_app, default_data_dir
    from funcpub.emulator.records import parse_os, parse_plan

    console = make_console(ctx, json_mode=json_output)
    try:
        options = AppOptions(
            name=name,
            plan=parse_plan(plan),
            python=python,
            functions_version=functions_version,
            os=parse_os(os),
            resource_group=resource_group,
            basic_auth=not no_basic_auth,
        )
        site = create_app(data_dir or default_data_dir(), options)
    except ValueError as exc:
        raise ConfigError(str(exc), hint="pick another name or valid options") from None
    if json_output:
        console.json(site.to_json())
        return
    console.line(f"created {site.name} in {site.resource_group} ({site.plan}, {site.os})")
    if site.app_host.endswith(":0"):
        console.line("ports are assigned when `funcpub emulator serve` starts")
    else:
        console.line(f"app: {site.app_url}")
        console.line(f"scm: {site.scm_url}")


emulator_app.command("serve")(serve)
emulator_app.command("create-app")(create_app_command)
