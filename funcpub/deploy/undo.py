"""Undo records: what a publish or `settings push` changed on an app, to put it back later.

Azure keeps no history of an app's settings, so the previous values must be kept here: after
every run that changed settings, one record per app (and slot) in funcpub's user cache folder,
`undo/<hash>.json`, replacing the app's previous record. It holds, per key funcpub changed, the
previous value (or that there was none) in clear - a restore needs it - and only a salted hash
of the value funcpub set, enough to tell whether someone changed the key since. The file is
created 0600 in a 0700 folder (like the Azure CLI's token cache, which grants far more), and
`funcpub settings undo` deletes it once it has put everything back.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from funcpub.appsettings import SettingAction, SettingChange, SettingScope, setting_label
from funcpub.deploy.changes import ConcreteChange, CurrentConfig, keys_of
from funcpub.deploy.lock import lock_key
from funcpub.errors import ConfigError
from funcpub.masking import connection_string_secrets, secret_values
from funcpub.usercache import cache_dir

if TYPE_CHECKING:
    from funcpub.deploy.arm import SiteInfo

UNDO_FOLDER: Final = "undo"
RECORD_VERSION: Final = 1
UNDO_SOURCE: Final = "undo"
_SCOPES: Final[Mapping[str, SettingScope]] = {
    "app setting": "app setting",
    "site config": "site config",
    "connection string": "connection string",
}


@dataclass(frozen=True, kw_only=True)
class UndoTarget:
    """The app (or slot) a record is about."""

    cloud: str
    subscription: str
    resource_group: str
    app: str
    slot: str | None

    @classmethod
    def of(cls, cloud: str, subscription: str, site: SiteInfo) -> UndoTarget:
        """The target of a site found in `subscription` of `cloud`."""
        return cls(
            cloud=cloud,
            subscription=subscription,
            resource_group=site.resource_group,
            app=site.name,
            slot=site.slot,
        )

    @property
    def display(self) -> str:
        """app or app/slot."""
        return f"{self.app}/{self.slot}" if self.slot else self.app


@dataclass(frozen=True, kw_only=True)
class UndoEntry:
    """One key funcpub changed: its value before (None: it did not exist) and a salted hash of
    the value funcpub set (None: funcpub removed it)."""

    scope: SettingScope
    key: str
    previous: str | None
    applied: str | None

    @property
    def label(self) -> str:
        """How messages name the key."""
        return setting_label(self.scope, self.key)


@dataclass(frozen=True, kw_only=True)
class UndoRecord:
    """What one run changed on one app."""

    target: UndoTarget
    created: str  # ISO 8601, UTC
    command: str  # publish, settings push
    salt: str
    entries: tuple[UndoEntry, ...]

    def secrets(self) -> list[str]:
        """The previous values the console must never print."""
        settings = [(e.key, e.previous) for e in self.entries if e.scope != "connection string"]
        strings = [e.previous for e in self.entries if e.scope == "connection string"]
        return [
            *secret_values((key, value) for key, value in settings if value is not None),
            *connection_string_secrets(value for value in strings if value is not None),
        ]

    def matches(self, entry: UndoEntry, value: str | None) -> bool:
        """Whether `value` is what funcpub set for `entry`."""
        return entry.applied == (None if value is None else _salted(self.salt, value))


def record_path(cloud: str, subscription: str, app: str, slot: str | None) -> Path:
    """Where the undo record of an app (or slot) is kept."""
    key = lock_key(cloud, subscription, app, slot)
    return cache_dir() / UNDO_FOLDER / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def make_record(
    target: UndoTarget, changes: Sequence[ConcreteChange], *, command: str
) -> UndoRecord:
    """The record of `changes`, just applied to `target`."""
    salt = secrets.token_hex(16)
    entries = tuple(
        UndoEntry(
            scope=item.change.scope,
            key=item.change.key,
            previous=item.previous,
            applied=None if item.change.value is None else _salted(salt, item.change.value),
        )
        for item in changes
    )
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return UndoRecord(target=target, created=created, command=command, salt=salt, entries=entries)


def save_record(record: UndoRecord) -> Path:
    """Write `record` (replacing the app's previous one) readable by this user only; OSError."""
    target = record.target
    path = record_path(target.cloud, target.subscription, target.app, target.slot)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".undo-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:  # mkstemp makes it 0600
            json.dump(_to_json(record), stream, indent=2)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


class UndoReporter(Protocol):
    """Where saving a record reports a failure (funcpub.console.Console implements it)."""

    def warn(self, message: str) -> None: ...


def keep_undo_record(
    reporter: UndoReporter,
    target: UndoTarget,
    changes: Sequence[ConcreteChange],
    *,
    command: str,
) -> str | None:
    """Save the undo record of `changes`; its path, or None (warned) when it cannot be saved.

    Never fails the run: the changes are made already, and the warning names them.
    """
    try:
        return str(save_record(make_record(target, changes, command=command)))
    except OSError as error:
        reporter.warn(
            f"could not keep an undo record for {target.display} ({error.strerror or error}):"
            f" `funcpub settings undo` cannot put back {', '.join(keys_of(changes))}"
        )
        return None


def load_record(path: Path) -> UndoRecord | None:
    """The record at `path`; None when there is none, ConfigError when it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        msg = f"cannot read the undo record {path}: {error}"
        raise ConfigError(
            msg, hint="delete the file; the changes it held cannot be undone"
        ) from None
    try:
        return _from_json(data)
    except (KeyError, TypeError, ValueError):
        msg = f"the undo record {path} is damaged or from another funcpub version"
        raise ConfigError(
            msg, hint="delete the file; the changes it held cannot be undone"
        ) from None


def _salted(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()


def _to_json(record: UndoRecord) -> dict[str, Any]:
    target = record.target
    return {
        "version": RECORD_VERSION,
        "target": {
            "cloud": target.cloud,
            "subscription": target.subscription,
            "resource_group": target.resource_group,
            "app": target.app,
            "slot": target.slot,
        },
        "created": record.created,
        "command": record.command,
        "salt": record.salt,
        "entries": [
            {"scope": e.scope, "key": e.key, "previous": e.previous, "applied": e.applied}
            for e in record.entries
        ],
    }


def _from_json(data: Any) -> UndoRecord:
    if data["version"] != RECORD_VERSION:
        raise ValueError(data["version"])
    target = data["target"]
    return UndoRecord(
        target=UndoTarget(
            cloud=str(target["cloud"]),
            subscription=str(target["subscription"]),
            resource_group=str(target["resource_group"]),
            app=str(target["app"]),
            slot=_optional(target["slot"]),
        ),
        created=str(data["created"]),
        command=str(data["command"]),
        salt=str(data["salt"]),
        entries=tuple(
            UndoEntry(
                scope=_SCOPES[entry["scope"]],
                key=str(entry["key"]),
                previous=_optional(entry["previous"]),
                applied=_optional(entry["applied"]),
            )
            for entry in data["entries"]
        ),
    )


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


# --- planning an undo ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UndoPlan:
    """What an undo changes, and the keys someone changed since the recorded run."""

    changes: tuple[ConcreteChange, ...]
    conflicts: tuple[str, ...]  # labels of keys holding neither funcpub's value nor the old one
    restored: tuple[str, ...]  # labels of keys already back at their previous value


def plan_undo(record: UndoRecord, current: CurrentConfig, *, force: bool) -> UndoPlan:
    """The changes that put `record`'s previous values back; conflicting keys are left out
    unless `force`."""
    changes, conflicts, restored = [], [], []
    for entry in record.entries:
        back = _restoring_change(record, entry)
        value = current.value(back)
        if value == (entry.previous or None):
            restored.append(entry.label)
            continue
        if not record.matches(entry, value):
            conflicts.append(entry.label)
            if not force:
                continue
        changes.append(ConcreteChange(change=back, previous=value))
    return UndoPlan(changes=tuple(changes), conflicts=tuple(conflicts), restored=tuple(restored))


def _restoring_change(record: UndoRecord, entry: UndoEntry) -> SettingChange:
    action: SettingAction = "remove" if entry.previous is None else "ensure"
    return SettingChange(
        scope=entry.scope,
        key=entry.key,
        action=action,
        value=entry.previous,
        reason=f"undo of the {record.command} at {record.created}",
        source=UNDO_SOURCE,
        public=False,
    )
