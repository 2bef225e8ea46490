"""Creating function apps and slots: plans, default app settings, site config, keys, folders."""

from __future__ import annotations

import datetime
import os
import re
import secrets
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from funcpub.emulator.records import OsName, PlanSku, SiteRecord
from funcpub.emulator.state import new_secret

LOCATION: Final = "West Europe"
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,57}[A-Za-z0-9])?")
_PYTHON = re.compile(r"3\.[0-9]{1,2}")


@dataclass(frozen=True, kw_only=True)
class PlanInfo:
    """What ARM reports for a plan SKU (az CLI tells plans apart by `tier`)."""

    tier: str  # also the site's `properties.sku`
    family: str
    capacity: int
    linux_kind: str
    windows_kind: str


PLANS: Final[Mapping[PlanSku, PlanInfo]] = {
    "Y1": PlanInfo(
        tier="Dynamic", family="Y", capacity=0, linux_kind="functionapp", windows_kind="functionapp"
    ),
    "EP1": PlanInfo(
        tier="ElasticPremium", family="EP", capacity=1, linux_kind="elastic", windows_kind="elastic"
    ),
    "EP2": PlanInfo(
        tier="ElasticPremium", family="EP", capacity=1, linux_kind="elastic", windows_kind="elastic"
    ),
    "EP3": PlanInfo(
        tier="ElasticPremium", family="EP", capacity=1, linux_kind="elastic", windows_kind="elastic"
    ),
    "FC1": PlanInfo(
        tier="FlexConsumption",
        family="FC",
        capacity=0,
        linux_kind="functionapp",
        windows_kind="functionapp",
    ),
    "P1v3": PlanInfo(
        tier="PremiumV3", family="Pv3", capacity=1, linux_kind="linux", windows_kind="app"
    ),
}


def utc_now() -> str:
    """ISO-8601 UTC with 7 fractional digits, as .NET serialises DateTime."""
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def check_name(name: str, what: str = "app") -> None:
    """App and slot names become host names: letters, digits and inner hyphens, 2-60 chars."""
    if not _NAME.fullmatch(name) or len(name) < 2:
        msg = (
            f"{what} name {name!r} is not valid: use 2-60 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
        raise ValueError(msg)


def new_site(
    name: str,
    *,
    subscription_id: str,
    plan: PlanSku,
    python: str,
    functions_version: str,
    os: OsName,
    resource_group: str,
    basic_auth: bool,
    app_settings: Mapping[str, str] | None,
) -> SiteRecord:
    """A freshly created function app with its own plan, keys and default settings."""
    check_name(name)
    _check_combination(plan, os, python)
    settings = default_app_settings(name, plan=plan, functions_version=functions_version)
    return SiteRecord(
        name=name,
        slot=None,
        subscription_id=subscription_id,
        resource_group=resource_group,
        location=LOCATION,
        plan_name=f"ASP-{resource_group}-{name}",
        plan=plan,
        os=os,
        python=python,
        functions_version=functions_version,
        app_settings={**settings, **(app_settings or {})},
        site_config=default_site_config(name, plan=plan, os=os, python=python),
        basic_auth=basic_auth,
        publishing_password=new_secret(60),
        master_key=new_secret(56),
        function_key=new_secret(56),
        created_at=utc_now(),
    )


def new_slot(app: SiteRecord, slot: str) -> SiteRecord:
    """A deployment slot: a site of its own that starts with the app's settings and config."""
    check_name(slot, "slot")
    return replace(
        app,
        slot=slot,
        publishing_password=new_secret(60),
        master_key=new_secret(56),
        function_key=new_secret(56),
        created_at=utc_now(),
        scm_port=0,
        app_port=0,
        last_trigger_sync=None,
        active_deployment=None,
        index=None,
        site_config={**app.site_config, "publishingUsername": f"${app.name}__{slot}"},
    )


def _check_combination(plan: PlanSku, os: OsName, python: str) -> None:
    if not _PYTHON.fullmatch(python):
        msg = f"python version {python!r} is not valid: use MAJOR.MINOR, e.g. 3.11"
        raise ValueError(msg)
    if plan == "FC1" and os != "linux":
        msg = "Flex Consumption (FC1) apps run on Linux only"
        raise ValueError(msg)


def default_app_settings(name: str, *, plan: PlanSku, functions_version: str) -> dict[str, str]:
    """What `az functionapp create` leaves behind for a Python app on this plan."""
    account = re.sub(r"[^a-z0-9]", "", f"st{name.lower()}")[:24]
    storage = (
        f"DefaultEndpointsProtocol=https;AccountName={account};"
        f"AccountKey={secrets.token_urlsafe(48)};EndpointSuffix=core.windows.net"
    )
    insights = f"InstrumentationKey={secrets.token_hex(16)};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"
    if plan == "FC1":  # Flex rejects FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION
        return {
            "AzureWebJobsStorage": storage,
            "DEPLOYMENT_STORAGE_CONNECTION_STRING": storage,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": insights,
        }
    settings = {
        "FUNCTIONS_EXTENSION_VERSION": f"~{functions_version}",
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": storage,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": insights,
    }
    if plan.startswith("EP"):
        settings["WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"] = storage
        settings["WEBSITE_CONTENTSHARE"] = f"{name.lower()}{secrets.token_hex(4)}"
    return settings


def default_site_config(name: str, *, plan: PlanSku, os: OsName, python: str) -> dict[str, Any]:
    """The `config/web` properties ARM reports for a new app."""
    linux_fx = f"Python|{python}" if os == "linux" and plan != "FC1" else ""
    elastic = plan.startswith("EP")
    return {
        "numberOfWorkers": 1,
        "netFrameworkVersion": "v4.0",
        "phpVersion": "",
        "pythonVersion": "",
        "nodeVersion": "",
        "powerShellVersion": "",
        "linuxFxVersion": linux_fx,
        "windowsFxVersion": None,
        "requestTracingEnabled": False,
        "remoteDebuggingEnabled": False,
        "httpLoggingEnabled": False,
        "logsDirectorySizeLimit": 35,
        "detailedErrorLoggingEnabled": False,
        "publishingUsername": f"${name}",
        "scmType": "None",
        "use32BitWorkerProcess": os == "windows",
        "webSocketsEnabled": False,
        "alwaysOn": plan == "P1v3",
        "appCommandLine": "",
        "managedPipelineMode": "Integrated",
        "loadBalancing": "LeastRequests",
        "http20Enabled": False,
        "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2",
        "ftpsState": "FtpsOnly",
        "functionAppScaleLimit": 200 if plan in ("Y1", "FC1") else 0,
        "minimumElasticInstanceCount": 1 if elastic else 0,
        "preWarmedInstanceCount": 1 if elastic else 0,
        "functionsRuntimeScaleMonitoringEnabled": False,
        "healthCheckPath": None,
        "vnetRouteAllEnabled": False,
    }


def site_dir(data_dir: Path, site: SiteRecord) -> Path:
    """Where a site keeps its releases: `sites/<app>` or `sites/<app>/slots/<slot>`."""
    base = data_dir / "sites" / site.name.lower()
    return base if site.slot is None else base / "slots" / site.slot.lower()


def wwwroot(data_dir: Path, site: SiteRecord) -> Path:
    """The site's content folder (a link to the current release)."""
    return site_dir(data_dir, site) / "wwwroot"


def app_host(site: SiteRecord) -> str:
    """The site's default host name: `127.0.0.1:<app port>` (ARM's `defaultHostName`)."""
    return f"127.0.0.1:{site.app_port}"


def scm_host(site: SiteRecord) -> str:
    """The site's SCM (Kudu) host: `127.0.0.1:<scm port>` (hostType `Repository`)."""
    return f"127.0.0.1:{site.scm_port}"


def truthy(value: str | None) -> bool:
    """App-setting booleans the way Kudu reads them (`true` / `1`)."""
    return (value or "").strip().lower() in ("true", "1")


def has_storage(settings: Mapping[str, str]) -> bool:
    """Whether the app names a storage account (`AzureWebJobsStorage`, or identity-based)."""
    return any(
        key.upper().replace(":", "__").startswith("AZUREWEBJOBSSTORAGE") and value.strip()
        for key, value in settings.items()
    )


def make_read_only(tree: Path) -> None:
    """Make every file and folder of `tree` read-only (Azure mounts packages read-only)."""
    for root, dirs, files in os.walk(tree):
        for name in files:
            Path(root, name).chmod(0o444)
        for name in dirs:
            Path(root, name).chmod(0o555)
    tree.chmod(0o555)


def remove_tree(tree: Path) -> None:
    """Delete a folder, read-only ones too (made writable first); a file is unlinked."""
    if not tree.is_dir() or tree.is_symlink():
        tree.unlink(missing_ok=True)
        return
    tree.chmod(stat.S_IRWXU)
    for root, dirs, _ in os.walk(tree):
        for name in dirs:
            Path(root, name).chmod(stat.S_IRWXU)
    shutil.rmtree(tree, ignore_errors=True)
