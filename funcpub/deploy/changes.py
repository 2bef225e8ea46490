"""The concrete configuration changes of a deploy: the plan's wishes against the app's values.

Pure functions: `concrete_changes` keeps only what differs and refuses to silently switch an app
to another language, Python version or Functions major version (Core Tools only warns about the
Python version, and people then meet ModuleNotFoundError at runtime).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from funcpub.appsettings import FUNCPUB, SettingChange, kept_reason
from funcpub.connectionstrings import CUSTOM, ConnectionString
from funcpub.errors import DeployError
from funcpub.masking import MASK, looks_secret, shown_value

# MASK and looks_secret are re-exported: the masking rule itself lives in funcpub.masking.
__all__ = [
    "MASK",
    "ConcreteChange",
    "CurrentConfig",
    "concrete_changes",
    "has_connection_strings",
    "keys_of",
    "looks_secret",
    "merged_app_settings",
    "merged_connection_strings",
    "same_name",
    "shown_value",
    "site_config_patch",
    "skipped_changes",
    "unapplied",
]

_TRUE: Final = frozenset({"true", "1"})
_FALSE: Final = frozenset({"false", "0"})
_MAJOR = re.compile(r"~?(\d+)")


@dataclass(frozen=True, kw_only=True)
class CurrentConfig:
    """The app's configuration as read from ARM."""

    app_settings: Mapping[str, str]
    site_config: Mapping[
        str, str
    ]  # the site-config properties funcpub manages, e.g. linuxFxVersion
    # Read only when a change is about connection strings (ArmApp.current_config).
    connection_strings: Mapping[str, ConnectionString] = field(default_factory=dict)

    def value(self, change: SettingChange) -> str | None:
        """The current value of the setting `change` is about; None when absent or empty.

        App setting and connection string names are matched case-insensitively, as Azure
        matches them.
        """
        if change.scope == "site config":
            return self.site_config.get(change.key) or None
        if change.scope == "connection string":
            name = same_name(self.connection_strings, change.key)
            return (self.connection_strings[name].value if name is not None else None) or None
        key = same_name(self.app_settings, change.key)
        return (self.app_settings.get(key) if key is not None else None) or None


def same_name(settings: Mapping[str, object], key: str) -> str | None:
    """The name `settings` spells `key` with (exact first, then ignoring case); None if absent."""
    if key in settings:
        return key
    return next((name for name in settings if name.upper() == key.upper()), None)


@dataclass(frozen=True, kw_only=True)
class ConcreteChange:
    """A planned change that really changes something."""

    change: SettingChange
    previous: str | None

    def describe(self) -> str:
        """One line for the console: `set KEY=value (was old)`, secrets masked."""
        label = self.change.label
        was = "new" if self.previous is None else f"was {self.change.shown_other(self.previous)}"
        if self.change.action == "remove":
            return f"remove {label} ({was})"
        return f"set {label}={self.change.shown or ''} ({was})"

    def kept(self) -> str:
        """One line for a user's setting the app keeps its own value of: the key and why."""
        return f"kept {self.change.label}: {kept_reason(self.previous or '')}"


def concrete_changes(
    wanted: Iterable[SettingChange], current: CurrentConfig, *, force: bool
) -> tuple[ConcreteChange, ...]:
    """The changes of `wanted` that differ from `current`; DeployError for a guarded conflict."""
    result = []
    for change in wanted:
        previous = current.value(change)
        if change.action == "remove":
            if previous is not None:
                result.append(ConcreteChange(change=change, previous=previous))
            continue
        if _already_satisfied(change, previous):
            continue
        if previous is not None and not change.may_replace(previous):
            continue  # the user's setting does not replace the app's: see skipped_changes
        if previous is not None and not force:
            _refuse_switch(change, previous)
        result.append(ConcreteChange(change=change, previous=previous))
    return tuple(result)


def skipped_changes(
    wanted: Iterable[SettingChange], current: CurrentConfig
) -> tuple[ConcreteChange, ...]:
    """The ensures of `wanted` left out because the app has another value they may not replace
    (no --overwrite, or a Key Vault reference); `previous` is the app's value."""
    result = []
    for change in wanted:
        previous = current.value(change)
        if change.action != "ensure" or previous is None:
            continue
        if not _already_satisfied(change, previous) and not change.may_replace(previous):
            result.append(ConcreteChange(change=change, previous=previous))
    return tuple(result)


def _already_satisfied(change: SettingChange, previous: str | None) -> bool:
    """Whether `previous` already means what `change` asks for."""
    wanted = change.value or ""
    if previous is None:
        return False
    # funcpub's own wishes accept equivalents (a user's 4.x.y pin satisfies ~4); a value the
    # user asked for must be there as written.
    same = _EQUIVALENT.get(change.key, _same_value) if change.source == FUNCPUB else _same_value
    return same(previous, wanted)


def _same_value(previous: str, wanted: str) -> bool:
    """Equal, with true/1 and false/0 counted as the same (Kudu reads them alike)."""
    old, new = previous.strip().lower(), wanted.strip().lower()
    if {old, new} <= _TRUE or {old, new} <= _FALSE:
        return True
    return previous == wanted


def _same_ignoring_case(previous: str, wanted: str) -> bool:
    return previous.strip().lower() == wanted.strip().lower()


def _same_major(previous: str, wanted: str) -> bool:
    """~4, 4 and a pinned 4.x.y are all Functions 4; a user's pin is kept."""
    old, new = _MAJOR.match(previous.strip()), _MAJOR.match(wanted.strip())
    return bool(old and new and old.group(1) == new.group(1))


_EQUIVALENT: Final[Mapping[str, Callable[[str, str], bool]]] = {
    "FUNCTIONS_WORKER_RUNTIME": _same_ignoring_case,
    "FUNCTIONS_EXTENSION_VERSION": _same_major,
    "linuxFxVersion": _same_ignoring_case,
}


def _refuse_switch(change: SettingChange, previous: str) -> None:
    """Raise if `change` would switch the app's language or version; other keys just change."""
    hint = _SWITCH_HINTS.get(change.key)
    if hint is None or _EQUIVALENT[change.key](previous, change.value or ""):
        return  # e.g. a user's 4.x.y pin where the app runs ~4: the same major version
    msg = f"the app has {change.key}={previous}, but this publish needs {change.value}"
    raise DeployError(msg, hint=hint(previous, change.value or ""))


def _runtime_hint(previous: str, wanted: str) -> str:
    return f"the app runs the {previous} worker; pass --force to switch it to {wanted}"


def _python_hint(previous: str, wanted: str) -> str:
    prefix, _, version = previous.partition("|")
    if prefix.lower() == "python" and version:
        return f"build for the app with --python-version {version}, or pass --force to set {wanted}"
    return f"the app's image is {previous}; pass --force to set {wanted}"


def _extension_hint(previous: str, wanted: str) -> str:
    match = _MAJOR.match(previous.strip())
    if match:
        return (
            f"build for the app with --functions-version {match.group(1)}, "
            f"or pass --force to set {wanted}"
        )
    return f"pass --force to set {wanted}"


_SWITCH_HINTS: Final[Mapping[str, Callable[[str, str], str]]] = {
    "FUNCTIONS_WORKER_RUNTIME": _runtime_hint,
    "linuxFxVersion": _python_hint,
    "FUNCTIONS_EXTENSION_VERSION": _extension_hint,
}


def merged_app_settings(
    current: Mapping[str, str], changes: Sequence[ConcreteChange]
) -> dict[str, str]:
    """The full app-settings dict to PUT: everything read plus the changes (PUT replaces all)."""
    merged = dict(current)
    for item in changes:
        if item.change.scope != "app setting":
            continue
        # Azure knows no two keys differing only in case; the app's spelling stays (the code
        # reads it, and Linux environment variables are case-sensitive).
        existing = same_name(merged, item.change.key)
        if item.change.action == "remove":
            merged.pop(existing or item.change.key, None)
        else:
            merged[existing or item.change.key] = item.change.value or ""
    return merged


def merged_connection_strings(
    current: Mapping[str, ConnectionString], changes: Sequence[ConcreteChange]
) -> dict[str, ConnectionString]:
    """The full connection-strings dict to PUT: everything read plus the changes.

    An existing connection string keeps its name and type: the type names the environment
    variable the app reads (funcpub.connectionstrings).
    """
    merged = dict(current)
    for item in changes:
        if item.change.scope != "connection string":
            continue
        existing = same_name(merged, item.change.key)
        if item.change.action == "remove":
            merged.pop(existing or item.change.key, None)
            continue
        kind = merged[existing].type if existing else item.change.connection_type or CUSTOM
        merged[existing or item.change.key] = ConnectionString(
            value=item.change.value or "", type=kind
        )
    return merged


def site_config_patch(changes: Sequence[ConcreteChange]) -> dict[str, str]:
    """The site-config properties to PATCH (a removal empties the property)."""
    return {
        item.change.key: item.change.value or ""
        for item in changes
        if item.change.scope == "site config"
    }


def unapplied(changes: Sequence[ConcreteChange], after: CurrentConfig) -> tuple[str, ...]:
    """Keys whose read-back value does not match the change."""
    missing = []
    for item in changes:
        value = after.value(item.change)
        if item.change.action == "remove":
            ok = value is None
        else:
            ok = value is not None and _already_satisfied(item.change, value)
        if not ok:
            missing.append(item.change.key)
    return tuple(missing)


def keys_of(changes: Sequence[ConcreteChange], scope: str | None = None) -> tuple[str, ...]:
    """The keys of `changes` (of one scope), connection strings named as such."""
    return tuple(c.change.label for c in changes if scope is None or c.change.scope == scope)


def has_connection_strings(changes: Iterable[SettingChange]) -> bool:
    """Whether any of `changes` is about a connection string (they are read only then)."""
    return any(change.scope == "connection string" for change in changes)
