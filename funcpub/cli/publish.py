"""`funcpub publish`: plan, build, pack and deploy to an Azure function app.

The command turns its options into a `PublishRequest`, then plans; `--dry-run` stops there. Only
a real publish goes on to `funcpub.cli.deploying`, which loads the Azure SDK and the emulator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

import typer

from funcpub.cli.appsettings import (
    AppSettings,
    ForceLocalSettings,
    Overwrite,
    PublishLocalSettings,
    SettingsFiles,
    check_assignments,
    register_cli_settings,
    settings_request,
)
from funcpub.cli.building import (
    BuildChoices,
    CacheTtl,
    NoCache,
    Refresh,
    Smoke,
    Verbose,
    WritePythonPackages,
    cache_policy,
    check_build_choices,
)
from funcpub.cli.common import (
    AppDir,
    FunctionsVersion,
    Installer,
    JsonFlag,
    Prepared,
    PythonVersion,
    make_console,
    prepare,
    require_valid,
)
from funcpub.cli.container import BaseImage, Dockerfile, Image, Network, Pull, docker_values
from funcpub.cli.oneshot import EmulatorPlan, emulator_plan
from funcpub.cli.render import render_plan
from funcpub.console import Console
from funcpub.errors import EXIT_OK, ConfigError, ValidationError
from funcpub.plan import Plan, make_plan, plan_to_dict

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
Cloud = Annotated[
    str | None,
    typer.Option("--cloud", help="AzureCloud, AzureChinaCloud, AzureUSGovernment or emulator."),
]
Subscription = Annotated[str | None, typer.Option("--subscription", help="Subscription id.")]
ResourceGroup = Annotated[
    str | None,
    typer.Option("--resource-group", "-g", help="The app's resource group [default: look it up]."),
]
Tenant = Annotated[str | None, typer.Option("--tenant", help="Entra tenant to sign in to.")]
ClientId = Annotated[
    str | None, typer.Option("--client-id", help="Service principal or managed identity client id.")
]
Force = Annotated[
    bool,
    typer.Option("--force", help="Change the app's runtime, Python or Functions version to match."),
]
NoVerify = Annotated[
    bool, typer.Option("--no-verify", help="Don't wait for the host to index the functions.")
]
Timeout = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for the deployment.", min=1)
]
ShowKeys = Annotated[bool, typer.Option("--show-keys", help="Print function URLs with keys.")]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Keep the deployed zip here [default: a temporary file]."),
]
UseEmulator = Annotated[
    bool,
    typer.Option(
        "--emulator",
        help="Publish to a local Azure emulator started for this run (creates the app).",
    ),
]


@dataclass(frozen=True, kw_only=True)
class SettingsChoices:
    """Which app settings to publish besides the configuration's own."""

    local_settings: bool  # --publish-local-settings
    files: tuple[Path, ...]  # --settings-file
    assignments: tuple[str, ...]  # --app-setting KEY=VALUE
    overwrite: bool
    force_local: bool


@dataclass(frozen=True, kw_only=True)
class DeployChoices:
    """How to deploy, beyond the configuration keys."""

    tenant: str | None
    client_id: str | None
    force: bool
    verify: bool
    timeout: float
    show_keys: bool
    emulator: bool  # a local emulator started for this run
    emulator_plan: str | None  # --emulator-plan: its app's hosting plan


@dataclass(frozen=True, kw_only=True)
class PublishRequest:
    """Everything `funcpub publish` was asked to do."""

    app_name: str
    app_dir: Path
    config: Mapping[str, str | None]  # configuration keys given on the command line
    settings: SettingsChoices
    build: BuildChoices
    deploy: DeployChoices
    dry_run: bool
    json_output: bool
    output: Path | None  # where to keep the zip


def _cloud(cloud: str | None, *, emulator: bool) -> str | None:
    """--emulator means the emulator cloud; naming another cloud as well is a contradiction."""
    if not emulator:
        return cloud
    if cloud not in (None, "emulator"):
        msg = f"--emulator publishes to a local emulator, not to --cloud {cloud}"
        raise ConfigError(msg, hint="drop one of the two options")
    return "emulator"


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
    cloud: Cloud = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    tenant: Tenant = None,
    client_id: ClientId = None,
    force: Force = False,
    no_verify: NoVerify = False,
    timeout: Timeout = 900,
    show_keys: ShowKeys = False,
    output: Output = None,
    emulator: UseEmulator = False,
    emulator_plan_sku: EmulatorPlan = None,
    smoke: Smoke = None,
    write_python_packages: WritePythonPackages = False,
    verbose: Verbose = False,
    no_cache: NoCache = False,
    refresh: Refresh = False,
    cache_ttl: CacheTtl = "24h",
    publish_local_settings: PublishLocalSettings = False,
    settings_file: SettingsFiles = None,
    app_setting: AppSettings = None,
    overwrite: Overwrite = False,
    force_local_settings: ForceLocalSettings = False,
    dockerfile: Dockerfile = None,
    image: Image = None,
    base_image: BaseImage = None,
    pull: Pull = False,
    network: Network = None,
) -> int:
    """Publish the app: validate, build, pack and zip-deploy (use --dry-run to see the plan)."""
    console = make_console(ctx, json_mode=json_output)
    check_app_name(app_name)
    assignments = tuple(app_setting or ())
    check_assignments(assignments)
    register_cli_settings(console, assignments)
    config = {
        "build": build,
        "python-version": python_version,
        "functions-version": functions_version,
        "installer": installer,
        "slot": slot,
        "cloud": _cloud(cloud, emulator=emulator),
        "subscription": subscription,
        "resource-group": resource_group,
        **docker_values(
            dockerfile=dockerfile, image=image, base_image=base_image, pull=pull, network=network
        ),
    }
    request = PublishRequest(
        app_name=app_name,
        app_dir=app_dir,
        config=config,
        settings=SettingsChoices(
            local_settings=publish_local_settings,
            files=tuple(settings_file or ()),
            assignments=assignments,
            overwrite=overwrite,
            force_local=force_local_settings,
        ),
        build=BuildChoices(
            smoke=smoke,
            write_python_packages=write_python_packages,
            verbose=verbose,
            cache=cache_policy(no_cache=no_cache, refresh=refresh, cache_ttl=cache_ttl),
        ),
        deploy=DeployChoices(
            tenant=tenant,
            client_id=client_id,
            force=force,
            verify=not no_verify,
            timeout=timeout,
            show_keys=show_keys,
            emulator=emulator,
            emulator_plan=emulator_plan_sku,
        ),
        dry_run=dry_run,
        json_output=json_output,
        output=output,
    )
    return run_publish(request, console)


def run_publish(request: PublishRequest, console: Console) -> int:
    """Plan; show the plan for --dry-run, else build, pack and deploy it."""
    prepared, plan = plan_publish(request, console)
    options, choices = prepared.options, request.deploy
    check_build_choices(request.build, options.build)
    if request.dry_run:
        if choices.emulator or choices.emulator_plan is not None:  # refused alike in a real run
            emulator_plan(
                choices.emulator_plan, emulator=choices.emulator, build=options.build,
                slot=options.slot,
            )  # fmt: skip
        return _show_plan(plan, console, json_output=request.json_output)
    require_valid(plan.findings, console, undone="nothing was deployed")
    sku = emulator_plan(
        choices.emulator_plan, emulator=choices.emulator, build=options.build, slot=options.slot
    )
    from funcpub.cli.deploying import deploy_plan  # the Azure SDK and the emulator, only now

    return deploy_plan(plan, prepared, request, console, emulator_plan=sku)


def plan_publish(request: PublishRequest, console: Console) -> tuple[Prepared, Plan]:
    """Read the settings to publish and the app, validate it, and plan the publish."""
    choices = request.settings
    settings = settings_request(
        request.app_dir,
        console,
        local_settings=choices.local_settings,
        files=choices.files,
        overwrite=choices.overwrite,
        force_local=choices.force_local,
    )
    prepared = prepare(
        "publish", request.app_dir, dict(request.config), console, app_settings=choices.assignments
    )
    plan = make_plan(
        prepared.project,
        prepared.options,
        selection=prepared.selection,
        report=prepared.report,
        app_name=request.app_name,
        settings=settings,
    )
    _warn_settings(plan, console)
    return prepared, plan


def _warn_settings(plan: Plan, console: Console) -> None:
    """Settings a file asked for that are not published, and warnings about the settings."""
    for refused in plan.refused_settings:
        console.warn(f"not publishing {refused.label} from {refused.source}: {refused.reason}")
    for warning in plan.warnings:
        console.warn(warning)


def _show_plan(plan: Plan, console: Console, *, json_output: bool) -> int:
    """--dry-run: the plan, and exit 3 when it may not go ahead."""
    if json_output:
        console.json(plan_to_dict(plan))
    else:
        console.result(render_plan(plan))
    return EXIT_OK if plan.ok else ValidationError.exit_code
