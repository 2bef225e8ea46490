"""Azure Resource Manager (Microsoft.Web) through azure-mgmt-web.

Finding the app, reading and changing its configuration, syncing triggers and listing functions.
Model objects are read as their REST JSON (`as_dict()`), so the parsing below follows the
documented wire shapes (see docs/research: GET site, config/web, appsettings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from azure.core.exceptions import AzureError, HttpResponseError
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import (
    ConnectionStringDictionary,
    ConnStringValueTypePair,
    SiteConfigResource,
    StringDictionary,
)

from funcpub.appsettings import SettingAction
from funcpub.connectionstrings import CUSTOM, ConnectionString
from funcpub.deploy.auth import Credential, Verify
from funcpub.deploy.changes import (
    ConcreteChange,
    CurrentConfig,
    has_connection_strings,
    keys_of,
    merged_app_settings,
    merged_connection_strings,
    site_config_patch,
    unapplied,
)
from funcpub.deploy.cloud import CloudProfile
from funcpub.deploy.timing import Timing
from funcpub.errors import AuthError, ConfigError, DeployError, FuncpubError
from funcpub.hosting import PLAN_NAMES, PLANS_WITH_SLOTS, HostingPlan

ErrorT = TypeVar("ErrorT", bound=FuncpubError)

SUBSCRIPTION_VARIABLE: Final = "AZURE_SUBSCRIPTION_ID"
_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)
_SERVER_FARM = re.compile(
    r"/resourceGroups/([^/]+)/providers/Microsoft\.Web/serverfarms/([^/]+)", re.IGNORECASE
)
_SUBSCRIPTION = re.compile(r"[A-Za-z0-9-]{1,64}")
# Site `properties.sku` / plan `sku.tier` (az CLI and Core Tools compare these), then plan
# `sku.name` prefixes (Y1, FC1, EP1) for the odd response that carries only the name.
_HOSTING_BY_SKU: Final[Mapping[str, HostingPlan]] = {
    "dynamic": "consumption",
    "flexconsumption": "flex",
    "elasticpremium": "premium",
}
_HOSTING_BY_PREFIX: Final[Mapping[str, HostingPlan]] = {
    "Y": "consumption",
    "FC": "flex",
    "EP": "premium",
}
_SKU_NAME = re.compile(r"(Y|FC|EP)\d+")
RBAC_HINT: Final = (
    "the signed-in identity needs Website Contributor (or Contributor) on the function app"
)


# --- subscription -------------------------------------------------------------------------


def resolve_subscription(option: str | None, environ: Mapping[str, str]) -> str:
    """--subscription, else AZURE_SUBSCRIPTION_ID, else the Azure CLI's default subscription."""
    value = option or environ.get(SUBSCRIPTION_VARIABLE) or cli_default_subscription(environ)
    if not value:
        msg = "no Azure subscription given"
        hint = f"pass --subscription, set {SUBSCRIPTION_VARIABLE}, or run `az account set -s <id>`"
        raise ConfigError(msg, hint=hint)
    if not _SUBSCRIPTION.fullmatch(value):
        msg = f"{value!r} is not an Azure subscription ID"
        raise ConfigError(msg, hint="use the subscription's GUID (az account list -o table)")
    return value


def azure_config_dir(environ: Mapping[str, str]) -> Path:
    """The Azure CLI's folder: AZURE_CONFIG_DIR or ~/.azure."""
    if configured := environ.get("AZURE_CONFIG_DIR"):
        return Path(configured).expanduser()
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return (Path(home) if home else Path.home()) / ".azure"


def cli_default_subscription(environ: Mapping[str, str]) -> str | None:
    """The `isDefault` subscription of azureProfile.json, if the CLI is logged in."""
    path = azure_config_dir(environ) / "azureProfile.json"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return parse_azure_profile(data)


def parse_azure_profile(data: bytes) -> str | None:
    """The default subscription ID in azureProfile.json's bytes (the CLI writes a UTF-8 BOM)."""
    try:
        profile = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    subscriptions = profile.get("subscriptions") if isinstance(profile, dict) else None
    for entry in subscriptions if isinstance(subscriptions, list) else ():
        if isinstance(entry, dict) and entry.get("isDefault") is True and entry.get("id"):
            return str(entry["id"])
    return None


# --- errors -------------------------------------------------------------------------------


def arm_error_detail(error: HttpResponseError) -> str:
    """`Code: message` of an ARM error body (both error shapes), else the SDK's message."""
    body: Any = None
    if error.response is not None:
        try:
            body = json.loads(error.response.text())
        except (ValueError, AttributeError, TypeError):
            body = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            code = inner.get("code") or inner.get("Code")
            message = inner.get("message") or inner.get("Message")
            if code or message:
                return ": ".join(str(part) for part in (code, message) if part)
    return (error.message or str(error)).splitlines()[0]


@contextmanager
def arm_errors(what: str) -> Iterator[None]:
    """Turn SDK exceptions into AuthError (401/403) or DeployError, naming what failed."""
    try:
        yield
    except HttpResponseError as error:
        status = error.status_code
        detail = arm_error_detail(error)
        if status in (401, 403):
            msg = f"Azure Resource Manager refused to {what} (HTTP {status}): {detail}"
            hint = RBAC_HINT if status == 403 else "sign in again; check --cloud and --tenant"
            raise AuthError(msg, hint=hint) from None
        msg = f"could not {what}: HTTP {status}: {detail}"
        raise DeployError(msg, hint=_status_hint(status)) from None
    except AzureError as error:
        msg = f"could not {what}: {str(error).splitlines()[0] if str(error) else type(error)}"
        raise DeployError(msg, hint="check the network and the cloud (--cloud)") from None


def _status_hint(status: int | None) -> str:
    """What to do about an ARM error that is not about permissions."""
    if status == 404:
        return "check the app name, --resource-group and --subscription"
    if status == 409:
        return "another operation is changing the app; publish again once it is done"
    if status is not None and (status == 429 or status >= 500):
        return "Azure Resource Manager kept failing (retried); publish again in a few minutes"
    return "Azure Resource Manager refused the request as quoted; check the app in the portal"


# --- the site -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SiteInfo:
    """What a deploy needs to know about the target app (or slot)."""

    name: str  # the app's name (without the slot)
    slot: str | None
    resource_group: str
    kind: str
    sku: str  # properties.sku, or the plan's tier
    hosting: HostingPlan
    state: str | None
    scm_host: str | None  # host[:port] of the Kudu site
    app_host: str | None  # host[:port] of the app
    server_farm_id: str | None
    flex_runtime: tuple[str, str] | None = None  # Flex: functionAppConfig.runtime (name, version)
    user_identities: Mapping[str, str] = field(default_factory=dict)  # client id -> resource id

    @property
    def display(self) -> str:
        """app or app/slot."""
        return f"{self.name}/{self.slot}" if self.slot else self.name

    @property
    def kind_tokens(self) -> frozenset[str]:
        """`functionapp,linux` -> {functionapp, linux}."""
        return frozenset(token.strip() for token in self.kind.lower().split(",") if token)


def parse_site(raw: Mapping[str, Any], *, slot: str | None = None, sku: str = "") -> SiteInfo:
    """A SiteInfo from GET site JSON."""
    props: Mapping[str, Any] = raw.get("properties") or {}
    site_sku = str(props.get("sku") or sku or "")
    full_name = str(raw.get("name") or "")
    return SiteInfo(
        name=full_name.split("/", 1)[0],
        slot=slot,
        resource_group=_resource_group(raw),
        kind=str(raw.get("kind") or ""),
        sku=site_sku,
        hosting=_hosting(props, site_sku),
        state=props.get("state"),
        scm_host=_host(props, "Repository"),
        app_host=_host(props, "Standard") or props.get("defaultHostName"),
        server_farm_id=props.get("serverFarmId"),
        flex_runtime=_flex_runtime(props),
        user_identities=_user_identities(raw),
    )


def _hosting(props: Mapping[str, Any], sku: str) -> HostingPlan:
    """The site's sku decides; a site without one but with a functionAppConfig is on Flex."""
    if not sku and props.get("functionAppConfig"):
        return "flex"
    return hosting_of(sku)


def hosting_of(sku: str) -> HostingPlan:
    """The hosting plan family from a site's sku / plan tier (or plan sku name)."""
    compact = sku.replace(" ", "")
    if compact.lower() in _HOSTING_BY_SKU:
        return _HOSTING_BY_SKU[compact.lower()]
    match = _SKU_NAME.fullmatch(compact.upper())
    return _HOSTING_BY_PREFIX[match.group(1)] if match else "dedicated"


def _flex_runtime(props: Mapping[str, Any]) -> tuple[str, str] | None:
    config = props.get("functionAppConfig") or {}
    runtime = config.get("runtime") if isinstance(config, Mapping) else None
    if not isinstance(runtime, Mapping):
        return None
    return str(runtime.get("name") or ""), str(runtime.get("version") or "")


def _user_identities(raw: Mapping[str, Any]) -> dict[str, str]:
    """The app's user-assigned managed identities: client id (lower case) -> resource id."""
    identity = raw.get("identity") or {}
    assigned = identity.get("userAssignedIdentities") if isinstance(identity, Mapping) else None
    return {
        str(value.get("clientId") or value.get("client_id") or "").lower(): str(resource_id)
        for resource_id, value in (assigned or {}).items()
        if isinstance(value, Mapping)
    }


def _resource_group(raw: Mapping[str, Any]) -> str:
    props: Mapping[str, Any] = raw.get("properties") or {}
    if group := props.get("resourceGroup"):
        return str(group)
    match = _RESOURCE_GROUP.search(str(raw.get("id") or ""))
    return match.group(1) if match else ""


def _host(props: Mapping[str, Any], host_type: str) -> str | None:
    """A host name by type: hostNameSslStates first, then enabledHostNames (.scm. = Kudu)."""
    for state in props.get("hostNameSslStates") or ():
        if str(state.get("hostType", "")).lower() == host_type.lower() and state.get("name"):
            return str(state["name"])
    scm = host_type == "Repository"
    for name in props.get("enabledHostNames") or ():
        if (".scm." in str(name)) == scm:
            return str(name)
    return None


def check_site(site: SiteInfo) -> None:
    """Refuse targets funcpub cannot deploy a Python zip to, before anything changes."""
    tokens = site.kind_tokens
    if "functionapp" not in tokens:
        msg = f"{site.display} is not a function app (kind {site.kind or 'unknown'!r})"
        raise DeployError(msg, hint="check the app name and resource group")
    if "linux" not in tokens:
        msg = f"{site.display} is a Windows function app; Python function apps need Linux"
        hint = "create a Linux function app (az functionapp create --os-type Linux ...)"
        raise DeployError(msg, hint=hint)
    if tokens & {"container", "azurecontainerapps", "kubernetes"}:
        msg = f"{site.display} runs a container ({site.kind}); a zip deploy does not apply to it"
        raise DeployError(msg, hint="build and push the container image instead")
    if site.slot and site.hosting not in PLANS_WITH_SLOTS:
        msg = f"{site.display}: apps on {PLAN_NAMES[site.hosting]} have no deployment slots"
        raise DeployError(msg, hint="publish without --slot")
    if not site.scm_host:
        msg = f"Azure reports no SCM (Kudu) host for {site.display}"
        raise DeployError(msg, hint="the app must have its SCM site enabled")


# --- the client ---------------------------------------------------------------------------


def make_client(
    credential: Credential,
    subscription_id: str,
    profile: CloudProfile,
    *,
    verify: Verify,
    timing: Timing,
) -> WebSiteManagementClient:
    """A WebSiteManagementClient for `profile`.

    azure-core retries connection errors, read timeouts, 408/429/500/502/503/504 (Retry-After
    respected) for idempotent methods, and 500/503/504 for POST and PATCH, 3 times each.
    """
    return WebSiteManagementClient(
        credential,
        subscription_id,
        base_url=profile.arm_endpoint,
        credential_scopes=[profile.arm_scope],
        connection_verify=verify,
        retry_backoff_factor=timing.arm_retry_backoff,
        read_timeout=timing.arm_read_timeout,
    )


def find_site(
    client: WebSiteManagementClient,
    name: str,
    *,
    resource_group: str | None,
    slot: str | None,
    subscription: str,
) -> SiteInfo:
    """The app (or slot) named `name`, searching the subscription when no group is given."""
    group = resource_group or _group_of(client, name, subscription)
    with arm_errors(f"read the function app {name}"):
        try:
            raw = (
                client.web_apps.get_slot(group, name, slot)
                if slot
                else client.web_apps.get(group, name)
            )
        except HttpResponseError as error:
            if error.status_code == 404:
                raise _not_found(client, name, slot, group) from None
            raise
        site = raw.as_dict()
    sku = "" if (site.get("properties") or {}).get("sku") else _plan_tier(client, site)
    return parse_site(site, slot=slot, sku=sku)


def _not_found(
    client: WebSiteManagementClient, name: str, slot: str | None, group: str
) -> DeployError:
    what = f"slot {slot!r} of function app {name!r}" if slot else f"function app {name!r}"
    msg = f"no {what} in resource group {group!r}"
    if slot and (hosting := _hosting_without_slots(client, name, group)):
        msg += f": apps on {PLAN_NAMES[hosting]} have no deployment slots"
        return DeployError(msg, hint="publish without --slot")
    return DeployError(msg, hint="check the app name, --resource-group and --subscription")


def _hosting_without_slots(
    client: WebSiteManagementClient, name: str, group: str
) -> HostingPlan | None:
    """The app's plan, when it is one without slots (a missing slot's likely reason)."""
    try:
        app = parse_site(client.web_apps.get(group, name).as_dict())
    except AzureError:
        return None
    return None if app.hosting in PLANS_WITH_SLOTS else app.hosting


def _group_of(client: WebSiteManagementClient, name: str, subscription: str) -> str:
    """The resource group of the one app called `name` (case-insensitively) in the subscription."""
    with arm_errors("list the apps of the subscription"):
        matches = [
            site.as_dict()
            for site in client.web_apps.list()
            if (site.name or "").lower() == name.lower()
        ]
    if not matches:
        msg = f"no function app named {name!r} in subscription {subscription}"
        raise DeployError(msg, hint="check the app name and --subscription")
    groups = sorted(_resource_group(site) for site in matches)
    if len(groups) > 1:
        msg = f"{len(groups)} apps are named {name!r}: resource groups {', '.join(groups)}"
        raise ConfigError(msg, hint="pass --resource-group to choose one")
    return groups[0]


def _plan_tier(client: WebSiteManagementClient, site: Mapping[str, Any]) -> str:
    """The App Service plan's tier, when the site does not carry `properties.sku`."""
    farm = (site.get("properties") or {}).get("serverFarmId") or ""
    match = _SERVER_FARM.search(str(farm))
    if not match:
        return ""
    with arm_errors("read the app's App Service plan"):
        plan = client.app_service_plans.get(match.group(1), match.group(2)).as_dict()
    return str((plan.get("sku") or {}).get("tier") or "")


class ArmApp:
    """ARM operations on one app or slot."""

    def __init__(self, client: WebSiteManagementClient, site: SiteInfo) -> None:
        self._client = client
        self._apps = client.web_apps
        self.site = site
        self._group = site.resource_group
        self._name = site.name
        self._slot = site.slot

    def app_settings(self) -> dict[str, str]:
        """All app settings (POST config/appsettings/list)."""
        with arm_errors(f"read the app settings of {self.site.display}"):
            if self._slot:
                result = self._apps.list_application_settings_slot(
                    self._group, self._name, self._slot
                )
            else:
                result = self._apps.list_application_settings(self._group, self._name)
        return {str(k): str(v) for k, v in (result.properties or {}).items()}

    def site_config(self) -> dict[str, str]:
        """The string properties of config/web (linuxFxVersion and friends)."""
        with arm_errors(f"read the site configuration of {self.site.display}"):
            if self._slot:
                result = self._apps.get_configuration_slot(self._group, self._name, self._slot)
            else:
                result = self._apps.get_configuration(self._group, self._name)
        props = result.as_dict().get("properties") or {}
        return {str(k): v for k, v in props.items() if isinstance(v, str)}

    def sticky_setting_names(self) -> frozenset[str]:
        """The app settings marked "deployment slot setting" (see slot_config_names)."""
        return self.slot_config_names()[0]

    def slot_config_names(self) -> tuple[frozenset[str], frozenset[str]]:
        """The app settings and the connection strings marked "deployment slot setting"
        (GET config/slotConfigNames).

        One list per app, read from the production site even when this is a slot: it names the
        settings that stay with their slot on a swap.
        """
        with arm_errors(f"read the slot setting names of {self._name}"):
            result = self._apps.list_slot_configuration_names(self._group, self._name)
        props = result.as_dict().get("properties") or {}
        return (
            frozenset(str(name) for name in props.get("appSettingNames") or ()),
            frozenset(str(name) for name in props.get("connectionStringNames") or ()),
        )

    def connection_strings(self) -> dict[str, ConnectionString]:
        """All connection strings with their types (POST config/connectionstrings/list)."""
        with arm_errors(f"read the connection strings of {self.site.display}"):
            if self._slot:
                result = self._apps.list_connection_strings_slot(
                    self._group, self._name, self._slot
                )
            else:
                result = self._apps.list_connection_strings(self._group, self._name)
        properties = result.as_dict().get("properties") or {}
        return {
            str(name): ConnectionString(
                value=str(pair.get("value") or ""), type=str(pair.get("type") or CUSTOM)
            )
            for name, pair in properties.items()
            if isinstance(pair, Mapping)
        }

    def current_config(self, *, connection_strings: bool = False) -> CurrentConfig:
        """App settings and site config together (and the connection strings when asked)."""
        return CurrentConfig(
            app_settings=self.app_settings(),
            site_config=self.site_config(),
            connection_strings=self.connection_strings() if connection_strings else {},
        )

    def current_config_for(self, changes: Sequence[ConcreteChange]) -> CurrentConfig:
        """What `changes` are about: the connection strings too if any of them is one."""
        return self.current_config(
            connection_strings=has_connection_strings(c.change for c in changes)
        )

    def replace_app_settings(self, settings: Mapping[str, str]) -> None:
        """PUT config/appsettings: the full set (omitted keys are deleted)."""
        body = StringDictionary(properties=dict(settings))
        with arm_errors(f"update the app settings of {self.site.display}"):
            if self._slot:
                self._apps.update_application_settings_slot(
                    self._group, self._name, self._slot, body
                )
            else:
                self._apps.update_application_settings(self._group, self._name, body)

    def replace_connection_strings(self, strings: Mapping[str, ConnectionString]) -> None:
        """PUT config/connectionstrings: the full set (omitted ones are deleted)."""
        body = ConnectionStringDictionary(
            properties={
                name: ConnStringValueTypePair(value=item.value, type=item.type)
                for name, item in strings.items()
            }
        )
        with arm_errors(f"update the connection strings of {self.site.display}"):
            if self._slot:
                self._apps.update_connection_strings_slot(self._group, self._name, self._slot, body)
            else:
                self._apps.update_connection_strings(self._group, self._name, body)

    def patch_site_config(self, properties: Mapping[str, str]) -> None:
        """PATCH config/web with just `properties`."""
        body = SiteConfigResource({"properties": dict(properties)})
        with arm_errors(f"update the site configuration of {self.site.display}"):
            if self._slot:
                self._apps.update_configuration_slot(self._group, self._name, self._slot, body)
            else:
                self._apps.update_configuration(self._group, self._name, body)

    def basic_auth_allowed(self) -> bool:
        """Whether the SCM site accepts Basic auth (basicPublishingCredentialsPolicies/scm)."""
        with arm_errors(f"read the SCM basic-auth policy of {self.site.display}"):
            if self._slot:
                result = self._apps.get_scm_allowed_slot(self._group, self._name, self._slot)
            else:
                result = self._apps.get_scm_allowed(self._group, self._name)
        return bool((result.as_dict().get("properties") or {}).get("allow"))

    def publishing_credentials(self) -> tuple[str, str]:
        """The site's ($app, password) publishing credentials."""
        with arm_errors(f"read the publishing credentials of {self.site.display}"):
            if self._slot:
                poller = self._apps.begin_list_publishing_credentials_slot(
                    self._group, self._name, self._slot
                )
            else:
                poller = self._apps.begin_list_publishing_credentials(self._group, self._name)
            props = poller.result().as_dict().get("properties") or {}
        return str(props.get("publishingUserName") or ""), str(
            props.get("publishingPassword") or ""
        )

    def sync_triggers(self) -> None:
        """POST syncfunctiontriggers; the service answers 200 where the SDK expects 204."""
        with arm_errors(f"sync the triggers of {self.site.display}"):
            try:
                if self._slot:
                    self._apps.sync_function_triggers_slot(self._group, self._name, self._slot)
                else:
                    self._apps.sync_function_triggers(self._group, self._name)
            except HttpResponseError as error:
                # https://github.com/Azure/azure-rest-api-specs/issues/1275 (az CLI does the same)
                if error.status_code != 200:
                    raise

    def functions(self) -> list[dict[str, Any]]:
        """The functions ARM knows (FunctionEnvelope JSON)."""
        with arm_errors(f"list the functions of {self.site.display}"):
            if self._slot:
                pages = self._apps.list_instance_functions_slot(self._group, self._name, self._slot)
            else:
                pages = self._apps.list_functions(self._group, self._name)
            return [item.as_dict() for item in pages]

    def exists(self) -> bool | None:
        """Whether the app (or slot) still exists in Azure; None when ARM cannot tell."""
        try:
            if self._slot:
                self._apps.get_slot(self._group, self._name, self._slot)
            else:
                self._apps.get(self._group, self._name)
        except HttpResponseError as error:
            return False if error.status_code == 404 else None
        except AzureError:
            return None
        return True

    def host_keys(self) -> dict[str, Any]:
        """masterKey, functionKeys, systemKeys (POST host/default/listkeys)."""
        with arm_errors(f"read the host keys of {self.site.display}"):
            if self._slot:
                result = self._apps.list_host_keys_slot(self._group, self._name, self._slot)
            else:
                result = self._apps.list_host_keys(self._group, self._name)
        return dict(result.as_dict())


# --- applying changes ---------------------------------------------------------------------


def apply_changes(app: ArmApp, changes: Sequence[ConcreteChange]) -> None:
    """App settings and connection strings each in one read-modify-write PUT, site config by
    PATCH, then read back.

    All or nothing: when a step fails (or Azure does not keep a value), the configuration is read
    back, whatever did change is put back to its previous value, and the error says exactly what
    is changed in Azure now - never a guess.
    """
    try:
        write_changes(app, changes)
        missing = unapplied(changes, app.current_config_for(changes))
    except FuncpubError as error:
        raise undo_changes(app, changes, error) from None
    if missing:
        msg = f"Azure did not keep the new value of {', '.join(missing)} on {app.site.display}"
        raise undo_changes(app, changes, DeployError(msg))


def undo_changes(
    app: ArmApp, changes: Sequence[ConcreteChange], error: FuncpubError
) -> FuncpubError:
    """`error`, after putting back what `changes` already changed, noting the outcome."""
    try:
        changed = changed_keys(changes, app.current_config_for(changes))
        if changed:
            restore_previous(app, [c for c in changes if c.change.key in changed])
            still = changed_keys(changes, app.current_config_for(changes))
            if still:
                return with_note(error, f"settings still changed in Azure: {', '.join(still)}")
            return with_note(error, f"the changed settings were put back: {', '.join(changed)}")
    except FuncpubError as failure:
        keys = ", ".join(keys_of(changes))
        first = failure.message.splitlines()[0]
        return with_note(error, f"{keys} may have changed in Azure; checking failed: {first}")
    return with_changed_keys(error, [])


def changed_keys(changes: Sequence[ConcreteChange], after: CurrentConfig) -> list[str]:
    """The keys of `changes` that `after` shows applied (a key someone else changed meanwhile
    to another value is not ours to put back)."""
    return [item.change.key for item in changes if not unapplied([item], after)]


def restore_previous(app: ArmApp, changes: Sequence[ConcreteChange]) -> None:
    """Put the previous values of `changes` back (read-modify-write again)."""
    write_changes(app, [reverted(item) for item in changes])


def reverted(item: ConcreteChange) -> ConcreteChange:
    """The change that puts `item.previous` back (removes the key when it was new)."""
    change = item.change
    action: SettingAction = "remove" if item.previous is None else "ensure"
    back = replace(change, action=action, value=item.previous, reason="undo", public=False)
    return ConcreteChange(change=back, previous=change.value)


def write_changes(app: ArmApp, changes: Sequence[ConcreteChange]) -> None:
    """Write `changes`: read-modify-write PUTs and a PATCH, no read-back, no roll-back."""
    settings = [c for c in changes if c.change.scope == "app setting"]
    strings = [c for c in changes if c.change.scope == "connection string"]
    config = [c for c in changes if c.change.scope == "site config"]
    # Each PUT replaces the whole set: read right before writing, so nothing read earlier is
    # written back stale.
    if settings:
        app.replace_app_settings(merged_app_settings(app.app_settings(), settings))
    if strings:
        app.replace_connection_strings(merged_connection_strings(app.connection_strings(), strings))
    if config:
        app.patch_site_config(site_config_patch(config))


def with_changed_keys(error: ErrorT, changed: Sequence[str]) -> ErrorT:
    """`error` with the list of settings already changed in Azure appended to its message."""
    note = (
        f"settings already changed in Azure: {', '.join(changed)}"
        if changed
        else "no settings were changed"
    )
    return with_note(error, note)


def with_note(error: ErrorT, note: str) -> ErrorT:
    """`error` (same class and hint) with `(note)` appended to its message."""
    text = f"{error.message}\n({note})" if "\n" in error.message else f"{error.message} ({note})"
    return type(error)(text, hint=error.hint)
