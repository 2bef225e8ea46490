"""`funcpub publish`: plan, build, pack and deploy to an Azure function app."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import requests
import typer

from funcpub.appsettings import change_to_dict
from funcpub.build.pipeline import StagedPackage
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
    CacheTtl,
    NoCache,
    Refresh,
    Smoke,
    Verbose,
    WritePythonPackages,
    built_package,
    cache_policy,
)
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
from funcpub.cli.container import BaseImage, Dockerfile, Image, Network, Pull, docker_values
from funcpub.cli.oneshot import EmulatorPlan, emulator_plan
from funcpub.cli.render import render_deploy_result, render_plan
from funcpub.console import Console
from funcpub.deploy import AzureTarget, DeployedFunction, DeployOptions, DeployResult, deploy
from funcpub.emulator import Emulator
from funcpub.errors import EXIT_OK, ConfigError, ValidationError
from funcpub.options import Options
from funcpub.package import Artifact, write_zip, zip_timestamp
from funcpub.plan import Plan, make_plan, plan_to_dict

if TYPE_CHECKING:
    from funcpub.emulator.records import PlanSku

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
SMOKE_TIMEOUT: Final = 30


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
    check_assignments(app_setting or ())
    register_cli_settings(console, app_setting or ())
    settings = settings_request(
        app_dir,
        console,
        local_settings=publish_local_settings,
        files=settings_file or (),
        overwrite=overwrite,
        force_local=force_local_settings,
    )
    cli = {
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
    loaded = prepare("publish", app_dir, cli, console, app_settings=app_setting or ())
    plan = make_plan(
        loaded.project,
        loaded.options,
        selection=loaded.selection,
        report=loaded.report,
        app_name=app_name,
        settings=settings,
    )
    _warn_settings(plan, console)
    if dry_run:
        if json_output:
            console.json(plan_to_dict(plan))
        else:
            console.result(render_plan(plan))
        return EXIT_OK if plan.ok else ValidationError.exit_code
    require_valid(plan.findings, console, undone="nothing was deployed")
    sku = emulator_plan(
        emulator_plan_sku, emulator=emulator, build=loaded.options.build, slot=loaded.options.slot
    )
    target = AzureTarget(
        cloud=loaded.options.cloud,
        subscription_id=loaded.options.subscription,
        resource_group=loaded.options.resource_group,
        tenant_id=tenant,
        client_id=client_id,
    )
    deploy_options = DeployOptions(
        force=force, verify=not no_verify, timeout=timeout, show_keys=show_keys
    )
    build_package = functools.partial(
        built_package,
        loaded.project,
        loaded.options,
        loaded.selection,
        console,
        smoke=smoke,
        write_python_packages=write_python_packages,
        verbose=verbose,
        cache=cache_policy(no_cache=no_cache, refresh=refresh, cache_ttl=cache_ttl),
    )
    with (
        _package(plan, build_package, output, console) as artifact,
        _environment(emulator, loaded.options, app_name, console, sku) as environ,
    ):
        result = deploy(
            plan, artifact, target=target, options=deploy_options, reporter=console, environ=environ
        )
        answers = _smoke_requests(result.functions, environ) if emulator else ()
    _report(console, result, artifact, answers, json_output=json_output)
    return EXIT_OK


def _warn_settings(plan: Plan, console: Console) -> None:
    """Settings a file asked for that are not published, and warnings about the settings."""
    for refused in plan.refused_settings:
        console.warn(f"not publishing {refused.key} from {refused.source}: {refused.reason}")
    for warning in plan.warnings:
        console.warn(warning)


@contextmanager
def _package(
    plan: Plan,
    build: Callable[[], AbstractContextManager[StagedPackage]],
    output: Path | None,
    console: Console,
) -> Iterator[Artifact]:
    """Build, then the zip to deploy: at --output, or in a temporary folder removed afterwards.

    The build's staging folder is gone before the deploy starts; only the zip stays.
    """
    with tempfile.TemporaryDirectory(prefix="funcpub-") as scratch:
        destination = (output or Path(scratch) / f"{plan.app_name}.zip").resolve()
        with build() as staged:
            console.step(f"packing {len(staged.files)} files into {destination.name}")
            artifact = write_zip(
                staged.files, destination, timestamp=zip_timestamp(), store=staged.store
            )
        yield artifact


@contextmanager
def _environment(
    use_emulator: bool, options: Options, app_name: str, console: Console, plan: PlanSku
) -> Iterator[Mapping[str, str]]:
    """The process environment, or one pointing at a fresh emulator holding the app."""
    if not use_emulator:
        yield os.environ
        return
    with (
        tempfile.TemporaryDirectory(prefix="funcpub-emulator-") as data_dir,
        Emulator(Path(data_dir)) as emulator,
    ):
        console.step(f"started the Azure emulator at {emulator.url}")
        emulator.create_app(
            app_name,
            python=options.python_version,
            functions_version=options.functions_version,
            resource_group=options.resource_group or "rg-funcpub",
            plan=plan,
        )
        if options.slot:
            emulator.create_slot(app_name, options.slot)
        console.secret(emulator.client_secret)
        yield {**os.environ, **emulator.client_env()}


def _smoke_requests(
    functions: tuple[DeployedFunction, ...], environ: Mapping[str, str]
) -> tuple[tuple[str, int, str], ...]:
    """GET each HTTP function once: (url, status, start of the body)."""
    verify = environ.get("REQUESTS_CA_BUNDLE", True)
    answers = []
    for function in functions:
        if function.trigger != "httpTrigger" or not function.url:
            continue
        response = requests.get(function.url, verify=verify, timeout=SMOKE_TIMEOUT)
        answers.append((function.url, response.status_code, response.text[:200]))
    return tuple(answers)


def _report(
    console: Console,
    result: DeployResult,
    artifact: Artifact,
    smoke: tuple[tuple[str, int, str], ...],
    *,
    json_output: bool,
) -> None:
    if json_output:
        document = asdict(result) | {"package": asdict(artifact) | {"path": str(artifact.path)}}
        document["applied_changes"] = [change_to_dict(c) for c in result.applied_changes]
        document["smoke"] = [{"url": u, "status": s, "body": b} for u, s, b in smoke]
        console.json(document)
        return
    console.result(render_deploy_result(result, artifact, smoke))
