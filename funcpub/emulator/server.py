"""The local Azure emulator: Entra ID and ARM on the main port, Kudu and the app per site.

```python
with Emulator(tmp_path) as emulator:
    site = emulator.create_app("hello", plan="EP1")
    env = emulator.client_env()   # AZURE_* variables, REQUESTS_CA_BUNDLE, FUNCPUB_CLOUD=emulator
```
Every server listens on 127.0.0.1 over TLS with a certificate from the emulator's own CA
(`ca_bundle`). `*.localhost` names do not resolve everywhere, so each site gets two ports of its
own: its SCM (Kudu) host and its app host; ARM reports them as host names `127.0.0.1:<port>`.
Restarting on the same data dir keeps sites, settings, keys and deployments, and tries the
previous ports first.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from funcpub.emulator import apphost, arm, devops, entra, kudu
from funcpub.emulator.auth import valid_token
from funcpub.emulator.context import Context
from funcpub.emulator.deployments import Deployments
from funcpub.emulator.faults import Faults, Role
from funcpub.emulator.records import (
    DEFAULT_FEDERATED_SUBJECT,
    DEFAULT_SERVICE_CONNECTION,
    DEVOPS_ISSUER,
    DEVOPS_ORGANIZATION,
    EMULATOR_OIDC_ISSUER,
    TOKEN_EXCHANGE_AUDIENCE,
    FederatedCredential,
    OsName,
    PlanSku,
    ServiceConnection,
    SiteRecord,
    parse_os,
    parse_plan,
    service_connection_subject,
    site_key,
)
from funcpub.emulator.runtime import Runtimes
from funcpub.emulator.sites import app_host, new_site, new_slot, scm_host, wwwroot
from funcpub.emulator.state import Store
from funcpub.emulator.tls import ensure_tls, server_context, tls_files
from funcpub.emulator.tokens import mint_access_token, mint_assertion
from funcpub.emulator.web import ServerThread, json_response, stop_all, text_response, wsgi
from funcpub.options import EMULATOR_URL_ENV, env_var

SERVER_FILE: Final = "server.json"
ADMIN_PREFIX: Final = "/_emulator"

MAIN_ROUTES: Final = Map(
    [
        Rule("/<tenant>/v2.0/.well-known/openid-configuration", endpoint="discovery"),
        Rule("/<tenant>/oauth2/v2.0/token", endpoint="token", methods=["POST"]),
        Rule(devops.OIDC_PATH, endpoint="oidc", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/health", endpoint="health", methods=["GET"]),
        Rule(f"{ADMIN_PREFIX}/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule(f"{ADMIN_PREFIX}/apps", endpoint="apps", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/apps/<name>/slots", endpoint="slots", methods=["POST"]),
        Rule(f"{ADMIN_PREFIX}/apps/<name>", endpoint="app", methods=["DELETE"]),
    ],
    strict_slashes=False,
)


@dataclass(frozen=True, kw_only=True)
class IndexInfo:
    """The latest indexing of a site's content."""

    functions: tuple[str, ...]
    errors: tuple[str, ...]
    deployment_id: str | None


@dataclass(frozen=True, kw_only=True)
class SiteInfo:
    """A site as a test or the CLI sees it."""

    name: str
    slot: str | None
    resource_group: str
    subscription_id: str
    plan: PlanSku
    os: OsName
    python: str
    functions_version: str
    resource_id: str
    app_host: str
    scm_host: str
    app_url: str
    scm_url: str
    master_key: str
    function_key: str
    publishing_user: str
    publishing_password: str
    basic_auth: bool
    app_settings: Mapping[str, str]
    wwwroot: Path
    active_deployment: str | None
    last_trigger_sync: str | None
    index: IndexInfo | None

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["app_settings"] = dict(self.app_settings)
        data["wwwroot"] = str(self.wwwroot)
        data["index"] = None if self.index is None else dataclasses.asdict(self.index)
        return data


def _role(request: Request) -> Role | None:
    path = request.path.lower()
    if path.startswith("/subscriptions/"):
        return "arm"
    if path.startswith(ADMIN_PREFIX):
        return None
    return "devops" if devops.is_devops_path(path) else "entra"


class Emulator:
    """Entra ID + ARM + per-site Kudu and app hosts, served from daemon threads."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        faults_file: Path | None = None,
        token_lifetime: int = 3600,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.faults = Faults()
        if faults_file is not None:
            self.faults.load(faults_file)
        self._port = port
        self.token_lifetime = token_lifetime
        self.ca_bundle = tls_files(self.data_dir / "tls").ca_cert
        self._main: ServerThread | None = None
        self._site_servers: dict[str, tuple[ServerThread, ServerThread]] = {}
        self._deleted: set[str] = set()  # sites whose servers still answer 404, like Azure's
        self._sites_lock = threading.Lock()
        self._context: Context | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Create or reopen the data dir and start every server."""
        if self._main is not None:
            return self
        store = Store(self.data_dir)
        tls = ensure_tls(self.data_dir / "tls")
        self._ssl = server_context(tls)
        runtimes = Runtimes(
            self.data_dir / "worker", content_of=lambda site: wwwroot(self.data_dir, site)
        )
        deployments = Deployments(
            store=store, runtimes=runtimes, faults=self.faults, data_dir=self.data_dir
        )
        deployments.recover()
        self._main = ServerThread(
            wsgi(self._handle_main, faults=self.faults, role=_role),
            port=self._port or store.main_port,
            ssl_context=self._ssl,
            name="main",
        )
        store.set_main_port(self._main.port)
        self._context = Context(  # before the first request can arrive
            store=store,
            faults=self.faults,
            runtimes=runtimes,
            deployments=deployments,
            data_dir=self.data_dir,
            base_url=self.url,
            token_lifetime=self.token_lifetime,
        )
        self._main.start()
        for site in store.sites():
            self._serve_site(site)
        self._write_server_file()
        return self

    def stop(self) -> None:
        """Stop every server and Functions host (the data dir stays)."""
        servers = [server for pair in self._site_servers.values() for server in pair]
        stop_all([*servers, *([self._main] if self._main is not None else [])])
        self._site_servers.clear()
        self._main = None
        if self._context is not None:
            self._context.deployments.close()
            self._context.runtimes.close()
            self._context = None
        (self.data_dir / SERVER_FILE).unlink(missing_ok=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def context(self) -> Context:
        if self._context is None:
            msg = "the emulator is not running; call start() first"
            raise RuntimeError(msg)
        return self._context

    # -- identity -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """`https://127.0.0.1:<main port>`: the authority host and the ARM endpoint."""
        if self._main is None:
            msg = "the emulator is not running; call start() first"
            raise RuntimeError(msg)
        return f"https://{self._main.host}"

    @property
    def tenant_id(self) -> str:
        return self.context.store.defaults.tenant_id

    @property
    def client_id(self) -> str:
        return self.context.store.defaults.client_id

    @property
    def client_secret(self) -> str:
        principal = self.context.store.principal(self.client_id)
        if principal is None:
            msg = "the default service principal is missing from the state"
            raise RuntimeError(msg)
        return principal.secret

    @property
    def subscription_id(self) -> str:
        return self.context.store.defaults.subscription_id

    def client_env(self) -> dict[str, str]:
        """The environment a client process needs to use this emulator."""
        return {
            "AZURE_AUTHORITY_HOST": self.url,
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
            env_var("cloud"): "emulator",
            EMULATOR_URL_ENV: self.url,
        }

    def federated_token(
        self,
        *,
        subject: str = DEFAULT_FEDERATED_SUBJECT,
        lifetime: int = 3600,
        issuer: str = EMULATOR_OIDC_ISSUER,
        audience: str = TOKEN_EXCHANGE_AUDIENCE,
    ) -> str:
        """A workload-identity assertion signed with the emulator's key; by default one the
        default principal trusts (for WorkloadIdentityCredential / ClientAssertionCredential)."""
        return mint_assertion(
            self.context.store.signing_key,
            issuer=issuer,
            subject=subject,
            audience=audience,
            lifetime=lifetime,
        )

    def add_service_connection(
        self, name: str = DEFAULT_SERVICE_CONNECTION, *, federated: bool = True
    ) -> ServiceConnection:
        """An Azure DevOps service connection for the default principal (reused by name).

        `federated` also gives the principal the federated credential Azure DevOps sets up
        for it; without one (e.g. a connection renamed since) Entra ID refuses its tokens.
        """
        store = self.context.store
        connection = store.service_connection_named(name) or ServiceConnection(
            id=str(uuid.uuid4()), name=name, tenant_id=self.tenant_id, client_id=self.client_id
        )
        store.add_service_connection(connection)
        if federated:
            trusted = FederatedCredential(
                issuer=DEVOPS_ISSUER, subject=service_connection_subject(name)
            )
            store.trust(connection.client_id, trusted)
        return connection

    def pipeline_env(
        self, service_connection: str = DEFAULT_SERVICE_CONNECTION, *, federated: bool = True
    ) -> dict[str, str]:
        """What an Azure Pipelines step gets for a workload-identity service connection: the
        AZURESUBSCRIPTION_* variables AzureCLI@2 exports, the job's SYSTEM_OIDCREQUESTURI and
        SYSTEM_ACCESSTOKEN, TF_BUILD, and this emulator's cloud settings - no client secret."""
        connection = self.add_service_connection(service_connection, federated=federated)
        job_token = devops.mint_job_access_token(
            self.context.store.signing_key, lifetime=self.token_lifetime
        )
        ambient = {
            k: v
            for k, v in self.client_env().items()
            if k not in {"AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"}
        }
        project, plan, job = (str(uuid.uuid4()) for _ in range(3))
        oidc = f"{self.url}/{DEVOPS_ORGANIZATION}/{project}/_apis/distributedtask/hubs/build"
        return {
            **ambient,
            "TF_BUILD": "True",
            "SYSTEM_OIDCREQUESTURI": f"{oidc}/plans/{plan}/jobs/{job}/oidctoken",
            "SYSTEM_ACCESSTOKEN": job_token,
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": connection.id,
            "AZURESUBSCRIPTION_CLIENT_ID": connection.client_id,
            "AZURESUBSCRIPTION_TENANT_ID": connection.tenant_id,
        }

    def issue_token(
        self, audience: str = "https://management.azure.com/", *, lifetime: int = 3600
    ) -> str:
        """An access token for the default principal, bypassing the token endpoint (negative
        `lifetime` gives an expired one)."""
        principal = self.context.store.principal(self.client_id)
        if principal is None:
            msg = "the default service principal is missing from the state"
            raise RuntimeError(msg)
        return mint_access_token(
            self.context.store.signing_key,
            tenant_id=principal.tenant_id,
            app_id=principal.client_id,
            object_id=principal.object_id,
            audience=audience,
            lifetime=lifetime,
        )

    # -- sites ----------------------------------------------------------------------------

    def create_app(
        self,
        name: str,
        *,
        plan: PlanSku = "EP1",
        python: str = "3.11",
        functions_version: str = "4",
        os: OsName = "linux",
        resource_group: str = "rg-funcpub",
        basic_auth: bool = True,
        app_settings: Mapping[str, str] | None = None,
    ) -> SiteInfo:
        """Create a function app (with its own plan) and start its SCM and app hosts."""
        store = self.context.store
        site = new_site(
            name,
            subscription_id=self.subscription_id,
            plan=plan,
            python=python,
            functions_version=functions_version,
            os=os,
            resource_group=resource_group,
            basic_auth=basic_auth,
            app_settings=app_settings,
        )
        store.add_resource_group(site.subscription_id, resource_group)
        store.add_site(site)
        self._serve_site(site)
        return self.site(name)

    def create_slot(self, app: str, slot: str) -> SiteInfo:
        """Create a deployment slot of `app` with its own SCM and app hosts."""
        store = self.context.store
        parent = store.site(site_key(app))
        if parent is None:
            msg = f"there is no app named {app!r}"
            raise KeyError(msg)
        if parent.is_flex:
            msg = "Flex Consumption (FC1) apps have no deployment slots"
            raise ValueError(msg)
        site = new_slot(parent, slot)
        store.add_site(site)
        self._serve_site(site)
        return self.site(app, slot)

    def delete_app(self, name: str) -> bool:
        """Delete an app and its slots, as `az functionapp delete` does, even mid-deployment.

        ARM forgets them at once; their SCM and app hosts keep answering 404 (Azure's front end
        does the same for a deleted site), so a client sees what it would see on Azure.
        """
        context = self.context
        keys = [site.key for site in context.store.sites() if site.name.lower() == name.lower()]
        for key in keys:
            context.store.remove_site(key)
            context.runtimes.stop(key)
            with self._sites_lock:
                self._deleted.add(key)
        return bool(keys)

    def site(self, name: str, slot: str | None = None) -> SiteInfo:
        """Everything about a site: URLs, keys, settings, wwwroot, last index."""
        record = self.context.store.site(site_key(name, slot))
        if record is None:
            msg = f"there is no site named {name!r}" + (f" with slot {slot!r}" if slot else "")
            raise KeyError(msg)
        return site_info(record, self.data_dir)

    def sites(self) -> tuple[SiteInfo, ...]:
        """Every app and slot, in creation order."""
        return tuple(site_info(record, self.data_dir) for record in self.context.store.sites())

    def _serve_site(self, site: SiteRecord) -> None:
        """Start the site's SCM and app servers, on its previous ports when they are free."""
        with self._sites_lock:
            if site.key in self._deleted:  # a new site under a deleted one's name
                self._deleted.discard(site.key)
                stop_all(self._site_servers.pop(site.key, ()))
            if self._main is not None and site.key not in self._site_servers:
                self._site_servers[site.key] = self._bind_site(site)

    def _bind_site(self, site: SiteRecord) -> tuple[ServerThread, ServerThread]:
        context = self.context
        scm = ServerThread(
            wsgi(
                kudu.handler(context, site.key),
                faults=self.faults,
                role=lambda _: "scm",
                site=site.full_name,
            ),
            port=site.scm_port,
            ssl_context=self._ssl,
            name=f"scm-{site.key}",
        )
        app = ServerThread(
            wsgi(
                apphost.handler(context, site.key),
                faults=self.faults,
                role=lambda _: "app",
                site=site.full_name,
            ),
            port=site.app_port,
            ssl_context=self._ssl,
            name=f"app-{site.key}",
        )
        context.store.update_site(
            site.key, lambda s: replace(s, scm_port=scm.port, app_port=app.port)
        )
        return scm.start(), app.start()

    def _write_server_file(self) -> None:
        """Tell `funcpub emulator create-app` where the running server listens."""
        info = {"url": self.url, "pid": os.getpid(), "ca_bundle": str(self.ca_bundle)}
        (self.data_dir / SERVER_FILE).write_text(json.dumps(info), encoding="utf-8")

    # -- main port ------------------------------------------------------------------------

    def _handle_main(self, request: Request) -> Response:
        context = self.context
        if request.path.lower().startswith("/subscriptions/"):
            return arm.handle(context, request)
        try:
            endpoint, values = MAIN_ROUTES.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return text_response(exc.description or "Not found.", exc.code or 404)
        if endpoint in ("discovery", "token", "oidc", "health"):
            return self._public(str(endpoint), request, values)
        if valid_token(request, context.store) is None:
            return json_response({"error": "a bearer token from this emulator is required"}, 401)
        return self._admin(str(endpoint), request, values)

    def _public(self, endpoint: str, request: Request, values: Mapping[str, Any]) -> Response:
        """Entra ID's discovery and token endpoints, Azure DevOps' OIDC token endpoint, and
        the health check."""
        store = self.context.store
        if endpoint == "oidc":
            return devops.oidc_token(request, store=store)
        if endpoint == "discovery":
            return entra.discovery(request, str(values["tenant"]), store=store, base_url=self.url)
        if endpoint == "token":
            return entra.token(
                request, str(values["tenant"]), store=store, lifetime=self.token_lifetime
            )
        return json_response({"status": "ok"})

    def _admin(self, endpoint: str, request: Request, values: Mapping[str, Any]) -> Response:
        """`/_emulator/faults` and `/_emulator/apps`: runtime control over HTTP."""
        try:
            if endpoint == "faults":
                return self._admin_faults(request)
            body = request.get_json(silent=True) or {}
            if endpoint == "apps":
                return json_response(self._create_from_json(body).to_json(), 201)
            if endpoint == "app":
                deleted = self.delete_app(str(values["name"]))
                return Response(status=204) if deleted else json_response({"error": "no app"}, 404)
            return json_response(
                self.create_slot(str(values["name"]), str(body["slot"])).to_json(), 201
            )
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)

    def _admin_faults(self, request: Request) -> Response:
        if request.method == "POST":
            ids = self.faults.add_json(request.get_json(force=True))
            return json_response({"ids": ids}, 201)
        if request.method == "DELETE":
            self.faults.clear()
            return Response(status=204)
        rules = [
            {"id": a.id, "remaining": a.remaining, **a.rule.to_json()} for a in self.faults.rules()
        ]
        return json_response(rules)

    def _create_from_json(self, body: Mapping[str, Any]) -> SiteInfo:
        allowed = {
            "name",
            "plan",
            "python",
            "functions_version",
            "os",
            "resource_group",
            "basic_auth",
            "app_settings",
        }
        unknown = set(body) - allowed
        if unknown:
            msg = f"unknown fields: {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        return self.create_app(
            str(body["name"]),
            plan=parse_plan(body.get("plan", "EP1")),
            python=str(body.get("python", "3.11")),
            functions_version=str(body.get("functions_version", "4")),
            os=parse_os(body.get("os", "linux")),
            resource_group=str(body.get("resource_group", "rg-funcpub")),
            basic_auth=bool(body.get("basic_auth", True)),
            app_settings={str(k): str(v) for k, v in dict(body.get("app_settings") or {}).items()},
        )


def site_info(site: SiteRecord, data_dir: Path) -> SiteInfo:
    """The public view of a site record."""
    index = site.index
    return SiteInfo(
        name=site.name,
        slot=site.slot,
        resource_group=site.resource_group,
        subscription_id=site.subscription_id,
        plan=site.plan,
        os=site.os,
        python=site.python,
        functions_version=site.functions_version,
        resource_id=arm.site_id(site),
        app_host=app_host(site),
        scm_host=scm_host(site),
        app_url=f"https://{app_host(site)}",
        scm_url=f"https://{scm_host(site)}",
        master_key=site.master_key,
        function_key=site.function_key,
        publishing_user=site.publishing_user,
        publishing_password=site.publishing_password,
        basic_auth=site.basic_auth,
        app_settings=dict(site.app_settings),
        wwwroot=wwwroot(data_dir, site),
        active_deployment=site.active_deployment,
        last_trigger_sync=site.last_trigger_sync,
        index=None
        if index is None
        else IndexInfo(
            functions=tuple(f.name for f in index.functions),
            errors=index.errors,
            deployment_id=index.deployment_id,
        ),
    )
