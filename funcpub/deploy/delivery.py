"""How the package reaches the app, per hosting plan: a Protocol plus a plain registry.

`funcpub.hosting.delivery_for` picks the path from the app's plan (read from ARM) and the
build strategy; each `Delivery` then adapts the planned setting changes to its plan, checks the
app, and ships the zip:

* `zipdeploy` - Kudu's async zipdeploy (Premium, Dedicated; Linux Consumption with a remote
  build), after the SCM site has restarted with the new settings;
* `run-from-package` - Linux Consumption with a local/docker/none build: upload to the app's
  storage account, then `WEBSITE_RUN_FROM_PACKAGE=<url>` through the same read-modify-write and
  read-back as every other setting change (see `funcpub.deploy.blob`);
* `onedeploy` - Flex Consumption: `POST /api/publish?RemoteBuild=...` with a bearer token only;
  the answer names the deployment, which may 404 for a moment before it can be polled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal, Protocol

from funcpub.appsettings import FUNCPUB, SettingChange, ensure, remove
from funcpub.deploy.arm import ArmApp, SiteInfo, apply_changes
from funcpub.deploy.auth import Credential, Verify
from funcpub.deploy.blob import storage_account, upload_package
from funcpub.deploy.changes import ConcreteChange, concrete_changes, keys_of
from funcpub.deploy.cloud import CloudProfile
from funcpub.deploy.kudu import (
    ZIPDEPLOY,
    LogFollower,
    ScmClient,
    check_access,
    find_deployment_id,
    upload_zip,
    wait_for_deployment,
    wait_for_scm_settings,
)
from funcpub.deploy.timing import Clock, Timing
from funcpub.errors import AuthError, DeployError
from funcpub.hosting import PLAN_NAMES, DeliveryName, delivery_for, describe_delivery
from funcpub.masking import is_key_vault_reference, secret_values
from funcpub.options import StrategyName
from funcpub.package import Artifact
from funcpub.plan import Plan

Stage = Literal[
    "starting",
    "settings",
    "prepared",
    "uploading",  # zipdeploy / OneDeploy: the zip goes to the SCM site
    "deploying",
    "storing",  # run-from-package: the zip goes to blob storage
    "switching",  # run-from-package: WEBSITE_RUN_FROM_PACKAGE changes
    "verifying",
]
# App settings (and site config) Flex Consumption refuses: its runtime lives in
# functionAppConfig, and it never builds or mounts packages by these switches.
FLEX_UNSUPPORTED: Final = frozenset(
    name.upper()
    for name in (
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "FUNCTIONS_EXTENSION_VERSION",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "linuxFxVersion",
    )
)
DEPLOYER_QUERY: Final = "Deployer=funcpub"


class DeliveryReporter(Protocol):
    """What a delivery reports (a DeployReporter)."""

    def step(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def upload_progress(self, sent: int, total: int) -> None: ...

    def deployment_log(self, line: str) -> None: ...

    def secret(self, value: str) -> None: ...


class Progress(Protocol):
    """How far the deploy got (funcpub.deploy._Progress), for an interruption's message."""

    stage: Stage
    changed: tuple[str, ...]
    deployment_id: str | None


@dataclass(frozen=True, kw_only=True)
class Shipment:
    """Everything a delivery needs to ship one package."""

    app: ArmApp
    scm: ScmClient
    artifact: Artifact
    strategy: StrategyName
    reporter: DeliveryReporter
    profile: CloudProfile
    credential: Credential
    verify: Verify
    timing: Timing
    clock: Clock
    timeout: float
    changes: Sequence[ConcreteChange]  # already applied
    progress: Progress


@dataclass(frozen=True, kw_only=True)
class Shipped:
    """A shipped package: the deployment (or package) id and any settings it changed."""

    deployment_id: str
    changes: tuple[ConcreteChange, ...] = ()


class Delivery(Protocol):
    """One way of getting the package onto the app."""

    @property
    def name(self) -> DeliveryName:
        """The delivery path, as `funcpub.hosting` names it."""

    @property
    def bearer_only(self) -> bool:
        """Whether the SCM site refuses Basic publishing credentials on this path."""

    def setting_changes(self, plan: Plan, site: SiteInfo) -> tuple[SettingChange, ...]:
        """The plan's setting changes as this path needs them; DeployError before any change."""

    def ship(self, shipment: Shipment) -> Shipped:
        """Upload the zip and wait until the app runs it."""


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _announce(shipment: Shipment, destination: str) -> None:
    artifact = shipment.artifact
    shipment.reporter.step(
        f"uploading {artifact.path.name} ({_size(artifact.size)},"
        f" sha256 {artifact.sha256[:12]}) to {destination}"
    )


def _push(shipment: Shipment, endpoint: str) -> str:
    """POST the zip to the SCM site, then follow its deployment to the end; its id."""
    scm, timing, clock, progress = shipment.scm, shipment.timing, shipment.clock, shipment.progress
    previous = check_access(scm)
    progress.stage = "uploading"  # before the line that announces it: Ctrl-C may follow at once
    _announce(shipment, scm.host)
    receipt = upload_zip(
        scm,
        shipment.artifact.path,
        timing=timing,
        clock=clock,
        on_progress=shipment.reporter.upload_progress,
        previous=previous,
        endpoint=endpoint,
    )
    progress.stage = "deploying"
    deployment_id = find_deployment_id(scm, receipt, timing=timing, clock=clock)
    progress.deployment_id = deployment_id
    shipment.reporter.step(f"waiting for deployment {deployment_id}")
    logs = LogFollower(scm, deployment_id, shipment.reporter.deployment_log)
    wait_for_deployment(
        scm, deployment_id, timeout=shipment.timeout, timing=timing, clock=clock, logs=logs
    )
    progress.stage = "verifying"
    return deployment_id


@dataclass(frozen=True)
class ZipDeploy:
    """Kudu zipdeploy: Premium, Dedicated, and Consumption with a remote build."""

    name: Literal["zipdeploy"] = "zipdeploy"
    bearer_only: bool = False

    def setting_changes(self, plan: Plan, site: SiteInfo) -> tuple[SettingChange, ...]:
        """As planned."""
        return plan.setting_changes

    def ship(self, shipment: Shipment) -> Shipped:
        """Wait for Kudu to run with the new settings, then zipdeploy."""
        # Kudu's environment holds a Key Vault reference resolved, never as written.
        expected = {
            c.change.key: c.change.value
            for c in shipment.changes
            if c.change.scope == "app setting" and not is_key_vault_reference(c.change.value or "")
        }
        if expected:
            shipment.reporter.step(
                f"waiting for {shipment.scm.host} to restart with the new settings"
            )
            wait_for_scm_settings(
                shipment.scm, expected, timing=shipment.timing, clock=shipment.clock
            )
        return Shipped(deployment_id=_push(shipment, ZIPDEPLOY))


def onedeploy_endpoint(strategy: StrategyName) -> str:
    """Flex's publish URL: Azure builds (Oryx) only for `--build remote`."""
    remote = "true" if strategy == "remote" else "false"
    return f"/api/publish?RemoteBuild={remote}&{DEPLOYER_QUERY}"


@dataclass(frozen=True)
class OneDeploy:
    """Flex Consumption's OneDeploy."""

    name: Literal["onedeploy"] = "onedeploy"
    bearer_only: bool = True

    def setting_changes(self, plan: Plan, site: SiteInfo) -> tuple[SettingChange, ...]:
        """Without what Flex refuses; the runtime must already be the plan's Python."""
        _check_flex_runtime(plan, site)
        kept = []
        for change in plan.setting_changes:
            if change.key.upper() not in FLEX_UNSUPPORTED:
                kept.append(change)
            elif change.source != FUNCPUB and change.action == "ensure":
                msg = f"{change.key} (from {change.source}) is not supported on Flex Consumption"
                raise DeployError(msg, hint="drop the setting for Flex Consumption apps")
        return tuple(kept)

    def ship(self, shipment: Shipment) -> Shipped:
        """POST /api/publish and follow the deployment it names."""
        return Shipped(deployment_id=_push(shipment, onedeploy_endpoint(shipment.strategy)))


def _check_flex_runtime(plan: Plan, site: SiteInfo) -> None:
    name, version = site.flex_runtime or ("", "")
    if name and name.lower() != "python":
        msg = f"{site.display} is a Flex Consumption app for {name}, not Python"
        raise DeployError(msg, hint="publish to a Python function app")
    if version and version != plan.python_version:
        msg = f"{site.display} runs Python {version} (functionAppConfig.runtime)"
        msg += f", but this publish is built for Python {plan.python_version}"
        raise DeployError(msg, hint=f"build for the app with --python-version {version}")


@dataclass(frozen=True)
class RunFromPackage:
    """Linux Consumption with a package built here: blob storage + WEBSITE_RUN_FROM_PACKAGE."""

    name: Literal["run-from-package"] = "run-from-package"
    bearer_only: bool = False

    def setting_changes(self, plan: Plan, site: SiteInfo) -> tuple[SettingChange, ...]:
        """As planned (the package URL is set once the package is stored)."""
        return plan.setting_changes

    def ship(self, shipment: Shipment) -> Shipped:
        """Upload to the app's storage, then point the app at the package."""
        app, reporter, progress = shipment.app, shipment.reporter, shipment.progress
        settings = app.app_settings()
        for value in secret_values(settings.items()):
            reporter.secret(value)
        account = storage_account(
            settings,
            endpoint_suffix=shipment.profile.storage_suffix,
            user_identities=app.site.user_identities,
            display=app.site.display,
        )
        how = "your Entra identity" if account.identity_based else "the account key"
        progress.stage = "storing"
        _announce(shipment, f"storage account {account.name} (with {how})")
        stored = upload_package(
            account,
            shipment.artifact.path,
            credential=shipment.credential,
            verify=shipment.verify,
            timing=shipment.timing,
            on_progress=reporter.upload_progress,
        )
        for secret in stored.secrets:
            reporter.secret(secret)
        progress.stage = "switching"
        progress.deployment_id = stored.blob_name
        changes = _package_changes(app, stored.settings)
        for item in changes:
            reporter.step(item.describe())
        try:
            apply_changes(app, changes)
        except (DeployError, AuthError) as error:
            unused = f"; the uploaded package {stored.blob_name} in {account.name} is not used"
            raise type(error)(error.message + unused, hint=error.hint) from None
        progress.changed = (*progress.changed, *keys_of(changes))
        if account.identity_based:
            reporter.step(
                f"{app.site.display} reads the package with its managed identity"
                f" ({account.app_identity}), which needs Storage Blob Data Reader on {account.name}"
            )
        progress.stage = "verifying"
        return Shipped(deployment_id=stored.blob_name, changes=changes)


def _package_changes(app: ArmApp, settings: Mapping[str, str | None]) -> tuple[ConcreteChange, ...]:
    """The concrete changes that point the app at the stored package."""
    wanted = [
        replace(ensure(key, value, "the app runs the uploaded package"), public=False)
        if value is not None
        else remove(key, "the package URL carries its own read access")
        for key, value in settings.items()
    ]
    return concrete_changes(wanted, app.current_config(), force=True)


DELIVERIES: Final[Mapping[DeliveryName, Delivery]] = {
    "zipdeploy": ZipDeploy(),
    "run-from-package": RunFromPackage(),
    "onedeploy": OneDeploy(),
}


def choose_delivery(
    site: SiteInfo, strategy: StrategyName, on_step: Callable[[str], None]
) -> Delivery:
    """The delivery for the app's plan, announced."""
    delivery = DELIVERIES[delivery_for(site.hosting, strategy)]
    on_step(
        f"{site.display} is on {PLAN_NAMES[site.hosting]}:"
        f" {describe_delivery(delivery.name, strategy, site.hosting)}"
    )
    return delivery
