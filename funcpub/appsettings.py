"""Changes a publish makes to the app's configuration, shown in the plan before they happen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SettingScope = Literal["app setting", "site config"]
SettingAction = Literal["ensure", "remove"]


@dataclass(frozen=True, kw_only=True)
class SettingChange:
    """Make `key` equal `value` (ensure) or absent (remove); a no-op when already so."""

    scope: SettingScope
    key: str
    action: SettingAction
    value: str | None
    reason: str


def ensure(
    key: str, value: str, reason: str, *, scope: SettingScope = "app setting"
) -> SettingChange:
    """A setting that must hold `value` after the publish."""
    return SettingChange(scope=scope, key=key, action="ensure", value=value, reason=reason)


def remove(key: str, reason: str) -> SettingChange:
    """An app setting that must be absent after the publish."""
    return SettingChange(scope="app setting", key=key, action="remove", value=None, reason=reason)


def base_settings(python_version: str, functions_version: str) -> tuple[SettingChange, ...]:
    """What every Python publish needs, whatever the build strategy."""
    return (
        ensure("FUNCTIONS_WORKER_RUNTIME", "python", "the app runs the Python worker"),
        ensure(
            "FUNCTIONS_EXTENSION_VERSION",
            f"~{functions_version}",
            f"Functions runtime {functions_version}.x",
        ),
        ensure(
            "linuxFxVersion",
            f"Python|{python_version}",
            f"the app's Linux image runs Python {python_version}",
            scope="site config",
        ),
    )
