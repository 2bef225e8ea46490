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
from funcpub.deploy.auth import Credential, Verify, ca_bundle, make_credential
from funcpub.deploy.changes import ConcreteChange, concrete_changes, keys_of, looks_secret
from funcpub.deploy.cloud import CloudProfile, cloud_profile
from funcpub.deploy.kudu import (
    LogFollower,
    ScmClient,
    check_access,
    find_deployment_id,
    scm_client,
    upload_zip,
    wait_for_deployment,
    wait_for_scm_settings,
)
from funcpub.deploy.timing import DEFAULT_TIMING, SYSTEM_CLOCK, Clock, Timing
from funcpub.deploy.verify import (
    DeployedFunction,
    HostProbe,
    Observation,
    parse_function,
    soft,
    verify_functions,
)
from funcpub.errors import ConfigError, DeployError, FuncpubError
from funcpub.options import CloudName
from funcpub.package import Artifact
from funcpub.plan import Plan

__all__ = [
    "AzureTarget",
    "CloudName",
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


class DeployReporter(Protocol):
    """Where a deploy reports what it does (funcpub.console.Console implements it)."""

    def step(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def upload_progress(self, sent: int, total: int) -> None: ...

    def deployment_log(self, line: str) -> None: ...

    def secret(self, value: str) -> None: ...


@dataclass(frozen=True, kw_only=True)
class DeployResult:
    """What a successful deploy did."""

    app_name: str
    slot: str | None
    deployment_id: str
    applied_changes: tuple[SettingChange, ...]
    functions: tuple[DeployedFunction, ...]


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
    """Deploy `artifact` as `plan` says; AuthError, DeployError or ConfigError on failure."""
    app_name = _app_name(plan)
    if options.timeout <= 0:
        msg = f"the deployment timeout must be positive, not {options.timeout:g} s"
        raise ConfigError(msg, hint="pass --timeout SECONDS, e.g. --timeout 900")
    profile = cloud_profile(target.cloud, environ)
    subscription = resolve_subscription(target.subscription_id, environ)
    with ExitStack() as stack:
        run = _sign_in(
            stack,
            target=target,
            profile=profile,
            options=options,
            reporter=reporter,
            environ=environ,
            timing=timing,
            clock=clock,
        )
        client = make_client(
            run.credential, subscription, profile, verify=run.verify, timing=timing
        )
        stack.callback(client.close)
        app = _find_app(
            run, client, target=target, plan=plan, app_name=app_name, subscription=subscription
        )
        changes = _settle_changes(run, app, plan)
        apply_changes(app, changes)
        scm = stack.enter_context(_scm(run, app))
        try:
            deployment_id = _ship(run, scm, artifact, changes)
            reporter.step("syncing triggers")
            app.sync_triggers()
            functions = _functions(run, app, plan)
        except FuncpubError as error:
            raise with_changed_keys(error, keys_of(changes)) if changes else error from None
    return DeployResult(
        app_name=app.site.name,
        slot=app.site.slot,
        deployment_id=deployment_id,
        applied_changes=tuple(item.change for item in changes),
        functions=functions,
    )


def _sign_in(
    stack: ExitStack,
    *,
    target: AzureTarget,
    profile: CloudProfile,
    options: DeployOptions,
    reporter: DeployReporter,
    environ: Mapping[str, str],
    timing: Timing,
    clock: Clock,
) -> _Run:
    """The credential chain, checked by getting a first ARM token."""
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
    return _Run(
        options=options,
        reporter=reporter,
        profile=profile,
        credential=credential,
        verify=ca_bundle(environ),
        timing=timing,
        clock=clock,
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
    check_site(site, plan.strategy)
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


def _settle_changes(run: _Run, app: ArmApp, plan: Plan) -> tuple[ConcreteChange, ...]:
    """The setting changes that really change something, each listed."""
    reporter = run.reporter
    reporter.step(f"reading the configuration of {app.site.display}")
    current = app.current_config()
    for key, value in current.app_settings.items():
        if looks_secret(key, value):
            reporter.secret(value)
    changes = concrete_changes(plan.setting_changes, current, force=run.options.force)
    for item in changes:
        reporter.step(item.describe())
    if not changes:
        reporter.step("the app's settings are already as needed")
    return changes


def _scm(run: _Run, app: ArmApp) -> AbstractContextManager[ScmClient]:
    """The SCM client: bearer for the ARM audience, Basic only if refused and allowed."""

    def basic() -> tuple[str, str] | None:
        if not app.basic_auth_allowed():
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


def _ship(run: _Run, scm: ScmClient, artifact: Artifact, changes: Sequence[ConcreteChange]) -> str:
    """Upload the zip and wait for its deployment; the deployment id."""
    reporter, timing, clock = run.reporter, run.timing, run.clock
    expected = {c.change.key: c.change.value for c in changes if c.change.scope == "app setting"}
    if expected:
        reporter.step(f"waiting for {scm.host} to restart with the new settings")
        wait_for_scm_settings(scm, expected, timing=timing, clock=clock)
    check_access(scm)
    reporter.step(
        f"uploading {artifact.path.name} ({_size(artifact.size)},"
        f" sha256 {artifact.sha256[:12]}) to {scm.host}"
    )
    receipt = upload_zip(
        scm, artifact.path, timing=timing, clock=clock, on_progress=reporter.upload_progress
    )
    deployment_id = find_deployment_id(scm, receipt, timing=timing, clock=clock)
    reporter.step(f"waiting for deployment {deployment_id}")
    logs = LogFollower(scm, deployment_id, reporter.deployment_log)
    wait_for_deployment(
        scm, deployment_id, timeout=run.options.timeout, timing=timing, clock=clock, logs=logs
    )
    return deployment_id


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


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
