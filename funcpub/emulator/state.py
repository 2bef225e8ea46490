"""The emulator's persistent state: one JSON file in the data dir, guarded by an RLock.

Every change rewrites `state.json` through a temporary file and `os.replace`, so a crash never
leaves half a file and a restarted emulator finds its sites, settings, keys and deployments again.
One process owns a data dir at a time: while `funcpub emulator serve` runs, `create-app` goes
through its admin route instead of writing here (see `funcpub.cli.emulator`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from funcpub.emulator.records import (
    DEFAULT_FEDERATED_SUBJECT,
    EMULATOR_OIDC_ISSUER,
    Defaults,
    Deployment,
    FederatedCredential,
    LogEntry,
    Principal,
    ServiceConnection,
    SiteRecord,
    StateData,
    Subscription,
    to_json,
)

STATE_FILE: Final = "state.json"
FORMAT_VERSION: Final = 1


def new_secret(length: int = 40) -> str:
    """A client secret / password / function key: URL-safe random text."""
    return secrets.token_urlsafe(length)[:length]


def new_state() -> StateData:
    """A fresh data dir: one tenant, one service principal trusted for workload identity,
    one subscription."""
    tenant = str(uuid.uuid4())
    principal = Principal(
        tenant_id=tenant,
        client_id=str(uuid.uuid4()),
        object_id=str(uuid.uuid4()),
        secret=new_secret(),
        display_name="funcpub-emulator-deployer",
        federated=(
            FederatedCredential(issuer=EMULATOR_OIDC_ISSUER, subject=DEFAULT_FEDERATED_SUBJECT),
        ),
    )
    subscription = Subscription(
        subscription_id=str(uuid.uuid4()), tenant_id=tenant, display_name="funcpub emulator"
    )
    return StateData(
        signing_key=secrets.token_hex(32),
        defaults=Defaults(
            tenant_id=tenant,
            client_id=principal.client_id,
            subscription_id=subscription.subscription_id,
        ),
        principals={principal.client_id: principal},
        subscriptions={subscription.subscription_id: subscription},
    )


class Store:
    """Thread-safe access to the state; every mutation is written to disk before it returns."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / STATE_FILE
        self._lock = threading.RLock()
        directory.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            self._data = _load(self.path)
        else:
            self._data = new_state()
            self._save()

    # -- identity ---------------------------------------------------------------------------

    @property
    def defaults(self) -> Defaults:
        return self._data.defaults

    @property
    def signing_key(self) -> bytes:
        return bytes.fromhex(self._data.signing_key)

    def principal(self, client_id: str) -> Principal | None:
        with self._lock:
            return self._data.principals.get(client_id.lower())

    def tenant_exists(self, tenant_id: str) -> bool:
        with self._lock:
            principals = self._data.principals.values()
            return any(p.tenant_id == tenant_id.lower() for p in principals)

    def trust(self, client_id: str, federated: FederatedCredential) -> None:
        """Add a federated credential to the principal (once)."""
        with self._lock:
            principal = self._data.principals[client_id.lower()]
            if federated not in principal.federated:
                self._data.principals[principal.client_id] = dataclasses.replace(
                    principal, federated=(*principal.federated, federated)
                )
                self._save()

    def service_connection(self, connection_id: str) -> ServiceConnection | None:
        with self._lock:
            return self._data.service_connections.get(connection_id.lower())

    def service_connection_named(self, name: str) -> ServiceConnection | None:
        with self._lock:
            connections = self._data.service_connections.values()
            return next((c for c in connections if c.name.lower() == name.lower()), None)

    def add_service_connection(self, connection: ServiceConnection) -> None:
        with self._lock:
            self._data.service_connections[connection.id.lower()] = connection
            self._save()

    def subscription(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            return self._data.subscriptions.get(subscription_id.lower())

    def add_resource_group(self, subscription_id: str, name: str) -> None:
        """Create the resource group if the subscription does not have it yet."""
        with self._lock:
            subscription = self._data.subscriptions[subscription_id.lower()]
            if name.lower() in (g.lower() for g in subscription.resource_groups):
                return
            groups = (*subscription.resource_groups, name)
            self._data.subscriptions[subscription.subscription_id] = _replace_groups(
                subscription, groups
            )
            self._save()

    # -- ports ------------------------------------------------------------------------------

    @property
    def main_port(self) -> int:
        return self._data.main_port

    def set_main_port(self, port: int) -> None:
        with self._lock:
            self._data.main_port = port
            self._save()

    # -- sites ------------------------------------------------------------------------------

    def site(self, key: str) -> SiteRecord | None:
        with self._lock:
            return self._data.sites.get(key)

    def sites(self) -> tuple[SiteRecord, ...]:
        with self._lock:
            return tuple(self._data.sites.values())

    def add_site(self, site: SiteRecord) -> None:
        """Store a new site; ValueError if the name is taken (site names are global)."""
        with self._lock:
            if site.key in self._data.sites:
                msg = f"a site named {site.full_name!r} already exists"
                raise ValueError(msg)
            self._data.sites[site.key] = site
            self._save()

    def update_site(self, key: str, change: Callable[[SiteRecord], SiteRecord]) -> SiteRecord:
        """Read-modify-write one site atomically; KeyError when it does not exist."""
        with self._lock:
            site = change(self._data.sites[key])
            self._data.sites[key] = site
            self._save()
            return site

    def remove_site(self, key: str) -> SiteRecord | None:
        """Delete a site with its deployments and logs; the removed record, None if none."""
        with self._lock:
            site = self._data.sites.pop(key, None)
            self._data.deployments.pop(key, None)
            self._data.logs.pop(key, None)
            self._save()
            return site

    # -- deployments ------------------------------------------------------------------------

    def deployments(self, key: str) -> tuple[Deployment, ...]:
        """The site's deployment records, newest first (Kudu orders by received_time)."""
        with self._lock:
            records = self._data.deployments.get(key, {}).values()
            return tuple(sorted(records, key=lambda d: d.received_time, reverse=True))

    def deployment(self, key: str, deployment_id: str) -> Deployment | None:
        with self._lock:
            return self._data.deployments.get(key, {}).get(deployment_id)

    def put_deployment(self, key: str, deployment: Deployment) -> None:
        with self._lock:
            self._data.deployments.setdefault(key, {})[deployment.id] = deployment
            self._save()

    def update_deployment(
        self, key: str, deployment_id: str, change: Callable[[Deployment], Deployment]
    ) -> Deployment:
        with self._lock:
            records = self._data.deployments[key]
            records[deployment_id] = change(records[deployment_id])
            self._save()
            return records[deployment_id]

    def delete_deployment(self, key: str, deployment_id: str) -> None:
        with self._lock:
            self._data.deployments.get(key, {}).pop(deployment_id, None)
            self._data.logs.get(key, {}).pop(deployment_id, None)
            self._save()

    def logs(self, key: str, deployment_id: str) -> tuple[LogEntry, ...] | None:
        """The deployment's log entries in order, None when it has no log."""
        with self._lock:
            entries = self._data.logs.get(key, {}).get(deployment_id)
            return None if entries is None else tuple(entries)

    def append_log(self, key: str, deployment_id: str, entry: LogEntry) -> None:
        with self._lock:
            if key not in self._data.sites:  # deleted while its deployment ran
                return
            self._data.logs.setdefault(key, {}).setdefault(deployment_id, []).append(entry)
            self._save()

    # -- persistence ------------------------------------------------------------------------

    def _save(self) -> None:
        """Write the whole state next to the file, then rename it into place."""
        with self._lock:
            document = _dump(self._data)
            temporary = self.path.with_name(f".{STATE_FILE}.{threading.get_ident()}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump(document, stream, indent=1, sort_keys=True)
            temporary.replace(self.path)


def _replace_groups(subscription: Subscription, groups: tuple[str, ...]) -> Subscription:
    return Subscription(
        subscription_id=subscription.subscription_id,
        tenant_id=subscription.tenant_id,
        display_name=subscription.display_name,
        resource_groups=groups,
    )


def _dump(data: StateData) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "signing_key": data.signing_key,
        "defaults": to_json(data.defaults),
        "main_port": data.main_port,
        "principals": [to_json(p) for p in data.principals.values()],
        "subscriptions": [to_json(s) for s in data.subscriptions.values()],
        "sites": [to_json(s) for s in data.sites.values()],
        "deployments": {
            key: [to_json(d) for d in records.values()] for key, records in data.deployments.items()
        },
        "logs": {
            key: {dep: [to_json(e) for e in entries] for dep, entries in by_id.items()}
            for key, by_id in data.logs.items()
        },
        "service_connections": [to_json(c) for c in data.service_connections.values()],
    }


def _load(path: Path) -> StateData:
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("version") != FORMAT_VERSION:
        msg = f"{path} has state format {document.get('version')!r}, expected {FORMAT_VERSION}"
        raise ValueError(msg)
    principals = (Principal.from_json(p) for p in document["principals"])
    subscriptions = (Subscription.from_json(s) for s in document["subscriptions"])
    sites = (SiteRecord.from_json(s) for s in document["sites"])
    connections = (ServiceConnection.from_json(c) for c in document.get("service_connections", ()))
    return StateData(
        signing_key=str(document["signing_key"]),
        defaults=_defaults(document["defaults"]),
        main_port=int(document.get("main_port", 0)),
        principals={p.client_id: p for p in principals},
        subscriptions={s.subscription_id: s for s in subscriptions},
        sites={s.key: s for s in sites},
        deployments={
            key: {d.id: d for d in (Deployment.from_json(r) for r in records)}
            for key, records in document.get("deployments", {}).items()
        },
        logs={
            key: {dep: [LogEntry.from_json(e) for e in entries] for dep, entries in by_id.items()}
            for key, by_id in document.get("logs", {}).items()
        },
        service_connections={c.id: c for c in connections},
    )


def _defaults(data: Mapping[str, Any]) -> Defaults:
    return Defaults(
        tenant_id=str(data["tenant_id"]),
        client_id=str(data["client_id"]),
        subscription_id=str(data["subscription_id"]),
    )
