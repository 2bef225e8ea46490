"""`funcpub settings diff`: the app's settings in Azure against the ones the user publishes.

Pure: it takes what was read from Azure and what the publish would plan, and says per key
whether it is added, changed, removed (only in Azure) or unchanged, and what `funcpub publish`
with the same flags would do with it. Values appear only as funcpub.masking shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Final, Literal

from funcpub.appsettings import (
    FUNCPUB,
    SettingChange,
    SettingScope,
    SettingsPlan,
    UserValue,
    shown_setting,
)
from funcpub.connectionstrings import CUSTOM, ConnectionString
from funcpub.deploy.changes import (
    ConcreteChange,
    CurrentConfig,
    concrete_changes,
    merged_app_settings,
    skipped_changes,
)
from funcpub.masking import is_key_vault_reference
from funcpub.project import ProgrammingModel
from funcpub.settingrules import worker_indexing_warning

DiffStatus = Literal["added", "changed", "removed", "unchanged"]
# What `funcpub publish` with the same flags does with the key.
PublishAction = Literal["add", "replace", "skip", "refuse", "keep", "funcpub", "none"]
STATUS_ORDER: Final[Mapping[DiffStatus, int]] = {
    "added": 0,
    "changed": 1,
    "removed": 2,
    "unchanged": 3,
}


@dataclass(frozen=True, kw_only=True)
class DiffEntry:
    """One key: its shown values on both sides and what a publish does with it."""

    key: str
    status: DiffStatus
    azure: str | None  # the app's value as shown (None: not set)
    local: str | None  # the wanted value as shown (None: only in Azure)
    source: str | None  # local.settings.json, a settings file, pyproject.toml, command line
    sticky: bool  # a deployment slot setting (stays with its slot on a swap)
    key_vault_reference: bool  # the app's value is a Key Vault reference
    publish: PublishAction
    note: str


@dataclass(frozen=True, kw_only=True)
class SettingsDiff:
    """The whole comparison: app settings, then connection strings."""

    app: str
    entries: tuple[DiffEntry, ...]
    sticky: tuple[str, ...]
    warnings: tuple[str, ...]
    connection_strings: tuple[DiffEntry, ...] = ()
    sticky_connection_strings: tuple[str, ...] = ()

    def count(self, status: DiffStatus) -> int:
        """How many app settings have `status`."""
        return sum(1 for entry in self.entries if entry.status == status)

    def to_dict(self) -> dict[str, Any]:
        """The `--json` document (values masked as in the table)."""
        return {
            "app": self.app,
            "summary": {status: self.count(status) for status in STATUS_ORDER},
            "entries": [asdict(entry) for entry in self.entries],
            "sticky": list(self.sticky),
            "connection_strings": [asdict(entry) for entry in self.connection_strings],
            "sticky_connection_strings": list(self.sticky_connection_strings),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, kw_only=True)
class RemoteSettings:
    """An app's (or slot's) app settings and connection strings as read from Azure, and the
    names marked as slot settings."""

    display: str  # app or app/slot
    app_settings: Mapping[str, str]
    sticky: frozenset[str]
    connection_strings: Mapping[str, str]  # name -> value (types do not matter to a diff)
    sticky_connection_strings: frozenset[str]


def diff_settings(
    remote: RemoteSettings,
    *,
    wanted: Mapping[str, UserValue],
    wanted_connection_strings: Mapping[str, UserValue],
    planned: SettingsPlan,
    model: ProgrammingModel,
) -> SettingsDiff:
    """Compare the app's settings in `remote` with the user's `wanted` ones as `planned`."""
    current = CurrentConfig(
        app_settings=remote.app_settings,
        site_config={},
        connection_strings={
            name: ConnectionString(value=value, type=CUSTOM)
            for name, value in remote.connection_strings.items()
        },
    )
    settings, applied = _compare(
        "app setting",
        current,
        azure=remote.app_settings,
        sticky=remote.sticky,
        wanted=wanted,
        planned=planned,
    )
    strings, _ = _compare(
        "connection string",
        current,
        azure=remote.connection_strings,
        sticky=remote.sticky_connection_strings,
        wanted=wanted_connection_strings,
        planned=planned,
    )
    return SettingsDiff(
        app=remote.display,
        entries=settings,
        sticky=tuple(sorted(remote.sticky)),
        warnings=_warnings(planned, model, remote.app_settings, applied),
        connection_strings=strings,
        sticky_connection_strings=tuple(sorted(remote.sticky_connection_strings)),
    )


def _compare(
    scope: SettingScope,
    current: CurrentConfig,
    *,
    azure: Mapping[str, str],
    sticky: frozenset[str],
    wanted: Mapping[str, UserValue],
    planned: SettingsPlan,
) -> tuple[tuple[DiffEntry, ...], tuple[ConcreteChange, ...]]:
    """The entries of one scope, and the changes a publish would apply in it."""
    user = [c for c in planned.changes if c.source != FUNCPUB and c.scope == scope]
    applied = concrete_changes(user, current, force=True)
    outcomes = _Outcomes(
        changes={c.key.upper(): c for c in user},
        applied={c.change.key.upper(): c for c in applied},
        skipped={c.change.key.upper(): c for c in skipped_changes(user, current)},
        refused={r.key.upper(): r.reason for r in planned.refused if r.scope == scope},
    )
    azure_keys = {key.upper(): key for key in azure}
    sticky_upper = {name.upper() for name in sticky}
    entries = []
    for upper in sorted({*wanted, *azure_keys}):
        previous = azure.get(azure_keys.get(upper, ""), "") or None
        if upper in wanted:
            entry = _wanted_entry(scope, wanted[upper], previous, outcomes)
        else:
            entry = _azure_only_entry(scope, azure_keys[upper], previous)
        entries.append(replace(entry, sticky=upper in sticky_upper))
    entries.sort(key=lambda e: (STATUS_ORDER[e.status], e.key.lower()))
    return tuple(entries), applied


def _wanted_entry(
    scope: SettingScope, item: UserValue, previous: str | None, outcomes: _Outcomes
) -> DiffEntry:
    action, note = outcomes.action(item.key.upper(), previous)
    return DiffEntry(
        key=item.key,
        status=_STATUS_OF_ACTION.get(action) or _status(previous, item.value),
        azure=None if previous is None else shown_setting(scope, item.key, previous),
        local=shown_setting(scope, item.key, item.value, public=item.public),
        source=item.source,
        sticky=False,
        key_vault_reference=previous is not None and is_key_vault_reference(previous),
        publish=action,
        note=note,
    )


def _azure_only_entry(scope: SettingScope, key: str, previous: str | None) -> DiffEntry:
    return DiffEntry(
        key=key,
        status="removed",
        azure=None if previous is None else shown_setting(scope, key, previous),
        local=None,
        source=None,
        sticky=False,
        key_vault_reference=previous is not None and is_key_vault_reference(previous),
        publish="keep",
        note="a publish never removes settings",
    )


_STATUS_OF_ACTION: Final[Mapping[PublishAction, DiffStatus]] = {
    "add": "added",
    "replace": "changed",
    "skip": "changed",
    "none": "unchanged",
}


def _status(previous: str | None, value: str) -> DiffStatus:
    if previous is None:
        return "added"
    return "unchanged" if previous == value else "changed"


@dataclass(frozen=True, kw_only=True)
class _Outcomes:
    """What the publish planned and would do, by upper-case key."""

    changes: Mapping[str, SettingChange]
    applied: Mapping[str, ConcreteChange]
    skipped: Mapping[str, ConcreteChange]
    refused: Mapping[str, str]

    def action(self, upper: str, previous: str | None) -> tuple[PublishAction, str]:
        """What a publish does with the key, and why (when it does not simply apply it)."""
        if upper in self.refused:
            return "refuse", self.refused[upper]
        if upper not in self.changes:
            return "funcpub", "funcpub sets it (see publish --dry-run)"
        if upper in self.applied:
            return ("add", "") if previous is None else ("replace", "")
        if upper in self.skipped:
            if previous is not None and is_key_vault_reference(previous):
                return "skip", "the app's Key Vault reference is kept, even with --overwrite"
            return "skip", "the app's value is kept unless --overwrite"
        return "none", ""


def _warnings(
    planned: SettingsPlan,
    model: ProgrammingModel,
    azure: Mapping[str, str],
    applied: Sequence[ConcreteChange],
) -> tuple[str, ...]:
    warnings = list(planned.warnings)
    after = merged_app_settings(azure, applied)
    warning = worker_indexing_warning(model, after)
    if warning and warning not in warnings:
        warnings.append(warning)
    return tuple(warnings)
