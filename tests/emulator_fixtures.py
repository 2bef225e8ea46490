"""Pytest fixtures that run the local Azure emulator and talk to it with the real clients.

Every fixture speaks TLS to a function-scoped `Emulator` in a temporary data dir: azure-identity
and azure-mgmt-web for Entra ID and ARM, `requests` (verifying the emulator's CA) for Kudu and
the app hosts. Tests that use them carry `@pytest.mark.emulator`.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.mgmt.web import WebSiteManagementClient

from funcpub.emulator import Emulator, SiteInfo
from funcpub.ignore import select_files
from funcpub.package import write_zip

ROOT = Path(__file__).parents[1]
HELLO = ROOT / "examples" / "hello"
ARM_SCOPE = "https://management.azure.com/.default"
APPSERVICE_SCOPE = "https://appservice.azure.com/.default"
RESOURCE_GROUP = "rg-funcpub"
POLL_TIMEOUT = 60.0


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A started emulator with a fresh data dir."""
    with Emulator(tmp_path / "emulator") as running:
        yield running


@pytest.fixture
def ca_bundle(emulator: Emulator) -> str:
    return str(emulator.ca_bundle)


def make_credential(emulator: Emulator, secret: str | None = None) -> ClientSecretCredential:
    """The default service principal's secret credential, against the emulator's Entra ID."""
    return ClientSecretCredential(
        emulator.tenant_id,
        emulator.client_id,
        secret or emulator.client_secret,
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_bundle),
    )


def make_arm_client(emulator: Emulator, **kwargs: Any) -> WebSiteManagementClient:
    """azure-mgmt-web pointed at the emulator's ARM, with fast retries."""
    return WebSiteManagementClient(
        kwargs.pop("credential", None) or make_credential(emulator),
        emulator.subscription_id,
        base_url=emulator.url,
        credential_scopes=kwargs.pop("credential_scopes", [ARM_SCOPE]),
        connection_verify=str(emulator.ca_bundle),
        retry_backoff_factor=0.05,
        **kwargs,
    )


@pytest.fixture
def credential(emulator: Emulator) -> ClientSecretCredential:
    return make_credential(emulator)


@pytest.fixture
def arm_client(emulator: Emulator) -> Iterator[WebSiteManagementClient]:
    client = make_arm_client(emulator)
    with client:
        yield client


@pytest.fixture
def app(emulator: Emulator) -> SiteInfo:
    """An Elastic Premium Linux Python 3.11 app, Basic auth allowed."""
    return emulator.create_app("hello-app")


@pytest.fixture(scope="session")
def hello_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/hello packed the way funcpub packs it."""
    selection = select_files(HELLO, ship_python_packages=True)
    destination = tmp_path_factory.mktemp("packages") / "hello.zip"
    return write_zip(selection.included, destination).path


def zip_of(directory: Path, files: Mapping[str, str]) -> Path:
    """A zip with `files` (archive name -> text), written into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


class Kudu:
    """Requests to one site's SCM host, with Basic publishing credentials by default.

    `verify` goes with every request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE
    from the environment (psf/requests#3829).
    """

    def __init__(self, site: SiteInfo, ca_bundle: str) -> None:
        self.site = site
        self.verify = ca_bundle
        self.session = requests.Session()
        self.session.auth = (site.publishing_user, site.publishing_password)

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.site.scm_url}{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), verify=self.verify, timeout=POLL_TIMEOUT, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), verify=self.verify, timeout=POLL_TIMEOUT, **kwargs)

    def push(self, package: Path, *, is_async: bool = True, **params: str) -> requests.Response:
        """`POST /api/zipdeploy`, streaming the file."""
        query = {"isAsync": "true"} if is_async else {}
        with package.open("rb") as body:
            return self.post("/api/zipdeploy", params=query | params, data=body)

    def wait(self, location: str) -> dict[str, Any]:
        """Poll a deployment URL until its status is terminal (3 or 4)."""
        deadline = time.monotonic() + POLL_TIMEOUT
        while time.monotonic() < deadline:
            response = self.get(location)
            if response.status_code in (200, 202):
                record: dict[str, Any] = response.json()
                if record["status"] in (3, 4):
                    return record
            time.sleep(0.05)
        msg = f"deployment at {location} did not finish"
        raise AssertionError(msg)

    def deploy(self, package: Path) -> dict[str, Any]:
        """Push asynchronously and wait for the final record."""
        response = self.push(package)
        assert response.status_code == 202, response.text
        return self.wait(response.headers["Location"])

    def log(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The deployment's log with every entry's details, depth first."""
        entries: list[dict[str, Any]] = self.get(str(record["log_url"])).json()
        flat: list[dict[str, Any]] = []
        for entry in entries:
            flat.append(entry)
            if entry["details_url"]:
                flat.extend(self.get(entry["details_url"]).json())
        return flat


@pytest.fixture
def kudu(app: SiteInfo, ca_bundle: str) -> Kudu:
    return Kudu(app, ca_bundle)
