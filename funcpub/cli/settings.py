"""`funcpub settings diff|push|undo`: the app's settings in Azure against the ones funcpub
publishes, applying them without a deploy, and putting back what a run changed.

The Azure side (`funcpub.deploy`, the Azure SDK) is imported when a command runs, so other
commands never load it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from funcpub.appsettings import (
    FUNCPUB,
    SettingsPlan,
    SettingsRequest,
    user_connection_strings,
    user_values,
)
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
from funcpub.cli.common import AppDir, JsonFlag, load, make_console
from funcpub.cli.publish import (
    AppName,
    ClientId,
    Cloud,
    ResourceGroup,
    Subscription,
    Tenant,
    check_app_name,
)
from funcpub.cli.render import render_settings_diff, render_settings_outcome, undo_hint
from funcpub.console import Console
from funcpub.errors import EXIT_OK, ConfigError
from funcpub.options import Options, resolve_options
from funcpub.plan import plan_app_settings
from funcpub.project import ProgrammingModel

if TYPE_CHECKING:
    from funcpub.deploy.settings import AppCall, SettingsOutcome

settings_app = typer.Typer(
    help="The app settings and connection strings in Azure: compare, push, undo.",
    no_args_is_help=True,
)

DiffSlot = Annotated[str | None, typer.Option("--slot", help="Compare this deployment slot.")]
PushSlot = Annotated[str | None, typer.Option("--slot", help="Change this deployment slot.")]
ShowUnchanged = Annotated[
    bool, typer.Option("--all", help="List unchanged keys too (the JSON always has them).")
]
PushForce = Annotated[
    bool, typer.Option("--force", help="Change the app's Functions major version if asked.")
]
UndoForce = Annotated[
    bool,
    typer.Option(
        "--force", help="Put the previous values back even where someone changed them since."
    ),
]
SettingsDryRun = Annotated[
    bool, typer.Option("--dry-run", help="Read the app and show the changes; change nothing.")
]
ConfigDir = Annotated[
    Path,
    typer.Argument(
        help="A folder whose pyproject.toml (tool.funcpub) may name the cloud, subscription,"
        " resource group and slot.",
        show_default=True,
    ),
]


@settings_app.command("diff")
def diff(
    ctx: typer.Context,
    app_name: AppName,
    app_dir: AppDir = Path(),
    settings_file: SettingsFiles = None,
    app_setting: AppSettings = None,
    overwrite: Overwrite = False,
    force_local_settings: ForceLocalSettings = False,
    slot: DiffSlot = None,
    cloud: Cloud = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    tenant: Tenant = None,
    client_id: ClientId = None,
    show_all: ShowUnchanged = False,
    json_output: JsonFlag = False,
) -> int:
    """Show added, changed and removed app settings and connection strings (values masked).

    Compares the app (or --slot) with local.settings.json (its Values and ConnectionStrings),
    or the --settings-file files instead, plus the app settings of pyproject.toml and
    --app-setting. Reads Azure, changes nothing; each line says what `funcpub publish
    --publish-local-settings` (or with the same --settings-file) would do with the key.
    """
    console = make_console(ctx, json_mode=json_output)
    wanted = _wanted(
        console,
        app_name,
        app_dir,
        local_settings=not settings_file and (app_dir / "local.settings.json").is_file(),
        files=settings_file or (),
        app_setting=app_setting or (),
        overwrite=overwrite,
        force_local=force_local_settings,
        where=_where(slot, cloud, subscription, resource_group),
    )
    from funcpub.deploy.settings import read_remote_settings
    from funcpub.settingsdiff import diff_settings

    remote = read_remote_settings(_call(app_name, wanted.options, console, tenant, client_id))
    result = diff_settings(
        remote,
        wanted=user_values(wanted.options.app_settings, wanted.request.files),
        wanted_connection_strings=user_connection_strings(wanted.request.files),
        planned=wanted.planned,
        model=wanted.model,
    )
    for warning in result.warnings:
        console.warn(warning)
    if json_output:
        console.json(result.to_dict())
    else:
        console.result(render_settings_diff(result, show_unchanged=show_all))
    return EXIT_OK


@settings_app.command("push")
def push(
    ctx: typer.Context,
    app_name: AppName,
    app_dir: AppDir = Path(),
    publish_local_settings: PublishLocalSettings = False,
    settings_file: SettingsFiles = None,
    app_setting: AppSettings = None,
    overwrite: Overwrite = False,
    force_local_settings: ForceLocalSettings = False,
    slot: PushSlot = None,
    dry_run: SettingsDryRun = False,
    force: PushForce = False,
    cloud: Cloud = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    tenant: Tenant = None,
    client_id: ClientId = None,
    json_output: JsonFlag = False,
) -> int:
    """Apply only the settings part of a publish: nothing is built or uploaded.

    The same settings as `funcpub publish` with the same flags (local.settings.json with
    --publish-local-settings, --settings-file, --app-setting, pyproject.toml), refused and kept
    the same way, written read-modify-write and read back. funcpub's own deployment settings
    are left to the publish. --dry-run reads the app and shows the changes without making them.
    """
    console = make_console(ctx, json_mode=json_output)
    wanted = _wanted(
        console,
        app_name,
        app_dir,
        local_settings=publish_local_settings,
        files=settings_file or (),
        app_setting=app_setting or (),
        overwrite=overwrite,
        force_local=force_local_settings,
        where=_where(slot, cloud, subscription, resource_group),
    )
    for refused in wanted.planned.refused:
        console.warn(f"not pushing {refused.label} from {refused.source}: {refused.reason}")
    for warning in wanted.planned.warnings:
        console.warn(warning)
    changes = [c for c in wanted.planned.changes if c.source != FUNCPUB]
    if not changes:
        msg = "there are no settings to push"
        hint = "pass --publish-local-settings, --settings-file or --app-setting"
        raise ConfigError(msg, hint=hint)
    from funcpub.deploy.settings import push_settings

    call = _call(app_name, wanted.options, console, tenant, client_id)
    outcome = push_settings(call, changes, force=force, dry_run=dry_run)
    _report(console, outcome, undo=False, json_output=json_output)
    return EXIT_OK


@settings_app.command("undo")
def undo(
    ctx: typer.Context,
    app_name: AppName,
    config_dir: ConfigDir = Path(),
    slot: PushSlot = None,
    dry_run: SettingsDryRun = False,
    force: UndoForce = False,
    cloud: Cloud = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    tenant: Tenant = None,
    client_id: ClientId = None,
    json_output: JsonFlag = False,
) -> int:
    """Put back the settings the last publish or push from this machine changed on the app.

    Restores exactly the keys that run changed (a key it added is removed), read-modify-write
    and read back; refuses, changing nothing, when someone changed one of them since (--force
    restores anyway). The undo record is deleted once the undo succeeded.
    """
    console = make_console(ctx, json_mode=json_output)
    check_app_name(app_name)
    where = _where(slot, cloud, subscription, resource_group)
    options = resolve_options("publish", config_dir, where, os.environ)
    from funcpub.deploy.settings import undo_settings

    call = _call(app_name, options, console, tenant, client_id)
    outcome = undo_settings(call, force=force, dry_run=dry_run)
    _report(console, outcome, undo=True, json_output=json_output)
    return EXIT_OK


@dataclass(frozen=True, kw_only=True)
class _Wanted:
    """The settings a command compares or pushes, as a publish would plan them."""

    options: Options
    request: SettingsRequest
    planned: SettingsPlan
    model: ProgrammingModel


def _wanted(
    console: Console,
    app_name: str,
    app_dir: Path,
    *,
    local_settings: bool,
    files: Sequence[Path],
    app_setting: Sequence[str],
    overwrite: bool,
    force_local: bool,
    where: dict[str, str | None],
) -> _Wanted:
    """Read the settings files and options, every value registered as a secret first."""
    check_app_name(app_name)
    check_assignments(app_setting)
    register_cli_settings(console, app_setting)
    request = settings_request(
        app_dir,
        console,
        local_settings=local_settings,
        files=files,
        overwrite=overwrite,
        force_local=force_local,
    )
    loaded = load("publish", app_dir, where, console, app_settings=app_setting)
    return _Wanted(
        options=loaded.options,
        request=request,
        planned=plan_app_settings(loaded.project, loaded.options, request),
        model=loaded.project.model,
    )


def _where(
    slot: str | None, cloud: str | None, subscription: str | None, resource_group: str | None
) -> dict[str, str | None]:
    """The command line's configuration values that say where the app is."""
    return {
        "slot": slot,
        "cloud": cloud,
        "subscription": subscription,
        "resource-group": resource_group,
    }


def _call(
    app_name: str, options: Options, console: Console, tenant: str | None, client_id: str | None
) -> AppCall:
    from funcpub.deploy import AzureTarget
    from funcpub.deploy.settings import AppCall

    target = AzureTarget(
        cloud=options.cloud,
        subscription_id=options.subscription,
        resource_group=options.resource_group,
        tenant_id=tenant,
        client_id=client_id,
    )
    return AppCall(
        app_name=app_name, slot=options.slot, target=target, reporter=console, environ=os.environ
    )


def _report(console: Console, outcome: SettingsOutcome, *, undo: bool, json_output: bool) -> None:
    if json_output:
        console.json(outcome.to_dict())
        return
    console.result(render_settings_outcome(outcome, undo=undo))
    if outcome.undo_record:
        app, _, slot = outcome.app.partition("/")
        console.result(undo_hint(app, slot or None))
