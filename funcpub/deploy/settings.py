"""Settings without a deploy: `settings diff` reads, `settings push` and `settings undo` write.

Each signs in, finds the app and, when it writes, holds the app's publish lock (a publish and a
push or undo of the same app on this machine never interleave), reads the configuration right
before changing it, applies the changes read-modify-write with read-back (funcpub.deploy.arm
apply_changes), and reports every change masked. Every value read is registered as a secret
with the reporter before anything else is reported (see funcpub.masking.secret_values).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from funcpub.appsettings import SettingChange, change_to_dict
from funcpub.deploy import AzureTarget
from funcpub.deploy.arm import ArmApp, apply_changes, find_site, make_client, resolve_subscription
from funcpub.deploy.auth import ca_bundle, check_ca_bundle, make_credential
from funcpub.deploy.changes import (
    ConcreteChange,
    CurrentConfig,
    concrete_changes,
    has_connection_strings,
    skipped_changes,
)
from funcpub.deploy.cloud import cloud_profile
from funcpub.deploy.lock import lock_key, publish_lock
from funcpub.deploy.timing import DEFAULT_TIMING, SYSTEM_CLOCK, Timing
from funcpub.deploy.undo import (
    UndoRecord,
    UndoTarget,
    keep_undo_record,
    load_record,
    plan_undo,
    record_path,
)
from funcpub.errors import ConfigError, DeployError, FuncpubError
from funcpub.masking import connection_string_secrets, secret_values
from funcpub.settingsdiff import RemoteSettings


class SettingsReporter(Protocol):
    """Where reading reports what it does (funcpub.console.Console implements it)."""

    def step(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def secret(self, value: str) -> None: ...


@dataclass(frozen=True, kw_only=True)
class AppCall:
    """Which app (or slot) a command is about, how to reach it, and where to report."""

    app_name: str
    slot: str | None
    target: AzureTarget
    reporter: SettingsReporter
    environ: Mapping[str, str]
    timing: Timing = DEFAULT_TIMING

    @property
    def display(self) -> str:
        """app or app/slot."""
        return f"{self.app_name}/{self.slot}" if self.slot else self.app_name


@dataclass(frozen=True, kw_only=True)
class SettingsOutcome:
    """What `settings push` or `settings undo` changed (or, in a dry run, would change)."""

    app: str  # app or app/slot
    changes: tuple[ConcreteChange, ...]
    skipped: tuple[ConcreteChange, ...] = ()  # the user's settings the app keeps its value of
    conflicts: tuple[str, ...] = ()  # undo: keys someone changed since the recorded run
    applied: bool  # False in a dry run
    undo_record: str | None = None  # push: the record `settings undo` reads

    def to_dict(self) -> dict[str, Any]:
        """The `--json` document: values masked as on screen."""
        return {
            "app": self.app,
            "applied": self.applied,
            "changes": [_change_dict(item) for item in self.changes],
            "skipped": [_change_dict(item) for item in self.skipped],
            "conflicts": list(self.conflicts),
            "undo_record": self.undo_record,
        }


def _change_dict(item: ConcreteChange) -> dict[str, Any]:
    previous = None if item.previous is None else item.change.shown_other(item.previous)
    return change_to_dict(item.change) | {"previous": previous}


@dataclass(frozen=True, kw_only=True)
class _Session:
    """A signed-in ARM client and the app found with it."""

    app: ArmApp
    cloud: str
    subscription: str


@contextmanager
def _session(call: AppCall) -> Iterator[_Session]:
    """Sign in and find the app (or slot); AuthError, DeployError or ConfigError."""
    target, reporter, environ = call.target, call.reporter, call.environ
    profile = cloud_profile(target.cloud, environ)
    check_ca_bundle(environ)
    subscription = resolve_subscription(target.subscription_id, environ)
    with ExitStack() as stack:
        credential = make_credential(
            profile,
            environ,
            tenant_id=target.tenant_id,
            client_id=target.client_id,
            on_token=reporter.secret,
        )
        stack.callback(credential.close)
        reporter.step(f"signing in to {profile.name} ({profile.authority_host})")
        credential.bearer(profile.arm_scope)
        client = make_client(
            credential, subscription, profile, verify=ca_bundle(environ), timing=call.timing
        )
        stack.callback(client.close)
        reporter.step(f"finding app {call.display}")
        site = find_site(
            client,
            call.app_name,
            resource_group=target.resource_group,
            slot=call.slot,
            subscription=subscription,
        )
        yield _Session(app=ArmApp(client, site), cloud=profile.name, subscription=subscription)


@contextmanager
def _locked(call: AppCall) -> Iterator[_Session]:
    """The session, holding the app's publish lock: no publish, push or undo of it runs
    meanwhile on this machine."""
    with _session(call) as session:
        site = session.app.site
        with publish_lock(
            lock_key(session.cloud, session.subscription, site.name, site.slot),
            site.display,
            timing=call.timing,
            clock=SYSTEM_CLOCK,
            on_wait=call.reporter.step,
            on_unavailable=call.reporter.warn,
        ):
            yield session


def read_remote_settings(call: AppCall) -> RemoteSettings:
    """The app settings and connection strings of the app (or slot)."""
    with _session(call) as session:
        app, reporter = session.app, call.reporter
        reporter.step(f"reading the settings of {app.site.display}")
        current = app.current_config(connection_strings=True)
        _register(reporter, current)
        settings, strings = _sticky(app, reporter)
        return RemoteSettings(
            display=app.site.display,
            app_settings=current.app_settings,
            sticky=settings,
            connection_strings={
                name: item.value for name, item in current.connection_strings.items()
            },
            sticky_connection_strings=strings,
        )


def _register(reporter: SettingsReporter, current: CurrentConfig) -> None:
    for value in secret_values(current.app_settings.items()):
        reporter.secret(value)
    strings = (item.value for item in current.connection_strings.values())
    for value in connection_string_secrets(strings):
        reporter.secret(value)


def _sticky(app: ArmApp, reporter: SettingsReporter) -> tuple[frozenset[str], frozenset[str]]:
    try:
        return app.slot_config_names()
    except FuncpubError as error:
        reporter.warn(f"could not read the slot setting names: {error.message}")
        return frozenset(), frozenset()


# --- settings push ------------------------------------------------------------------------


def push_settings(
    call: AppCall, wanted: Sequence[SettingChange], *, force: bool, dry_run: bool
) -> SettingsOutcome:
    """Apply the user's `wanted` settings to the app, nothing else; keep an undo record."""
    reporter = call.reporter
    with _locked(call) as session:
        app = session.app
        reporter.step(f"reading the settings of {app.site.display}")
        current = app.current_config(connection_strings=has_connection_strings(wanted))
        _register(reporter, current)
        changes = concrete_changes(wanted, current, force=force)
        skipped = skipped_changes(wanted, current)
        _describe(reporter, changes, dry_run=dry_run)
        for item in skipped:
            reporter.warn(item.kept())
        outcome = SettingsOutcome(
            app=app.site.display, changes=changes, skipped=skipped, applied=False
        )
        if dry_run or not changes:
            return outcome
        apply_changes(app, changes)
        target = UndoTarget.of(session.cloud, session.subscription, app.site)
        record = keep_undo_record(reporter, target, changes, command="settings push")
        return replace(outcome, applied=True, undo_record=record)


def _describe(
    reporter: SettingsReporter, changes: Sequence[ConcreteChange], *, dry_run: bool
) -> None:
    prefix = "would " if dry_run else ""
    for item in changes:
        reporter.step(prefix + item.describe())
    if not changes:
        reporter.step("the app's settings are already as wanted")


# --- settings undo ------------------------------------------------------------------------


def undo_settings(call: AppCall, *, force: bool, dry_run: bool) -> SettingsOutcome:
    """Put back what the app's last recorded publish or push changed; consume the record."""
    target, reporter = call.target, call.reporter
    path = record_path(
        cloud_profile(target.cloud, call.environ).name,
        resolve_subscription(target.subscription_id, call.environ),
        call.app_name,
        call.slot,
    )
    record = _record(path, call.display)
    for value in record.secrets():
        reporter.secret(value)
    group = target.resource_group or record.target.resource_group
    _check_group(record, group)
    reporter.step(f"undoing the {record.command} of {record.target.display} at {record.created}")
    with _locked(replace(call, target=replace(target, resource_group=group))) as session:
        app = session.app
        reporter.step(f"reading the settings of {app.site.display}")
        current = app.current_config(
            connection_strings=any(e.scope == "connection string" for e in record.entries)
        )
        _register(reporter, current)
        plan = plan_undo(record, current, force=force)
        if plan.conflicts:
            _conflicts(reporter, record, plan.conflicts, force=force, dry_run=dry_run)
        _describe(reporter, plan.changes, dry_run=dry_run)
        for label in plan.restored:
            reporter.step(f"{label} is already back at its previous value")
        outcome = SettingsOutcome(
            app=app.site.display, changes=plan.changes, conflicts=plan.conflicts, applied=False
        )
        if dry_run:
            return outcome
        if plan.changes:
            apply_changes(app, plan.changes)
        path.unlink(missing_ok=True)
        return replace(outcome, applied=True)


def _record(path: Path, display: str) -> UndoRecord:
    record = load_record(path)
    if record is None:
        msg = f"there is nothing to undo for {display}: this machine keeps no undo record of it"
        hint = (
            "funcpub keeps one after each publish or `settings push` that changed settings,"
            " until it is undone; check the app name, --slot, --cloud and --subscription"
        )
        raise ConfigError(msg, hint=hint)
    return record


def _check_group(record: UndoRecord, group: str) -> None:
    if group.lower() != record.target.resource_group.lower():
        msg = (
            f"the undo record of {record.target.display} is for resource group"
            f" {record.target.resource_group}, not {group}"
        )
        raise ConfigError(msg, hint="drop --resource-group, or pass the record's group")


def _conflicts(
    reporter: SettingsReporter,
    record: UndoRecord,
    conflicts: Sequence[str],
    *,
    force: bool,
    dry_run: bool,
) -> None:
    """Warn (--force, --dry-run) or refuse: someone changed keys since the recorded run."""
    names = ", ".join(conflicts)
    what = f"changed on {record.target.display} since the {record.command} at {record.created}"
    if force:
        reporter.warn(f"{names} {what}: --force puts the previous values back anyway")
        return
    if dry_run:
        reporter.warn(f"{names} {what}: the undo would stop here unless --force")
        return
    msg = f"{names} {what}; nothing was undone"
    hint = (
        "look at the app's values (funcpub settings diff); pass --force to put the previous"
        " values back anyway"
    )
    raise DeployError(msg, hint=hint)
