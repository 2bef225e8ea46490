"""Deploy a packed app to Azure: sign in, find the app, fix its settings, zip deploy, verify.

`deploy()` executes a `Plan` (it never re-plans): credential -> find app -> checks -> concrete
setting changes -> apply and read back -> upload -> poll and stream logs -> sync triggers ->
verify -> result. Everything is reported through a `DeployReporter`; nothing is printed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import Any, Protocol

from azure.mgmt.web import WebSiteManagementClient

from funcpub.appsettings import SettingChange
from funcpub.deploy.arm import (
    ArmApp,
    apply_changes,
    check_site,
    find_site,
    make_client,
    resolve_subscription,
    with_changed_keys,
)
from funcpub.deploy.auth import (
    Credential,
    Verify,
    ca_bundle,
    check_ca_bundle,
    make_credential,
)
from funcpub.deploy.changes import (
    ConcreteChange,
    CurrentConfig,
    concrete_changes,
    has_connection_strings,
    keys_of,
    merged_app_settings,
    skipped_changes,
)
from funcpub.deploy.cloud import CloudProfile, cloud_profile
from funcpub.deploy.delivery import (
    Delivery,
    DeliveryReporter,
    Shipment,
    Stage,
    choose_delivery,
)
from funcpub.deploy.kudu import LATEST, ScmClient, scm_client
from funcpub.deploy.lock import lock_key, publish_lock
from funcpub.deploy.timing import DEFAULT_TIMING, SYSTEM_CLOCK, Clock, Timing
from funcpub.deploy.undo import UndoTarget, keep_undo_record
from funcpub.deploy.verify import (
    DeployedFunction,
    HostProbe,
    Observation,
    parse_function,
    soft,
    verify_functions,
)
from funcpub.errors import EXIT_INTERRUPTED, ConfigError, DeployError, FuncpubError
from funcpub.hosting import DeliveryName
from funcpub.masking import (
    connection_string_secrets,
    is_key_vault_reference,
    secret_values,
)
from funcpub.options import CloudName
from funcpub.package import Artifact
from funcpub.plan import Plan
from funcpub.settingrules import worker_indexing_warning

__all__ = [
    "AzureTarget",
    "CloudName",
    "DeployInterruptedError",
    "DeployOptions",
    "DeployReporter",
    "DeployResult",
    "DeployedFunction",
    "Timing",
    "deploy",
]


@dataclass(frozen=True, kw_only=True)
class AzureTarget:
    """Where to deploy: cloud, subscription, resource group and identity options."""

    cloud: CloudName
    subscription_id: str | None
    resource_group: str | None
    tenant_id: str | None
    client_id: str | None


@dataclass(frozen=True, kw_only=True)
class DeployOptions:
    """How to deploy."""

    force: bool = False  # switch the app's worker runtime / Python / Functions version
    verify: bool = True  # wait for the planned functions to be indexed
    timeout: float = 900  # seconds for the deployment (Kudu build included)
    show_keys: bool = False  # function URLs with ?code=<key>
    keep_undo: bool = True  # record the previous settings for `settings undo`


class DeployReporter(DeliveryReporter, Protocol):
    """Where a deploy reports what it does (funcpub.console.Console implements it)."""

    def deployed(self, result: DeployResult, artifact: Artifact) -> None:
        """The deploy succeeded (a pipeline turns this into output variables)."""


@dataclass(frozen=True, kw_only=True)
class DeployResult:
    """What a successful deploy did."""

    app_name: str
    slot: str | None
    deployment_id: str
    applied_changes: tuple[SettingChange, ...]
    functions: tuple[DeployedFunction, ...]
    skipped_settings: tuple[str, ...] = ()  # the user's settings the app kept its own value of
    key_vault_kept: tuple[str, ...] = ()  # of those, the ones whose value is a Key Vault reference
    undo_record: str | None = None  # where the previous values are kept for `settings undo`


class DeployInterruptedError(FuncpubError):
    """Ctrl-C during a deploy: says what had happened in Azure and where to check."""

    exit_code = EXIT_INTERRUPTED
    kind = "interrupted"


@dataclass(kw_only=True)
class _Progress:
    """How far a deploy got, for the message when it is interrupted."""

    display: str  # app or app/slot
    stage: Stage = "starting"
    changing: tuple[str, ...] = ()  # the settings being changed
    changed: tuple[str, ...] = ()  # the settings changed in Azure
    scm_host: str | None = None
    deployment_id: str | None = None  # run-from-package: the package's blob name
    delivery: DeliveryName = "zipdeploy"

    def interrupted(self) -> DeployInterruptedError:
        """The error that tells the user what Ctrl-C left behind."""
        package_stages = ("storing", "switching", "verifying")
        if self.delivery == "run-from-package" and self.stage in package_stages:
            return self._package_interrupted()
        if self.stage == "starting":
            return DeployInterruptedError(
                f"interrupted before anything changed in Azure: nothing was deployed to"
                f" {self.display}"
            )
        if self.stage == "settings":
            keys = ", ".join(self.changing)
            msg = f"interrupted while changing the settings of {self.display}: {keys} may have"
            msg += " changed; no deployment was started"
            return DeployInterruptedError(msg, hint="publish again to finish the change")
        if self.stage == "prepared":
            msg = f"interrupted before the upload: no deployment was started on {self.display}"
            error = DeployInterruptedError(msg, hint="publish again when you are ready")
            return with_changed_keys(error, self.changed)
        latest = f"https://{self.scm_host}{LATEST}"
        if self.stage == "uploading":
            msg = f"interrupted while uploading to {self.scm_host}: a deployment may have started"
            hint = f"check {latest} before publishing again"
        elif self.stage == "deploying" and self.deployment_id is None:
            msg = f"interrupted after the upload to {self.scm_host}: a deployment has started"
            hint = f"it goes on in Azure; follow it at {latest}"
        elif self.stage == "deploying":
            msg = f"interrupted while deployment {self.deployment_id} was running on"
            msg += f" {self.scm_host}: it goes on in Azure"
            hint = (
                f"follow it at https://{self.scm_host}/api/deployments/{self.deployment_id}"
                f" (or {latest})"
            )
        else:
            msg = f"interrupted after deployment {self.deployment_id} succeeded, while checking"
            msg += f" the functions of {self.display}"
            hint = f"the deployment is done ({latest}); run the publish again to verify"
        error = DeployInterruptedError(msg, hint=hint)
        return with_changed_keys(error, self.changed) if self.changed else error

    def _package_interrupted(self) -> DeployInterruptedError:
        """Run-from-package: the app switches packages only when its setting changes."""
        if self.stage == "storing":
            msg = f"interrupted while uploading the package to storage: {self.display} still runs"
            msg += " its previous package"
            hint = "publish again (a partly uploaded blob is never used)"
        elif self.stage == "switching":
            msg = f"interrupted while pointing {self.display} at package {self.deployment_id}:"
            msg += " WEBSITE_RUN_FROM_PACKAGE may have changed"
            hint = "publish again to finish the change"
        else:
            msg = f"interrupted after {self.display} was switched to package"
            msg += f" {self.deployment_id}, while checking its functions"
            hint = "the package is in place; run the publish again to verify"
        error = DeployInterruptedError(msg, hint=hint)
        return with_changed_keys(error, self.changed)


@dataclass(frozen=True, kw_only=True)
class _Run:
    """What every step of one deploy shares."""

    options: DeployOptions
    reporter: DeployReporter
    profile: CloudProfile
    credential: Credential
    verify: Verify
    timing: Timing
    clock: Clock


def deploy(
    plan: Plan,
    artifact: Artifact,
    *,
    target: AzureTarget,
    options: DeployOptions,
    reporter: DeployReporter,
    environ: Mapping[str, str],
    timing: Timing = DEFAULT_TIMING,
    clock: Clock = SYSTEM_CLOCK,
) -> DeployResult:
    """Deploy `artifact` as `plan` says; AuthError, DeployError or ConfigError on failure.

    Ctrl-C (or SIGTERM, which funcpub turns into Ctrl-C) becomes `DeployInterruptedError`, saying
    whether a deployment had started and where to check it.
    """
    app_name = _app_name(plan)
    if options.timeout <= 0:
        msg = f"the deployment timeout must be positive, not {options.timeout:g} s"
        raise ConfigError(msg, hint="pass --timeout SECONDS, e.g. --timeout 900")
    profile = cloud_profile(target.cloud, environ)
    check_ca_bundle(environ)
    subscription = resolve_subscription(target.subscription_id, environ)
    progress = _Progress(display=_display(app_name, plan.slot))
    try:
        with publish_lock(
            lock_key(profile.name, subscription, app_name, plan.slot),
            progress.display,
            timing=timing,
            clock=clock,
            on_wait=reporter.step,
            on_unavailable=reporter.warn,
        ):
            run = _Start(
                options=options,
                reporter=reporter,
                profile=profile,
                environ=environ,
                timing=timing,
                clock=clock,
            )
            result = _execute(
                run,
                app_name=app_name,
                plan=plan,
                artifact=artifact,
                target=target,
                subscription=subscription,
                progress=progress,
            )
            reporter.deployed(result, artifact)  # a pipeline's output variables
            return result
    except KeyboardInterrupt:
        raise progress.interrupted() from None


@dataclass(frozen=True, kw_only=True)
class _Start:
    """What a deploy knows before it signs in."""

    options: DeployOptions
    reporter: DeployReporter
    profile: CloudProfile
    environ: Mapping[str, str]
    timing: Timing
    clock: Clock


def _execute(
    start: _Start,
    *,
    app_name: str,
    plan: Plan,
    artifact: Artifact,
    target: AzureTarget,
    subscription: str,
    progress: _Progress,
) -> DeployResult:
    """Sign in, find the app, change its settings, ship the zip, verify."""
    with ExitStack() as stack:
        run = _sign_in(stack, target=target, start=start)
        client = make_client(
            run.credential, subscription, start.profile, verify=run.verify, timing=start.timing
        )
        stack.callback(client.close)
        app = _find_app(
            run,
            client,
            target=target,
            plan=plan,
            app_name=app_name,
            subscription=subscription,
        )
        delivery = choose_delivery(app.site, plan.strategy, run.reporter.step)
        progress.delivery = delivery.name
        wanted = delivery.setting_changes(plan, app.site)
        changes, skipped = _settle_changes(run, app, plan, wanted)
        progress.stage, progress.changing = "settings", keys_of(changes)
        apply_changes(app, changes)
        progress.stage, progress.changed = "prepared", keys_of(changes)
        undo_record = _keep_undo_record(run, app, subscription, changes)
        scm = stack.enter_context(_scm(run, app, delivery))
        progress.scm_host = scm.host
        try:
            shipped = delivery.ship(
                _shipment(run, app, scm, artifact, plan=plan, changes=changes, progress=progress)
            )
            run.reporter.step("syncing triggers")
            app.sync_triggers()
            functions = _functions(run, app, plan)
        except FuncpubError as error:
            raise _explained(error, app, progress.changed) from None
    return DeployResult(
        app_name=app.site.name,
        slot=app.site.slot,
        deployment_id=shipped.deployment_id,
        applied_changes=tuple(item.change for item in (*changes, *shipped.changes)),
        functions=functions,
        skipped_settings=keys_of(skipped),
        key_vault_kept=keys_of(
            [item for item in skipped if is_key_vault_reference(item.previous or "")]
        ),
        undo_record=undo_record,
    )


def _keep_undo_record(
    run: _Run, app: ArmApp, subscription: str, changes: Sequence[ConcreteChange]
) -> str | None:
    """The undo record of the settings step (not of a package switch: that is the code)."""
    if not changes or not run.options.keep_undo:
        return None
    target = UndoTarget.of(run.profile.name, subscription, app.site)
    return keep_undo_record(run.reporter, target, changes, command="publish")


def _explained(error: FuncpubError, app: ArmApp, changed: Sequence[str]) -> FuncpubError:
    """`error` with the settings already changed, or why it really failed: the app is gone."""
    if isinstance(error, DeployError) and app.exists() is False:
        msg = f"the function app {app.site.display} no longer exists: it was deleted meanwhile"
        hint = "check the app name and subscription; create the app again, then publish again"
        return DeployError(msg, hint=hint)
    return with_changed_keys(error, changed) if changed else error


def _sign_in(stack: ExitStack, *, target: AzureTarget, start: _Start) -> _Run:
    """The credential chain, checked by getting a first ARM token."""
    profile, reporter = start.profile, start.reporter
    credential = make_credential(
        profile,
        start.environ,
        tenant_id=target.tenant_id,
        client_id=target.client_id,
        on_token=reporter.secret,
        retry_backoff=start.timing.arm_retry_backoff,
    )
    stack.callback(credential.close)
    reporter.step(f"signing in to {profile.name} ({profile.authority_host})")
    credential.bearer(profile.arm_scope)
    return _Run(
        options=start.options,
        reporter=reporter,
        profile=profile,
        credential=credential,
        verify=ca_bundle(start.environ),
        timing=start.timing,
        clock=start.clock,
    )


def _find_app(
    run: _Run,
    client: WebSiteManagementClient,
    *,
    target: AzureTarget,
    plan: Plan,
    app_name: str,
    subscription: str,
) -> ArmApp:
    """The target app or slot, refused before anything changes if funcpub cannot deploy it."""
    where = f"resource group {target.resource_group}" if target.resource_group else "subscription"
    run.reporter.step(f"finding app {_display(app_name, plan.slot)} in {where} {subscription}")
    site = find_site(
        client,
        app_name,
        resource_group=target.resource_group,
        slot=plan.slot,
        subscription=subscription,
    )
    check_site(site)
    if (site.state or "").lower() == "stopped":
        run.reporter.warn(f"{site.display} is stopped: it will not run the deployed functions")
    return ArmApp(client, site)


def _app_name(plan: Plan) -> str:
    if not plan.app_name:
        msg = "the plan has no target app"
        raise ConfigError(msg, hint="plan the publish with the app's name")
    if not plan.ok:
        msg = "the plan has validation errors; nothing was deployed"
        raise DeployError(msg, hint="run `funcpub validate` and fix the errors")
    return plan.app_name


def _display(name: str, slot: str | None) -> str:
    return f"{name}/{slot}" if slot else name


def _settle_changes(
    run: _Run, app: ArmApp, plan: Plan, wanted: Sequence[SettingChange]
) -> tuple[tuple[ConcreteChange, ...], tuple[ConcreteChange, ...]]:
    """The setting changes that really change something, each listed, and the user's settings
    skipped because the app has another value (no --overwrite, or a Key Vault reference)."""
    reporter = run.reporter
    reporter.step(f"reading the configuration of {app.site.display}")
    current = app.current_config(connection_strings=has_connection_strings(wanted))
    for value in secret_values(current.app_settings.items()):
        reporter.secret(value)
    for value in connection_string_secrets(c.value for c in current.connection_strings.values()):
        reporter.secret(value)
    changes = concrete_changes(wanted, current, force=run.options.force)
    skipped = skipped_changes(wanted, current)
    sticky = {name.upper() for name in _sticky_names(run, app, wanted)}
    for item in changes:
        note = " [slot setting]" if item.change.key.upper() in sticky else ""
        reporter.step(item.describe() + note)
    if not changes:
        reporter.step("the app's settings are already as needed")
    for item in skipped:
        reporter.warn(item.kept())
    _check_worker_indexing(run, plan, current, changes)
    return changes, skipped


def _sticky_names(run: _Run, app: ArmApp, wanted: Sequence[SettingChange]) -> frozenset[str]:
    """The slot-setting names, when the changes hold the user's settings (else not asked)."""
    if all(change.source == "funcpub" for change in wanted):
        return frozenset()
    try:
        return app.sticky_setting_names()
    except FuncpubError as error:
        run.reporter.warn(f"could not read the slot setting names: {error.message}")
        return frozenset()


def _check_worker_indexing(
    run: _Run, plan: Plan, current: CurrentConfig, changes: Sequence[ConcreteChange]
) -> None:
    """Warn when the app, as it will be, pins a host that does not index a v2 app."""
    after = merged_app_settings(current.app_settings, changes)
    if warning := worker_indexing_warning(plan.model, after):
        run.reporter.warn(warning)


def _scm(run: _Run, app: ArmApp, delivery: Delivery) -> AbstractContextManager[ScmClient]:
    """The SCM client: bearer for the ARM audience, Basic only if refused and allowed."""

    def basic() -> tuple[str, str] | None:
        if delivery.bearer_only or not app.basic_auth_allowed():
            return None
        user, password = app.publishing_credentials()
        run.reporter.secret(password)
        return (user, password) if user and password else None

    assert app.site.scm_host is not None  # check_site made sure
    return scm_client(
        app.site.scm_host,
        bearer=lambda: run.credential.bearer(run.profile.arm_scope),
        basic=basic,
        verify=run.verify,
        timing=run.timing,
        on_fallback=run.reporter.warn,
    )


def _shipment(
    run: _Run,
    app: ArmApp,
    scm: ScmClient,
    artifact: Artifact,
    *,
    plan: Plan,
    changes: Sequence[ConcreteChange],
    progress: _Progress,
) -> Shipment:
    return Shipment(
        app=app,
        scm=scm,
        artifact=artifact,
        strategy=plan.strategy,
        reporter=run.reporter,
        profile=run.profile,
        credential=run.credential,
        verify=run.verify,
        timing=run.timing,
        clock=run.clock,
        timeout=run.options.timeout,
        changes=changes,
        progress=progress,
    )


def _functions(run: _Run, app: ArmApp, plan: Plan) -> tuple[DeployedFunction, ...]:
    """The deployed functions: verified against the plan unless --no-verify."""
    site = app.site
    keys = _KeyCache(app, run.reporter)
    function_key = keys.function_key if run.options.show_keys else (lambda: None)
    if not run.options.verify:
        key = function_key()
        return tuple(parse_function(raw, key=key) for raw in app.functions())
    run.reporter.step(f"verifying the functions of {site.display}")
    probe = HostProbe(site.app_host or "", keys.master_key, verify=run.verify, timing=run.timing)

    def observe() -> Observation:
        key = function_key()
        listed = soft(app.functions) or []
        status = probe.status() if site.app_host else None
        return Observation(
            functions=tuple(parse_function(raw, key=key) for raw in listed), host=status
        )

    expected = [function.name for function in plan.functions]
    try:
        return verify_functions(
            site.display, expected, observe=observe, timing=run.timing, clock=run.clock
        )
    finally:
        probe.close()


class _KeyCache:
    """Host keys, read once they exist (the host creates them when it starts)."""

    def __init__(self, app: ArmApp, reporter: DeployReporter) -> None:
        self._app = app
        self._reporter = reporter
        self._keys: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._keys is None:
            keys = soft(self._app.host_keys)
            if isinstance(keys, dict) and keys.get("masterKey"):
                self._keys = keys
                self._reporter.secret(str(keys["masterKey"]))
        return self._keys or {}

    def master_key(self) -> str | None:
        """The master key (for /admin); registered as a secret."""
        value = self._load().get("masterKey")
        return str(value) if value else None

    def function_key(self) -> str | None:
        """The host's default function key (shown only with --show-keys)."""
        keys = self._load().get("functionKeys")
        value = keys.get("default") if isinstance(keys, dict) else None
        return str(value) if value else None
