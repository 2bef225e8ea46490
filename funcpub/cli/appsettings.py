"""The app-settings options `publish` and `settings diff` share, and reading what they name.

Every value read from local.settings.json, a settings file or `--app-setting` is registered with
the console as a secret (funcpub.masking.secret_values) before anything else is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from funcpub.appsettings import SettingsRequest
from funcpub.console import Console
from funcpub.errors import ConfigError
from funcpub.masking import secret_values
from funcpub.settingsfiles import (
    LOCAL_SETTINGS,
    SettingsFile,
    parse_assignment,
    read_local_settings,
    read_settings_file,
)

PublishLocalSettings = Annotated[
    bool,
    typer.Option(
        "--publish-local-settings",
        help="Also publish the Values of local.settings.json as app settings (masked in output;"
        " local-only values refused; existing values kept unless --overwrite).",
    ),
]
SettingsFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--settings-file",
        metavar="FILE",
        help="A .env or JSON file of app settings to publish (repeatable; later files win).",
    ),
]
AppSettings = Annotated[
    list[str] | None,
    typer.Option(
        "--app-setting",
        metavar="KEY=VALUE",
        help="An app setting to publish (repeatable; wins over the app-settings table"
        " of tool.funcpub in pyproject.toml).",
    ),
]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        "--overwrite-settings",
        help="Replace app settings that have another value in Azure (a Key Vault reference"
        " only with another one).",
    ),
]
ForceLocalSettings = Annotated[
    bool,
    typer.Option(
        "--force-local-settings",
        help="Publish values that only work locally (UseDevelopmentStorage=true, localhost).",
    ),
]


def register_secrets(console: Console, pairs: Sequence[tuple[str, str]]) -> None:
    """Never print these values (the ones funcpub would not show in clear)."""
    for value in secret_values(pairs):
        console.secret(value)


def register_local_settings(app_dir: Path, console: Console) -> SettingsFile | None:
    """local.settings.json, its values registered as secrets; None when missing or unreadable.

    An unreadable file is reported by validation (FP605) and holds no values to hide.
    """
    try:
        local = read_local_settings(app_dir)
    except ConfigError:
        return None
    if local is not None:
        register_secrets(console, list(local.values.items()))
    return local


def register_cli_settings(console: Console, assignments: Sequence[str]) -> None:
    """`--app-setting` values, registered before they can reach any output."""
    pairs = []
    for text in assignments:
        key, separator, value = text.partition("=")
        if separator:
            pairs.append((key.strip(), value))
    register_secrets(console, pairs)


def settings_request(
    app_dir: Path,
    console: Console,
    *,
    local_settings: bool,
    files: Sequence[Path],
    overwrite: bool,
    force_local: bool,
) -> SettingsRequest:
    """Read the settings files to publish (local.settings.json first when asked), every value
    registered as a secret; ConfigError when one is missing or malformed."""
    chosen: list[SettingsFile] = []
    local = register_local_settings(app_dir, console)
    if local_settings:
        if local is None:
            local = read_local_settings(app_dir)  # raises for a malformed file
        if local is None:
            msg = f"there is no {LOCAL_SETTINGS} in {app_dir} to publish"
            raise ConfigError(msg, hint="drop --publish-local-settings, or pass --settings-file")
        chosen.append(local)
    for path in files:
        settings = read_settings_file(path)
        register_secrets(console, list(settings.values.items()))
        chosen.append(settings)
    return SettingsRequest(files=tuple(chosen), overwrite=overwrite, allow_local=force_local)


def check_assignments(assignments: Sequence[str]) -> None:
    """ConfigError for an `--app-setting` without `=` (before anything is read)."""
    for text in assignments:
        parse_assignment(text, "--app-setting")
