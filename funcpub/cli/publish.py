"""`funcpub publish`: plan, build, pack and deploy to an Azure function app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final

import typer

from funcpub.cli.common import (
    AppDir,
    FunctionsVersion,
    Installer,
    JsonFlag,
    PythonVersion,
    make_console,
    prepare,
    require_valid,
)
from funcpub.cli.render import render_plan
from funcpub.errors import EXIT_OK, ConfigError, DeployError, ValidationError
from funcpub.plan import make_plan, plan_to_dict

# Function app names become host names: 2-60 letters, digits and hyphens, no hyphen at either end.
APP_NAME: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])")

AppName = Annotated[str, typer.Argument(help="Name of the function app in Azure.")]
Build = Annotated[
    str | None,
    typer.Option("--build", "-b", help="local, remote, docker or none [default: remote]."),
]
Slot = Annotated[str | None, typer.Option("--slot", help="Deploy to this deployment slot.")]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the full plan; no network, nothing written."),
]


def check_app_name(name: str) -> str:
    """`name` if it can be a function app name, else ConfigError."""
    if not APP_NAME.fullmatch(name):
        msg = f"{name!r} is not a valid function app name"
        raise ConfigError(
            msg, hint="use 2-60 letters, digits and hyphens, not starting or ending with a hyphen"
        )
    return name


def publish(
    ctx: typer.Context,
    app_name: AppName,
    app_dir: AppDir = Path(),
    build: Build = None,
    python_version: PythonVersion = None,
    functions_version: FunctionsVersion = None,
    installer: Installer = None,
    slot: Slot = None,
    dry_run: DryRun = False,
    json_output: JsonFlag = False,
) -> int:
    """Publish the app: validate, build, pack and zip-deploy (use --dry-run to see the plan)."""
    console = make_console(ctx, json_mode=json_output)
    check_app_name(app_name)
    cli = {
        "build": build,
        "python-version": python_version,
        "functions-version": functions_version,
        "installer": installer,
        "slot": slot,
    }
    loaded = prepare("publish", app_dir, cli, console)
    plan = make_plan(
        loaded.project,
        loaded.options,
        selection=loaded.selection,
        report=loaded.report,
        app_name=app_name,
    )
    if dry_run:
        if json_output:
            console.json(plan_to_dict(plan))
        else:
            console.result(render_plan(plan))
        return EXIT_OK if plan.ok else ValidationError.exit_code
    require_valid(plan.findings, console, undone="nothing was deployed")
    msg = "deploying to Azure is not available in this funcpub version"
    raise DeployError(msg, hint="use --dry-run to see the full plan")
