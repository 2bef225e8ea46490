"""Managing an emulator data dir from another process (the `funcpub emulator` commands).

While `funcpub emulator serve` runs it owns the data dir: `server.json` there names its URL, and
`create_app` asks it to create the app through `POST /_emulator/apps` (authorised with a token
signed by the data dir's key, which any holder of the data dir may mint), so the new app's ports
are bound at once. With no server running, `create_app` writes the state directly and the next
`serve` binds the app's ports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import requests

from funcpub.emulator.records import OsName, PlanSku, site_key
from funcpub.emulator.server import SERVER_FILE, SiteInfo, site_info
from funcpub.emulator.sites import new_site
from funcpub.emulator.state import Store
from funcpub.emulator.tokens import mint_access_token
from funcpub.options import EMULATOR_DATA_ENV

REQUEST_TIMEOUT: Final = 30.0


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$FUNCPUB_EMULATOR_DATA`, else `~/.local/share/funcpub/emulator`."""
    value = (os.environ if environ is None else environ).get(EMULATOR_DATA_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    return Path.home() / ".local" / "share" / "funcpub" / "emulator"


@dataclass(frozen=True, kw_only=True)
class RunningServer:
    """What `server.json` says about the server that owns a data dir."""

    url: str
    pid: int
    ca_bundle: Path


def running_server(data_dir: Path) -> RunningServer | None:
    """The live server of `data_dir`, or None when none answers its health check."""
    path = data_dir / SERVER_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        server = RunningServer(
            url=str(info["url"]), pid=int(info["pid"]), ca_bundle=Path(info["ca_bundle"])
        )
        response = requests.get(
            f"{server.url}/_emulator/health", verify=str(server.ca_bundle), timeout=5
        )
    except (OSError, ValueError, KeyError, requests.RequestException):
        return None
    return server if response.ok else None


@dataclass(frozen=True, kw_only=True)
class AppOptions:
    """What `create-app` asks for."""

    name: str
    plan: PlanSku = "EP1"
    python: str = "3.11"
    functions_version: str = "4"
    os: OsName = "linux"
    resource_group: str = "rg-funcpub"
    basic_auth: bool = True


def create_app(data_dir: Path, options: AppOptions) -> SiteInfo:
    """Create an app in `data_dir`: through the running server if there is one."""
    server = running_server(data_dir)
    if server is not None:
        _create_remotely(data_dir, server, options)
    else:
        _create_locally(data_dir, options)
    record = Store(data_dir).site(site_key(options.name))
    if record is None:
        msg = f"the app {options.name!r} was not stored"
        raise RuntimeError(msg)
    return site_info(record, data_dir.absolute())


def _create_locally(data_dir: Path, options: AppOptions) -> None:
    store = Store(data_dir)
    site = new_site(
        options.name,
        subscription_id=store.defaults.subscription_id,
        plan=options.plan,
        python=options.python,
        functions_version=options.functions_version,
        os=options.os,
        resource_group=options.resource_group,
        basic_auth=options.basic_auth,
        app_settings=None,
    )
    store.add_resource_group(site.subscription_id, options.resource_group)
    store.add_site(site)


def _admin_token(data_dir: Path) -> str:
    store = Store(data_dir)
    principal = store.principal(store.defaults.client_id)
    if principal is None:
        msg = f"{data_dir} has no default service principal"
        raise RuntimeError(msg)
    return mint_access_token(
        store.signing_key,
        tenant_id=principal.tenant_id,
        app_id=principal.client_id,
        object_id=principal.object_id,
        audience="https://management.azure.com/",
        lifetime=300,
    )


def _create_remotely(data_dir: Path, server: RunningServer, options: AppOptions) -> None:
    response = requests.post(
        f"{server.url}/_emulator/apps",
        json={
            "name": options.name,
            "plan": options.plan,
            "python": options.python,
            "functions_version": options.functions_version,
            "os": options.os,
            "resource_group": options.resource_group,
            "basic_auth": options.basic_auth,
        },
        headers={"Authorization": f"Bearer {_admin_token(data_dir)}"},
        verify=str(server.ca_bundle),
        timeout=REQUEST_TIMEOUT,
    )
    if response.status_code != 201:
        try:
            message = str(response.json()["error"])
        except (ValueError, KeyError, TypeError):
            message = response.text or f"HTTP {response.status_code}"
        raise ValueError(message)
