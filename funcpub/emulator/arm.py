"""Azure Resource Manager for Microsoft.Web: sites, slots, their config and keys, plans.

Shapes follow the Azure REST API examples and what azure-mgmt-web 11 deserialises (`Site`,
`SiteConfigResource`, `StringDictionary`, `ConnectionStringDictionary`, `User`,
`CsmPublishingCredentialsPoliciesEntity`, `FunctionEnvelope`, `HostKeys`, `AppServicePlan`).
Paths match case-insensitively, as in ARM; any `api-version` is accepted but one is required.
Host names are `127.0.0.1:<port>`: each site has its own app and SCM ports, reported in
`defaultHostName`, `hostNames`, `enabledHostNames` and `hostNameSslStates` (hostType `Standard`
/ `Repository`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from funcpub.connectionstrings import ENVIRONMENT_PREFIXES, canonical_type
from funcpub.emulator import runfrompackage
from funcpub.emulator.auth import arm_error, authorize_arm
from funcpub.emulator.context import Context
from funcpub.emulator.records import ConnectionStringRecord, SiteRecord, site_key
from funcpub.emulator.sites import PLANS, app_host, scm_host, utc_now
from funcpub.emulator.web import empty_response, json_response, request_ids

PROVIDER: Final = "/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.web"
SITE: Final = f"{PROVIDER}/sites/<name>"
SLOT: Final = f"{SITE}/slots/<slot>"
SUB_RESOURCES: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("config/web", "config_web", ("GET", "PUT", "PATCH")),
    ("config/appsettings/list", "list_settings", ("POST",)),
    ("config/appsettings", "put_settings", ("PUT",)),
    ("config/connectionstrings/list", "list_connection_strings", ("POST",)),
    ("config/connectionstrings", "put_connection_strings", ("PUT",)),
    ("config/publishingcredentials/list", "credentials", ("POST",)),
    ("basicpublishingcredentialspolicies/scm", "scm_policy", ("GET", "PUT")),
    ("syncfunctiontriggers", "sync_triggers", ("POST",)),
    ("host/default/sync", "sync_host", ("POST",)),
    ("host/default/listkeys", "list_keys", ("POST",)),
    ("restart", "restart", ("POST",)),
    ("functions", "functions", ("GET",)),
)


def _rules() -> list[Rule]:
    rules = [
        Rule("/subscriptions/<sub>/providers/microsoft.web/sites", endpoint="list_all"),
        Rule(f"{PROVIDER}/sites", endpoint="list_group"),
        Rule(f"{PROVIDER}/serverfarms/<plan>", endpoint="plan"),
        Rule(SITE, endpoint="site"),
        Rule(f"{SITE}/slots", endpoint="list_slots"),
        Rule(SLOT, endpoint="site"),
        # One list per app (no slot variant in the API): the settings that stay with a slot.
        Rule(
            f"{SITE}/config/slotconfignames",
            endpoint="slot_config_names",
            methods=["GET", "PUT"],
        ),
    ]
    for prefix in (SITE, SLOT):
        rules += [
            Rule(f"{prefix}/{path}", endpoint=endpoint, methods=list(methods))
            for path, endpoint, methods in SUB_RESOURCES
        ]
    return rules


ROUTES: Final = Map(_rules(), strict_slashes=False, merge_slashes=False)

SiteHandler = Callable[[Context, Request, SiteRecord], Response]
# App settings Flex Consumption refuses (its runtime is in functionAppConfig).
FLEX_REFUSED_SETTINGS: Final = frozenset(
    {
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    }
)


# -- JSON shapes ----------------------------------------------------------------------------


def resource_group_id(site: SiteRecord) -> str:
    return f"/subscriptions/{site.subscription_id}/resourceGroups/{site.resource_group}"


def site_id(site: SiteRecord) -> str:
    base = f"{resource_group_id(site)}/providers/Microsoft.Web/sites/{site.name}"
    return base if site.slot is None else f"{base}/slots/{site.slot}"


def plan_id(site: SiteRecord) -> str:
    return f"{resource_group_id(site)}/providers/Microsoft.Web/serverfarms/{site.plan_name}"


def site_kind(site: SiteRecord) -> str:
    return "functionapp,linux" if site.os == "linux" else "functionapp"


def site_json(site: SiteRecord) -> dict[str, Any]:
    """`GET .../sites/{name}` (a `Site`)."""
    app, scm = app_host(site), scm_host(site)
    properties: dict[str, Any] = {
        "name": site.full_name,
        "state": "Running",
        "hostNames": [app],
        "repositorySiteName": site.name,
        "usageState": "Normal",
        "enabled": True,
        "enabledHostNames": [app, scm],
        "availabilityState": "Normal",
        "hostNameSslStates": [
            {"name": app, "sslState": "Disabled", "hostType": "Standard"},
            {"name": scm, "sslState": "Disabled", "hostType": "Repository"},
        ],
        "serverFarmId": plan_id(site),
        # Flex apps report `reserved: null`; clients must tell Linux from `kind`.
        "reserved": None if site.is_flex else site.os == "linux",
        "isXenon": False,
        "hyperV": False,
        "lastModifiedTimeUtc": site.created_at,
        "siteConfig": _partial_site_config(site),
        "functionAppConfig": _function_app_config(site),
        "scmSiteAlsoStopped": False,
        "clientAffinityEnabled": False,
        "clientCertEnabled": False,
        "hostNamesDisabled": False,
        "outboundIpAddresses": "127.0.0.1",
        "possibleOutboundIpAddresses": "127.0.0.1",
        "containerSize": 1536,
        "dailyMemoryTimeQuota": 0,
        "resourceGroup": site.resource_group,
        "defaultHostName": app,
        "slotSwapStatus": None,
        "httpsOnly": True,
        "redundancyMode": "None",
        "publicNetworkAccess": "Enabled",
        "storageAccountRequired": False,
        "keyVaultReferenceIdentity": "SystemAssigned",
        "sku": PLANS[site.plan].tier,
    }
    return {
        "id": site_id(site),
        "name": site.full_name,
        "type": "Microsoft.Web/sites" if site.slot is None else "Microsoft.Web/sites/slots",
        "kind": site_kind(site),
        "location": site.location,
        "tags": {},
        "identity": {
            "type": "SystemAssigned",
            "principalId": runfrompackage.principal_id(site),
            "tenantId": None,
        },
        "properties": properties,
    }


def _partial_site_config(site: SiteRecord) -> dict[str, Any]:
    """GET site embeds a few siteConfig values (the rest is null there)."""
    names = (
        "numberOfWorkers",
        "linuxFxVersion",
        "alwaysOn",
        "http20Enabled",
        "functionAppScaleLimit",
        "minimumElasticInstanceCount",
    )
    return {name: site.site_config.get(name) for name in names} | {
        "acrUseManagedIdentityCreds": False
    }


def _function_app_config(site: SiteRecord) -> dict[str, Any] | None:
    """Flex only: where packages go, the runtime and scale settings."""
    if not site.is_flex:
        return None
    account = f"st{site.name.lower().replace('-', '')}"[:24]
    return {
        "deployment": {
            "storage": {
                "type": "blobContainer",
                "value": f"https://{account}.blob.core.windows.net/app-package-{site.name.lower()}",
                "authentication": {
                    "type": "StorageAccountConnectionString",
                    "storageAccountConnectionStringName": "DEPLOYMENT_STORAGE_CONNECTION_STRING",
                },
            }
        },
        "runtime": {"name": "python", "version": site.python},
        "scaleAndConcurrency": {"maximumInstanceCount": 100, "instanceMemoryMB": 2048},
    }


def config_json(site: SiteRecord) -> dict[str, Any]:
    """`config/web` (a `SiteConfigResource`)."""
    return {
        "id": f"{site_id(site)}/config/web",
        "name": "web",
        "type": "Microsoft.Web/sites/config",
        "location": site.location,
        "properties": dict(site.site_config),
    }


def settings_json(site: SiteRecord) -> dict[str, Any]:
    """`config/appsettings` (a `StringDictionary`)."""
    return {
        "id": f"{site_id(site)}/config/appsettings",
        "name": "appsettings",
        "type": "Microsoft.Web/sites/config",
        "kind": "app",
        "location": site.location,
        "properties": dict(site.app_settings),
    }


def connection_strings_json(site: SiteRecord) -> dict[str, Any]:
    """`config/connectionstrings` (a `ConnectionStringDictionary` of `ConnStringValueTypePair`)."""
    return {
        "id": f"{site_id(site)}/config/connectionstrings",
        "name": "connectionstrings",
        "type": "Microsoft.Web/sites/config",
        "kind": None,
        "location": site.location,
        "properties": {
            name: {"value": item.value, "type": item.type}
            for name, item in site.connection_strings.items()
        },
    }


def credentials_json(site: SiteRecord) -> dict[str, Any]:
    """`config/publishingcredentials/list` (a `User`)."""
    salt = hashlib.sha256(site.key.encode()).hexdigest()[:16]
    digest = hashlib.sha256((salt + site.publishing_password).encode()).digest()
    return {
        "id": f"{site_id(site)}/publishingcredentials/$" + site.name,
        "name": site.full_name,
        "type": "Microsoft.Web/sites/publishingcredentials",
        "kind": None,
        "location": site.location,
        "properties": {
            "name": None,
            "publishingUserName": site.publishing_user,
            "publishingPassword": site.publishing_password,
            "publishingPasswordHash": base64.b64encode(digest).decode(),
            "publishingPasswordHashSalt": salt,
            "metadata": None,
            "isDeleted": False,
            "scmUri": f"https://{site.publishing_user}:{site.publishing_password}@{scm_host(site)}",
        },
    }


def policy_json(site: SiteRecord) -> dict[str, Any]:
    """`basicPublishingCredentialsPolicies/scm` (a `CsmPublishingCredentialsPoliciesEntity`)."""
    return {
        "id": f"{site_id(site)}/basicPublishingCredentialsPolicies/scm",
        "name": "scm",
        "type": "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
        "location": site.location,
        "properties": {"allow": site.basic_auth},
    }


def slot_config_names_json(site: SiteRecord) -> dict[str, Any]:
    """`config/slotConfigNames` (a `SlotConfigNamesResource`); unset lists are null, as in ARM."""
    return {
        "id": f"{site_id(site)}/config/slotConfigNames",
        "name": "slotConfigNames",
        "type": "Microsoft.Web/sites/config",
        "location": site.location,
        "properties": {
            "connectionStringNames": _list_or_none(site.sticky_connection_strings),
            "appSettingNames": _list_or_none(site.sticky_app_settings),
            "azureStorageConfigNames": None,
        },
    }


def _list_or_none(names: tuple[str, ...] | None) -> list[str] | None:
    return None if names is None else list(names)


def keys_json(site: SiteRecord) -> dict[str, Any]:
    """`host/default/listkeys` (`HostKeys`)."""
    return {
        "masterKey": site.master_key,
        "functionKeys": {"default": site.function_key},
        "systemKeys": {},
    }


def functions_json(site: SiteRecord) -> dict[str, Any]:
    """`GET .../functions`: FunctionEnvelopes from the latest successful index."""
    functions = () if site.index is None else site.index.functions
    app, scm = app_host(site), scm_host(site)
    values = [
        {
            "id": f"{site_id(site)}/functions/{f.name}",
            "name": f"{site.full_name}/{f.name}",
            "type": "Microsoft.Web/sites/functions",
            "location": site.location,
            "properties": {
                "name": f.name,
                "function_app_id": None,
                "script_root_path_href": f"https://{scm}/admin/vfs/home/site/wwwroot/",
                "script_href": f"https://{scm}/admin/vfs/home/site/wwwroot/{f.script}",
                "config_href": None,
                "test_data_href": None,
                "secrets_file_href": None,
                "href": f"https://{scm}/admin/functions/{f.name}",
                "config": {
                    "name": f.name,
                    "entryPoint": f.name,
                    "scriptFile": f.script,
                    "language": "python",
                    "functionDirectory": "",
                    "bindings": [dict(b) for b in f.bindings],
                },
                "files": None,
                "test_data": None,
                "invoke_url_template": (
                    None if f.route is None else f"https://{app}/api/{f.route.lstrip('/')}"
                ),
                "language": "python",
                "isDisabled": False,
            },
        }
        for f in functions
    ]
    return {"value": values, "nextLink": None}


def plan_json(site: SiteRecord) -> dict[str, Any]:
    """`GET .../serverfarms/{plan}` (an `AppServicePlan`)."""
    info = PLANS[site.plan]
    linux = site.os == "linux"
    return {
        "id": plan_id(site),
        "name": site.plan_name,
        "type": "Microsoft.Web/serverfarms",
        "kind": info.linux_kind if linux else info.windows_kind,
        "location": site.location,
        "tags": {},
        "properties": {
            "status": "Ready",
            "maximumNumberOfWorkers": 20 if info.tier == "ElasticPremium" else 1,
            "numberOfWorkers": max(info.capacity, 1),
            "geoRegion": site.location,
            "perSiteScaling": False,
            "elasticScaleEnabled": info.tier == "ElasticPremium",
            "maximumElasticWorkerCount": 20 if info.tier == "ElasticPremium" else 1,
            "numberOfSites": 1,
            "isSpot": False,
            "resourceGroup": site.resource_group,
            "reserved": linux,
            "isXenon": False,
            "hyperV": False,
            "targetWorkerCount": 0,
            "targetWorkerSizeId": 0,
            "provisioningState": "Succeeded",
            "zoneRedundant": False,
        },
        "sku": {
            "name": site.plan,
            "tier": info.tier,
            "size": site.plan,
            "family": info.family,
            "capacity": info.capacity,
        },
    }


# -- request handling -----------------------------------------------------------------------


def handle(context: Context, request: Request) -> Response:
    """Any request under `/subscriptions/`."""
    path = request.path.lower()
    sub = path.split("/")[2] if path.count("/") >= 2 else ""
    subscription = context.store.subscription(sub)
    tenant = (
        subscription.tenant_id if subscription is not None else context.store.defaults.tenant_id
    )
    authorized = authorize_arm(request, context.store, tenant_id=tenant, base_url=context.base_url)
    if isinstance(authorized, Response):
        return authorized
    if "api-version" not in request.args:
        return arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if subscription is None:
        return arm_error(
            404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
        )
    return _route(context, request, path)


def _route(context: Context, request: Request, path: str) -> Response:
    try:
        endpoint, values = ROUTES.bind("emulator").match(path, method=request.method)
    except MethodNotAllowed:
        return arm_error(
            405, "MethodNotAllowed", f"The requested method {request.method} is not allowed."
        )
    except HTTPException:
        return arm_error(
            404,
            "InvalidResourceType",
            "The resource type could not be found in the namespace 'Microsoft.Web' for api "
            f"version '{request.args['api-version']}'.",
        )
    name = str(endpoint)
    if name in LIST_HANDLERS:
        return LIST_HANDLERS[name](context, request, values)
    found = _find_site(context, values)
    if isinstance(found, Response):
        return found
    return _with_ids(SITE_HANDLERS[name](context, request, found))


def _with_ids(response: Response) -> Response:
    for header, value in request_ids().items():
        response.headers.setdefault(header, value)
    return response


def _in_group(site: SiteRecord, values: Mapping[str, Any]) -> bool:
    return site.subscription_id.lower() == str(
        values["sub"]
    ) and site.resource_group.lower() == str(values["rg"])


def _find_site(context: Context, values: Mapping[str, Any]) -> SiteRecord | Response:
    subscription = context.store.subscription(str(values["sub"]))
    groups = [] if subscription is None else [g.lower() for g in subscription.resource_groups]
    if values["rg"] not in groups:
        return arm_error(
            404, "ResourceGroupNotFound", f"Resource group '{values['rg']}' could not be found."
        )
    slot = values.get("slot")
    site = context.store.site(site_key(str(values["name"]), None if slot is None else str(slot)))
    if site is None or not _in_group(site, values):
        resource = f"Microsoft.Web/sites/{values['name']}"
        resource += f"/slots/{slot}" if slot is not None else ""
        return arm_error(
            404,
            "ResourceNotFound",
            f"The Resource '{resource}' under resource group '{values['rg']}' was not found. For "
            "more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    return site


def _page(sites: list[SiteRecord]) -> Response:
    return _with_ids(json_response({"value": [site_json(s) for s in sites], "nextLink": None}))


def list_all(context: Context, request: Request, values: Mapping[str, Any]) -> Response:
    """`GET /subscriptions/{sub}/providers/Microsoft.Web/sites` (apps, not slots)."""
    sites = context.store.sites()
    return _page([s for s in sites if s.slot is None and s.subscription_id == values["sub"]])


def list_group(context: Context, request: Request, values: Mapping[str, Any]) -> Response:
    """`GET .../resourceGroups/{rg}/providers/Microsoft.Web/sites`."""
    return _page([s for s in context.store.sites() if s.slot is None and _in_group(s, values)])


def list_slots(context: Context, request: Request, values: Mapping[str, Any]) -> Response:
    """`GET .../sites/{name}/slots`."""
    found = _find_site(context, values)
    if isinstance(found, Response):
        return found
    sites = context.store.sites()
    return _page([s for s in sites if s.slot is not None and s.name.lower() == found.key])


def plan(context: Context, request: Request, values: Mapping[str, Any]) -> Response:
    """`GET .../serverfarms/{plan}`."""
    for site in context.store.sites():
        if site.plan_name.lower() == values["plan"] and _in_group(site, values):
            return _with_ids(json_response(plan_json(site)))
    return arm_error(
        404,
        "ResourceNotFound",
        f"The Resource 'Microsoft.Web/serverFarms/{values['plan']}' under resource group "
        f"'{values['rg']}' was not found.",
    )


LIST_HANDLERS: Final[Mapping[str, Callable[[Context, Request, Mapping[str, Any]], Response]]] = {
    "list_all": list_all,
    "list_group": list_group,
    "list_slots": list_slots,
    "plan": plan,
}


def _body_properties(request: Request) -> dict[str, Any] | Response:
    body = request.get_json(silent=True)
    properties = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(properties, dict):
        return arm_error(
            400, "BadRequest", "The request body must be a JSON object with 'properties'."
        )
    return properties


def get_site(context: Context, request: Request, site: SiteRecord) -> Response:
    return json_response(site_json(site))


def config_web(context: Context, request: Request, site: SiteRecord) -> Response:
    """GET; PUT (properties over the current ones, as ARM merges); PATCH (merge)."""
    if request.method == "GET":
        return json_response(config_json(site))
    properties = _body_properties(request)
    if isinstance(properties, Response):
        return properties
    changed = context.store.update_site(
        site.key, lambda s: replace(s, site_config={**s.site_config, **properties})
    )
    return json_response(config_json(changed))


def list_settings(context: Context, request: Request, site: SiteRecord) -> Response:
    return json_response(settings_json(site))


def put_settings(context: Context, request: Request, site: SiteRecord) -> Response:
    """Replace all app settings (omitted ones are deleted); the site and its host restart."""
    properties = _body_properties(request)
    if isinstance(properties, Response):
        return properties
    if not all(isinstance(v, str) for v in properties.values()):
        return arm_error(400, "BadRequest", "App setting values must be strings.")
    settings = {str(k): str(v) for k, v in properties.items()}
    refused = [key for key in settings if site.is_flex and key.upper() in FLEX_REFUSED_SETTINGS]
    if refused:
        return arm_error(
            400,
            "BadRequest",
            f"The following app setting (Site.SiteConfig.AppSettings.{refused[0]}) for Flex "
            "Consumption sites is invalid. Please remove or rename it before retrying.",
        )
    changed = context.store.update_site(site.key, lambda s: replace(s, app_settings=settings))
    context.runtimes.stop(site.key)
    return json_response(settings_json(changed))


def list_connection_strings(context: Context, request: Request, site: SiteRecord) -> Response:
    return json_response(connection_strings_json(site))


def put_connection_strings(context: Context, request: Request, site: SiteRecord) -> Response:
    """Replace all connection strings (omitted ones are deleted); the site restarts."""
    properties = _body_properties(request)
    if isinstance(properties, Response):
        return properties
    strings: dict[str, ConnectionStringRecord] = {}
    for name, pair in properties.items():
        parsed = _connection_string(str(name), pair)
        if isinstance(parsed, Response):
            return parsed
        strings[str(name)] = parsed
    changed = context.store.update_site(site.key, lambda s: replace(s, connection_strings=strings))
    context.runtimes.stop(site.key)
    return json_response(connection_strings_json(changed))


def _connection_string(name: str, pair: Any) -> ConnectionStringRecord | Response:
    """A `ConnStringValueTypePair` of a PUT body: a string value and a known type."""
    value = pair.get("value") if isinstance(pair, dict) else None
    kind = canonical_type(str(pair.get("type"))) if isinstance(pair, dict) else None
    if not isinstance(value, str):
        return arm_error(400, "BadRequest", f"The connection string '{name}' has no value.")
    if kind is None:
        return arm_error(
            400,
            "BadRequest",
            f"The connection string '{name}' has an invalid type; use one of "
            f"{', '.join(ENVIRONMENT_PREFIXES)}.",
        )
    return ConnectionStringRecord(value=value, type=kind)


def slot_config_names(context: Context, request: Request, site: SiteRecord) -> Response:
    """GET; PUT replaces both lists (a list left out or null is cleared, as in ARM)."""
    if request.method == "GET":
        return json_response(slot_config_names_json(site))
    properties = _body_properties(request)
    if isinstance(properties, Response):
        return properties
    lists: dict[str, tuple[str, ...] | None] = {}
    for field_name in ("appSettingNames", "connectionStringNames"):
        value = properties.get(field_name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            return arm_error(
                400, "BadRequest", f"'properties.{field_name}' must be a list of names."
            )
        lists[field_name] = None if value is None else tuple(value)
    changed = context.store.update_site(
        site.key,
        lambda s: replace(
            s,
            sticky_app_settings=lists["appSettingNames"],
            sticky_connection_strings=lists["connectionStringNames"],
        ),
    )
    return json_response(slot_config_names_json(changed))


def credentials(context: Context, request: Request, site: SiteRecord) -> Response:
    # A long-running operation in the SDK; the service answers it synchronously with 200.
    return json_response(credentials_json(site))


def scm_policy(context: Context, request: Request, site: SiteRecord) -> Response:
    if request.method == "GET":
        return json_response(policy_json(site))
    properties = _body_properties(request)
    if isinstance(properties, Response):
        return properties
    allow = properties.get("allow")
    if not isinstance(allow, bool):
        return arm_error(400, "BadRequest", "'properties.allow' must be true or false.")
    changed = context.store.update_site(site.key, lambda s: replace(s, basic_auth=allow))
    return json_response(policy_json(changed))


def sync_triggers(context: Context, request: Request, site: SiteRecord) -> Response:
    # The spec says 204; the service answers 200 with this body (Azure-Functions #1674).
    if not context.runtimes.is_running(site.key):
        # The site restarted (a settings change): it fetches its package as it starts. A
        # running site keeps the package it has, as on Azure, even if the blob changed.
        runfrompackage.mount(context, site)
    context.store.update_site(site.key, lambda s: replace(s, last_trigger_sync=utc_now()))
    return json_response({"status": "success"})


def sync_host(context: Context, request: Request, site: SiteRecord) -> Response:
    context.store.update_site(site.key, lambda s: replace(s, last_trigger_sync=utc_now()))
    return empty_response(204)


def list_keys(context: Context, request: Request, site: SiteRecord) -> Response:
    return json_response(keys_json(site))


def restart(context: Context, request: Request, site: SiteRecord) -> Response:
    context.runtimes.stop(site.key)
    runfrompackage.mount(context, site)
    return empty_response(200)


def functions(context: Context, request: Request, site: SiteRecord) -> Response:
    return json_response(functions_json(site))


SITE_HANDLERS: Final[Mapping[str, SiteHandler]] = {
    "site": get_site,
    "config_web": config_web,
    "list_settings": list_settings,
    "put_settings": put_settings,
    "list_connection_strings": list_connection_strings,
    "put_connection_strings": put_connection_strings,
    "slot_config_names": slot_config_names,
    "credentials": credentials,
    "scm_policy": scm_policy,
    "sync_triggers": sync_triggers,
    "sync_host": sync_host,
    "list_keys": list_keys,
    "restart": restart,
    "functions": functions,
}
