"""Changes a publish makes to the app's configuration, shown in the plan before they happen.

Two kinds: what funcpub itself needs (`base_settings` and the build strategy's), and what the
user asks for (`plan_settings`): `[tool.funcpub.app-settings]`, `--app-setting`, and with
`--publish-local-settings` / `--settings-file` the values of local.settings.json or a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final, Literal

from funcpub.errors import ConfigError
from funcpub.masking import is_key_vault_reference, shown_connection_string, shown_value
from funcpub.options import AppSetting
from funcpub.project import ProgrammingModel
from funcpub.settingrules import (
    EXTENSION_VERSION,
    canonical_key,
    local_only_reason,
    name_problem,
    pinned_host,
    value_problem,
    worker_indexing_warning,
)
from funcpub.settingsfiles import SettingsFile

SettingScope = Literal["app setting", "site config", "connection string"]
SettingAction = Literal["ensure", "remove"]
# What an ensure does when the app already has another value for the key:
#   always            replace it (funcpub's own settings)
#   unless-key-vault  replace it, except a Key Vault reference with a literal (explicit settings,
#                     and every user setting with --overwrite)
#   never             keep it and report it as skipped (settings files, Core Tools' default)
ReplacePolicy = Literal["always", "unless-key-vault", "never"]
FUNCPUB: Final = "funcpub"
# Why the app keeps its own value of a user's setting (never the value itself).
KEY_VAULT_KEPT: Final = (
    "the app's value is a Key Vault reference, which only another Key Vault reference"
    " replaces (--overwrite too)"
)
VALUE_KEPT: Final = "the app has another value; --overwrite replaces it"
_TRUE: Final = frozenset({"true", "1"})
_FALSE: Final = frozenset({"false", "0"})


@dataclass(frozen=True, kw_only=True)
class SettingChange:
    """Make `key` equal `value` (ensure) or absent (remove); a no-op when already so."""

    scope: SettingScope
    key: str
    action: SettingAction
    value: str | None
    reason: str
    source: str = FUNCPUB  # funcpub, pyproject.toml, command line, or a settings file's name
    replace: ReplacePolicy = "always"
    public: bool = True  # the value may be printed (funcpub's own values, pyproject.toml)
    connection_type: str | None = None  # a new connection string's ARM type (Custom, SQLAzure...)

    @property
    def shown(self) -> str | None:
        """The value as it may be printed: in clear, `sha256:…` or `***` (funcpub.masking)."""
        return None if self.value is None else self.shown_other(self.value)

    def shown_other(self, value: str) -> str:
        """Another value of this setting (the app's previous one) as it may be printed."""
        return shown_setting(
            self.scope, self.key, value, public=self.public and value == self.value
        )

    @property
    def label(self) -> str:
        """How messages name the setting: `KEY`, or `connection string NAME`."""
        return setting_label(self.scope, self.key)

    def may_replace(self, previous: str) -> bool:
        """Whether this ensure may overwrite the app's different, non-empty `previous` value."""
        if self.replace == "never":
            return False
        if self.replace == "unless-key-vault" and is_key_vault_reference(previous):
            return is_key_vault_reference(self.value or "")
        return True


def kept_reason(previous: str) -> str:
    """Why a user's setting left the app's `previous` value as it is."""
    return KEY_VAULT_KEPT if is_key_vault_reference(previous) else VALUE_KEPT


def setting_label(scope: SettingScope, key: str) -> str:
    """How messages name a setting: `KEY`, or `connection string NAME`."""
    return f"connection string {key}" if scope == "connection string" else key


def shown_setting(scope: SettingScope, key: str, value: str, *, public: bool = False) -> str:
    """A value of an app setting, site config property or connection string as it may be
    printed (funcpub.masking): a connection string is always a secret."""
    if scope == "connection string":
        return shown_connection_string(value)
    return shown_value(key, value, public=public)


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
            EXTENSION_VERSION,
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


def change_to_dict(change: SettingChange) -> dict[str, Any]:
    """A JSON-ready change whose `value` is the shown (masked) value, never the real one."""
    data = asdict(change)
    data["value"] = change.shown
    data["masked"] = change.value is not None and change.shown != change.value
    return data


# --- the user's settings ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SettingsRequest:
    """How the user's settings are published (the publish and `settings diff` flags)."""

    files: tuple[SettingsFile, ...] = ()  # local.settings.json and --settings-file, later wins
    overwrite: bool = False  # replace different values in Azure (a Key Vault reference stays)
    allow_local: bool = False  # --force-local-settings: publish local-only values anyway


@dataclass(frozen=True, kw_only=True)
class RefusedSetting:
    """A setting of a file that is not published, and why (never its value)."""

    key: str
    source: str
    reason: str
    scope: SettingScope = "app setting"

    @property
    def label(self) -> str:
        """How messages name the setting: `KEY`, or `connection string NAME`."""
        return setting_label(self.scope, self.key)


@dataclass(frozen=True, kw_only=True)
class SettingsPlan:
    """Every planned change (funcpub's and the user's), what is refused, and warnings."""

    changes: tuple[SettingChange, ...]
    refused: tuple[RefusedSetting, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class UserValue:
    """A setting the user wants in Azure, from a file or asked for by name."""

    key: str
    value: str
    source: str
    explicit: bool  # asked for by name (pyproject.toml, command line), not read from a file
    public: bool
    connection_type: str | None = None  # a connection string's type if it is new in Azure


def plan_settings(
    managed: Sequence[SettingChange],
    explicit: Sequence[AppSetting],
    request: SettingsRequest,
    *,
    model: ProgrammingModel,
) -> SettingsPlan:
    """funcpub's `managed` changes plus the user's; ConfigError for a bad explicit setting.

    A file's value that must not go to Azure is refused (listed, not published); the same value
    asked for explicitly is a ConfigError. A pinned FUNCTIONS_EXTENSION_VERSION of the planned
    major version replaces funcpub's `~N`; any other clash with a setting funcpub manages is
    refused (files) or an error (explicit).
    """
    changes = list(managed)
    refused: list[RefusedSetting] = []
    for wanted in user_values(explicit, request.files).values():
        reason = _refusal(wanted, allow_local=request.allow_local)
        if reason is None:
            reason = _merge_managed(changes, wanted)
            if reason is None:
                continue
        if wanted.explicit:
            msg = f"app setting {wanted.key} (from {wanted.source}) is not published: {reason}"
            raise ConfigError(msg, hint=_refusal_hint(reason))
        refused.append(RefusedSetting(key=wanted.key, source=wanted.source, reason=reason))
    strings, refused_strings = plan_connection_strings(request)
    changes += strings
    refused += refused_strings
    effective = {
        c.key: c.value for c in changes if c.scope == "app setting" and c.value is not None
    }
    warning = worker_indexing_warning(model, effective)
    if request.overwrite:
        changes = [_overwriting(change) for change in changes]
    return SettingsPlan(
        changes=tuple(changes), refused=tuple(refused), warnings=(warning,) if warning else ()
    )


def plan_connection_strings(
    request: SettingsRequest,
) -> tuple[list[SettingChange], list[RefusedSetting]]:
    """The connection strings of the settings files, and those refused (as app settings are)."""
    changes, refused = [], []
    for wanted in user_connection_strings(request.files).values():
        reason = _publishable(wanted, allow_local=request.allow_local)
        if reason is not None:
            refused.append(
                RefusedSetting(
                    key=wanted.key, source=wanted.source, reason=reason, scope="connection string"
                )
            )
            continue
        change = SettingChange(
            scope="connection string",
            key=wanted.key,
            action="ensure",
            value=wanted.value,
            reason=f"from {wanted.source} (type {wanted.connection_type} if new)",
            source=wanted.source,
            replace="never",
            public=False,
            connection_type=wanted.connection_type,
        )
        changes.append(change)
    return changes, refused


def user_connection_strings(files: Sequence[SettingsFile]) -> dict[str, UserValue]:
    """The connection strings of `files` by upper-case name, later files winning."""
    wanted: dict[str, UserValue] = {}
    for file in files:
        for name, item in file.connection_strings.items():
            wanted.pop(name.upper(), None)
            wanted[name.upper()] = UserValue(
                key=name,
                value=item.value,
                source=file.name,
                explicit=False,
                public=False,
                connection_type=item.type,
            )
    return wanted


def user_values(
    explicit: Sequence[AppSetting], files: Sequence[SettingsFile]
) -> dict[str, UserValue]:
    """The user's settings by upper-case key: files in order, then the explicit ones."""
    wanted: dict[str, UserValue] = {}
    for file in files:
        for key, value in file.values.items():
            item = UserValue(
                key=canonical_key(key), value=value, source=file.name, explicit=False, public=False
            )
            wanted.pop(key.upper(), None)
            wanted[key.upper()] = item
    for setting in explicit:
        wanted.pop(setting.key.upper(), None)
        wanted[setting.key.upper()] = UserValue(
            key=setting.key,
            value=setting.value,
            source=setting.source,
            explicit=True,
            public=setting.public,
        )
    return wanted


def _refusal(wanted: UserValue, *, allow_local: bool) -> str | None:
    """Why `wanted` may not be published as it is; ConfigError for an out-of-range value."""
    if reason := _publishable(wanted, allow_local=allow_local):
        return reason
    if problem := value_problem(wanted.key, wanted.value):
        msg = f"{problem} (from {wanted.source})"
        raise ConfigError(msg, hint="see docs/guide/settings.md for the accepted values")
    return None


def _publishable(wanted: UserValue, *, allow_local: bool) -> str | None:
    """Why `wanted` (an app setting or a connection string) may not go to Azure at all."""
    if problem := name_problem(wanted.key):
        return problem
    if not wanted.value.strip():
        return "the value is empty"
    local = local_only_reason(wanted.key, wanted.value)
    return f"local only: {local}" if local and not allow_local else None


def _refusal_hint(reason: str) -> str:
    if reason.startswith("local only"):
        return "use the value the app needs in Azure, or pass --force-local-settings"
    if reason.startswith("funcpub sets"):
        return "drop the setting: the publish already sets it (see --dry-run)"
    return "fix or drop the setting"


def _merge_managed(changes: list[SettingChange], wanted: UserValue) -> str | None:
    """Add `wanted` to `changes`, or fold it into funcpub's own change of the same key.

    None when done; the reason when it clashes with what funcpub sets.
    """
    index = next(
        (
            i
            for i, c in enumerate(changes)
            if c.scope == "app setting" and c.key.upper() == wanted.key.upper()
        ),
        None,
    )
    if index is None:
        changes.append(_user_change(wanted))
        return None
    managed = changes[index]
    if managed.action == "ensure" and _equivalent(managed.value or "", wanted.value):
        return None
    if managed.key == EXTENSION_VERSION and _same_major(managed.value or "", wanted.value):
        changes[index] = replace(
            _user_change(wanted), reason=f"the Functions host pinned in {wanted.source}"
        )
        return None
    planned = "removes it" if managed.action == "remove" else f"sets it to {managed.shown}"
    return f"funcpub sets {managed.key} for this publish: it {planned} ({managed.reason})"


def _user_change(wanted: UserValue) -> SettingChange:
    return SettingChange(
        scope="app setting",
        key=wanted.key,
        action="ensure",
        value=wanted.value,
        reason=f"from {wanted.source}",
        source=wanted.source,
        replace="unless-key-vault" if wanted.explicit else "never",
        public=wanted.public,
    )


def _overwriting(change: SettingChange) -> SettingChange:
    """--overwrite: a user's setting replaces the app's value, unless that is a Key Vault
    reference and the setting is not one (a reference is never traded for a literal)."""
    return change if change.source == FUNCPUB else replace(change, replace="unless-key-vault")


def _equivalent(one: str, other: str) -> bool:
    """Equal, ignoring case, with true/1 and false/0 alike (as the host reads them)."""
    a, b = one.strip().lower(), other.strip().lower()
    return a == b or {a, b} <= _TRUE or {a, b} <= _FALSE


def _same_major(managed: str, wanted: str) -> bool:
    """A pinned 4.x.y (or ~4) in the user's settings for funcpub's ~4."""
    major = managed.strip().lstrip("~")
    pin = pinned_host(wanted)
    return (pin is not None and str(pin[0]) == major) or wanted.strip() == f"~{major}"
