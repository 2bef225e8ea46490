"""The emulator's persistent records: frozen dataclasses with explicit JSON round trips."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

OsName = Literal["linux", "windows"]
PlanSku = Literal["Y1", "EP1", "EP2", "EP3", "FC1", "P1v3"]
OS_NAMES: Final[tuple[OsName, ...]] = get_args(OsName)
PLAN_SKUS: Final[tuple[PlanSku, ...]] = get_args(PlanSku)

# Workload identity: the emulator's own OIDC issuer; `Emulator.federated_token()` mints assertions
# with it, and the default principal trusts this issuer with `DEFAULT_FEDERATED_SUBJECT`.
EMULATOR_OIDC_ISSUER: Final = "https://oidc.funcpub-emulator.invalid"
DEFAULT_FEDERATED_SUBJECT: Final = "funcpub-emulator:deployer"
TOKEN_EXCHANGE_AUDIENCE: Final = "api://AzureADTokenExchange"  # noqa: S105 - not a secret
# Azure DevOps: the emulated organization and project whose jobs ask for service-connection OIDC
# tokens; Azure DevOps issues them as `https://vstoken.dev.azure.com/<organization id>` with the
# subject `sc://<organization>/<project>/<service connection name>`.
DEVOPS_ORGANIZATION: Final = "funcpub-emulator"
DEVOPS_ORGANIZATION_ID: Final = "5f0f7c3e-6c1b-4d6e-9a57-0f5bd7ad0e01"
DEVOPS_PROJECT: Final = "funcpub"
DEVOPS_ISSUER: Final = f"https://vstoken.dev.azure.com/{DEVOPS_ORGANIZATION_ID}"
DEFAULT_SERVICE_CONNECTION: Final = "funcpub-wif"

# Kudu's DeployStatus (Kudu.Contracts/Deployment/DeployStatus.cs).
PENDING: Final = 0
BUILDING: Final = 1
FAILED: Final = 3
SUCCESS: Final = 4
# Kudu's LogEntryType.
LOG_MESSAGE: Final = 0
LOG_WARNING: Final = 1
LOG_ERROR: Final = 2

Json = dict[str, Any]


def to_json(record: Any) -> Json:
    """Any record as JSON-ready data (tuples become lists, mappings dicts)."""
    data: Json = dataclasses.asdict(record)
    return data


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value or ())


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else _strings(value)


@dataclass(frozen=True, kw_only=True)
class FederatedCredential:
    """A workload-identity trust: assertions with this issuer and subject stand for the app."""

    issuer: str
    subject: str
    audience: str = TOKEN_EXCHANGE_AUDIENCE

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FederatedCredential:
        return cls(
            issuer=str(data["issuer"]),
            subject=str(data["subject"]),
            audience=str(data.get("audience", TOKEN_EXCHANGE_AUDIENCE)),
        )


@dataclass(frozen=True, kw_only=True)
class Principal:
    """A registered service principal (app registration) in a tenant."""

    tenant_id: str
    client_id: str
    object_id: str
    secret: str
    display_name: str
    federated: tuple[FederatedCredential, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Principal:
        return cls(
            tenant_id=str(data["tenant_id"]),
            client_id=str(data["client_id"]),
            object_id=str(data["object_id"]),
            secret=str(data["secret"]),
            display_name=str(data["display_name"]),
            federated=tuple(FederatedCredential.from_json(f) for f in data.get("federated", ())),
        )


def service_connection_subject(name: str) -> str:
    """The `sub` of Azure DevOps' OIDC tokens for the emulated project's service connection."""
    return f"sc://{DEVOPS_ORGANIZATION}/{DEVOPS_PROJECT}/{name}"


@dataclass(frozen=True, kw_only=True)
class ServiceConnection:
    """An Azure Resource Manager service connection (workload identity federation)."""

    id: str
    name: str
    tenant_id: str
    client_id: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServiceConnection:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            tenant_id=str(data["tenant_id"]),
            client_id=str(data["client_id"]),
        )


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """An Azure subscription, owned by one tenant, holding resource groups."""

    subscription_id: str
    tenant_id: str
    display_name: str
    resource_groups: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        return cls(
            subscription_id=str(data["subscription_id"]),
            tenant_id=str(data["tenant_id"]),
            display_name=str(data["display_name"]),
            resource_groups=_strings(data.get("resource_groups")),
        )


@dataclass(frozen=True, kw_only=True)
class FunctionRecord:
    """One indexed function, as the host module reported it (see host.IndexedFunction)."""

    name: str
    trigger: str
    route: str | None
    methods: tuple[str, ...]
    auth_level: str | None
    bindings: tuple[Mapping[str, Any], ...]
    script: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FunctionRecord:
        return cls(
            name=str(data["name"]),
            trigger=str(data["trigger"]),
            route=_optional(data.get("route")),
            methods=_strings(data.get("methods")),
            auth_level=_optional(data.get("auth_level")),
            bindings=tuple(dict(b) for b in data.get("bindings", ())),
            script=str(data.get("script", "")),
        )


@dataclass(frozen=True, kw_only=True)
class IndexRecord:
    """The latest indexing of a site's content: what ARM lists and the host status reports."""

    functions: tuple[FunctionRecord, ...]
    errors: tuple[str, ...]
    indexed_at: str
    deployment_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndexRecord:
        return cls(
            functions=tuple(FunctionRecord.from_json(f) for f in data.get("functions", ())),
            errors=_strings(data.get("errors")),
            indexed_at=str(data["indexed_at"]),
            deployment_id=_optional(data.get("deployment_id")),
        )


@dataclass(frozen=True, kw_only=True)
class ConnectionStringRecord:
    """One of a site's connection strings (ARM's `ConnStringValueTypePair`)."""

    value: str
    type: str  # a ConnectionStringType name: Custom, SQLAzure, MySql, ...

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectionStringRecord:
        return cls(value=str(data["value"]), type=str(data["type"]))


@dataclass(frozen=True, kw_only=True)
class SiteRecord:
    """A function app or one of its deployment slots (a slot is a site of its own)."""

    name: str
    slot: str | None
    subscription_id: str
    resource_group: str
    location: str
    plan_name: str
    plan: PlanSku
    os: OsName
    python: str
    functions_version: str
    app_settings: Mapping[str, str]
    site_config: Mapping[str, Any]
    basic_auth: bool
    publishing_password: str
    master_key: str
    function_key: str
    created_at: str
    scm_port: int = 0
    app_port: int = 0
    last_trigger_sync: str | None = None
    active_deployment: str | None = None
    index: IndexRecord | None = None
    # config/slotConfigNames of an app (kept on the production site; None until first PUT)
    sticky_app_settings: tuple[str, ...] | None = None
    sticky_connection_strings: tuple[str, ...] | None = None
    connection_strings: Mapping[str, ConnectionStringRecord] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The store key: the lower-case app name, plus `/<slot>` for a slot."""
        return site_key(self.name, self.slot)

    @property
    def full_name(self) -> str:
        """ARM's `name`: `app` or `app/slot`."""
        return self.name if self.slot is None else f"{self.name}/{self.slot}"

    @property
    def publishing_user(self) -> str:
        """`$app`, or `$app__slot` for a slot."""
        return f"${self.name}" if self.slot is None else f"${self.name}__{self.slot}"

    @property
    def is_flex(self) -> bool:
        return self.plan == "FC1"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SiteRecord:
        index = data.get("index")
        return cls(
            name=str(data["name"]),
            slot=_optional(data.get("slot")),
            subscription_id=str(data["subscription_id"]),
            resource_group=str(data["resource_group"]),
            location=str(data["location"]),
            plan_name=str(data["plan_name"]),
            plan=parse_plan(data["plan"]),
            os=parse_os(data["os"]),
            python=str(data["python"]),
            functions_version=str(data["functions_version"]),
            app_settings={str(k): str(v) for k, v in data["app_settings"].items()},
            site_config=dict(data["site_config"]),
            basic_auth=bool(data["basic_auth"]),
            publishing_password=str(data["publishing_password"]),
            master_key=str(data["master_key"]),
            function_key=str(data["function_key"]),
            created_at=str(data["created_at"]),
            scm_port=int(data.get("scm_port", 0)),
            app_port=int(data.get("app_port", 0)),
            last_trigger_sync=_optional(data.get("last_trigger_sync")),
            active_deployment=_optional(data.get("active_deployment")),
            index=None if index is None else IndexRecord.from_json(index),
            sticky_app_settings=_optional_strings(data.get("sticky_app_settings")),
            sticky_connection_strings=_optional_strings(data.get("sticky_connection_strings")),
            connection_strings={
                str(name): ConnectionStringRecord.from_json(value)
                for name, value in (data.get("connection_strings") or {}).items()
            },
        )


def site_key(name: str, slot: str | None = None) -> str:
    """Site names are global and case-insensitive, as Azure host names are."""
    return name.lower() if slot is None else f"{name.lower()}/{slot.lower()}"


def parse_plan(value: Any) -> PlanSku:
    """A plan SKU from untyped input; ValueError when unknown."""
    for sku in PLAN_SKUS:
        if sku == value:
            return sku
    msg = f"unknown plan {value!r}; use one of {', '.join(PLAN_SKUS)}"
    raise ValueError(msg)


def parse_os(value: Any) -> OsName:
    """An OS name from untyped input; ValueError when unknown."""
    for name in OS_NAMES:
        if name == value:
            return name
    msg = f"unknown os {value!r}; use one of {', '.join(OS_NAMES)}"
    raise ValueError(msg)


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """A Kudu deployment record (Kudu.Core/Deployment/DeploymentStatusFile.cs)."""

    id: str
    status: int
    status_text: str
    author: str
    author_email: str
    deployer: str
    message: str
    progress: str
    received_time: str
    start_time: str
    end_time: str | None = None
    last_success_end_time: str | None = None
    complete: bool = False
    is_temp: bool = False
    is_readonly: bool = True
    tracking_id: str = ""  # the SCM-DEPLOYMENT-ID header value, not part of Kudu's JSON

    @property
    def finished(self) -> bool:
        return self.status in (SUCCESS, FAILED)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deployment:
        return cls(
            id=str(data["id"]),
            status=int(data["status"]),
            status_text=str(data["status_text"]),
            author=str(data["author"]),
            author_email=str(data["author_email"]),
            deployer=str(data["deployer"]),
            message=str(data["message"]),
            progress=str(data["progress"]),
            received_time=str(data["received_time"]),
            start_time=str(data["start_time"]),
            end_time=_optional(data.get("end_time")),
            last_success_end_time=_optional(data.get("last_success_end_time")),
            complete=bool(data.get("complete", False)),
            is_temp=bool(data.get("is_temp", False)),
            is_readonly=bool(data.get("is_readonly", True)),
            tracking_id=str(data.get("tracking_id", "")),
        )


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    """A deployment log line; `parent` is the id of the top-level entry it details."""

    id: str
    log_time: str
    message: str
    type: int = LOG_MESSAGE
    parent: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        return cls(
            id=str(data["id"]),
            log_time=str(data["log_time"]),
            message=str(data["message"]),
            type=int(data.get("type", LOG_MESSAGE)),
            parent=_optional(data.get("parent")),
        )


@dataclass(frozen=True, kw_only=True)
class Defaults:
    """The service principal and subscription created on first start."""

    tenant_id: str
    client_id: str
    subscription_id: str


@dataclass(kw_only=True)
class StateData:
    """Everything the emulator persists (mutated only under the store's lock)."""

    signing_key: str
    defaults: Defaults
    main_port: int = 0
    principals: dict[str, Principal] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    sites: dict[str, SiteRecord] = field(default_factory=dict)
    deployments: dict[str, dict[str, Deployment]] = field(default_factory=dict)
    logs: dict[str, dict[str, list[LogEntry]]] = field(default_factory=dict)
    service_connections: dict[str, ServiceConnection] = field(default_factory=dict)
