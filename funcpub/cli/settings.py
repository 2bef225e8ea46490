"""`funcpub settings diff`: the app's settings in Azure against the ones a publish would set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from funcpub.appsettings import user_values
from funcpub.cli.appsettings import (
    AppSettings,
    ForceLocalSettings,
    Overwrite,
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
from funcpub.cli.render import render_settings_diff
from funcpub.errors import EXIT_OK
from funcpub.plan import plan_app_settings

settings_app = typer.Typer(
    help="Compare the app settings in Azure with the ones funcpub publishes.",
    no_args_is_help=True,
)

DiffSlot = Annotated[str | None, typer.Option("--slot", help="Compare this deployment slot.")]
ShowUnchanged = Annotated[
    bool, typer.Option("--all", help="List unchanged keys too (the JSON always has them).")
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
    """Show added, changed and removed app settings (values masked).

    Compares the app (or --slot) with local.settings.json, or the --settings-file files instead,
    plus the app settings of pyproject.toml and --app-setting. Reads Azure, changes nothing;
    each line says what `funcpub publish --publish-local-settings` (or with the same
    --settings-file) would do with the key.
    """
    console = make_console(ctx, json_mode=json_output)
    check_app_name(app_name)
    check_assignments(app_setting or ())
    register_cli_settings(console, app_setting or ())
    request = settings_request(
        app_dir,
        console,
        local_settings=not settings_file and (app_dir / "local.settings.json").is_file(),
        files=settings_file or (),
        overwrite=overwrite,
        force_local=force_local_settings,
    )
    cli: dict[str, str | None] = {
        "slot": slot,
        "cloud": cloud,
        "subscription": subscription,
        "resource-group": resource_group,
    }
    loaded = load("publish", app_dir, cli, console, app_settings=app_setting or ())
    options = loaded.options
    planned = plan_app_settings(loaded.project, options, request)
    from funcpub.deploy import AzureTarget  # the Azure SDK: only once it is needed
    from funcpub.deploy.settings import read_remote_settings
    from funcpub.settingsdiff import diff_settings

    remote = read_remote_settings(
        app_name,
        slot=options.slot,
        target=AzureTarget(
            cloud=options.cloud,
            subscription_id=options.subscription,
            resource_group=options.resource_group,
            tenant_id=tenant,
            client_id=client_id,
        ),
        reporter=console,
        environ=os.environ,
    )
    result = diff_settings(
        app=remote.display,
        azure=remote.app_settings,
        sticky=remote.sticky,
        wanted=user_values(options.app_settings, request.files),
        planned=planned,
        model=loaded.project.model,
    )
    for warning in result.warnings:
        console.warn(warning)
    if json_output:
        console.json(result.to_dict())
    else:
        console.result(render_settings_diff(result, show_unchanged=show_all))
    return EXIT_OK
