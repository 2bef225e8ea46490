"""The app host: routing to indexed functions, function keys, the admin host status."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from azure.mgmt.web import WebSiteManagementClient

from funcpub.emulator import Emulator, SiteInfo
from tests.emulator_fixtures import RESOURCE_GROUP, Kudu, zip_of

pytestmark = pytest.mark.emulator

HOST_JSON = '{"version": "2.0"}'
KEYED_APP = """
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="items/{item_id:int}", methods=["GET"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"item {req.route_params['item_id']}")


@app.route(route="open", auth_level=func.AuthLevel.ANONYMOUS)
def open_door(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("open", headers={"X-Demo": "yes"})


@app.route(route="admin-only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin")
"""
BROKEN_APP = "import azure.functions as func\n\napp = func.FunctionApp(\n"


@pytest.fixture
def keyed(app: SiteInfo, kudu: Kudu, tmp_path: Path) -> SiteInfo:
    package = zip_of(tmp_path / "keyed", {"function_app.py": KEYED_APP, "host.json": HOST_JSON})
    assert kudu.deploy(package)["status"] == 4
    return app


def get(url: str, ca_bundle: str, **kwargs: object) -> requests.Response:
    return requests.get(url, verify=ca_bundle, timeout=30, **kwargs)  # type: ignore[arg-type]


def test_function_level_requires_a_key(keyed: SiteInfo, ca_bundle: str) -> None:
    url = f"{keyed.app_url}/api/items/7"
    assert get(url, ca_bundle).status_code == 401
    assert get(url, ca_bundle, params={"code": "wrong"}).status_code == 401
    by_code = get(url, ca_bundle, params={"code": keyed.function_key})
    assert (by_code.status_code, by_code.text) == (200, "item 7")
    by_header = get(url, ca_bundle, headers={"x-functions-key": keyed.master_key})
    assert by_header.status_code == 200


def test_anonymous_and_admin_levels(keyed: SiteInfo, ca_bundle: str) -> None:
    opened = get(f"{keyed.app_url}/api/open", ca_bundle)
    assert (opened.status_code, opened.text, opened.headers["X-Demo"]) == (200, "open", "yes")
    admin = f"{keyed.app_url}/api/admin-only"
    assert get(admin, ca_bundle, params={"code": keyed.function_key}).status_code == 401
    assert get(admin, ca_bundle, params={"code": keyed.master_key}).text == "admin"


def test_unknown_routes_and_methods_are_404(keyed: SiteInfo, ca_bundle: str) -> None:
    key = {"code": keyed.master_key}
    assert get(f"{keyed.app_url}/api/nothing-here", ca_bundle, params=key).status_code == 404
    assert get(f"{keyed.app_url}/api/items/not-a-number", ca_bundle, params=key).status_code == 404
    post = requests.post(f"{keyed.app_url}/api/items/7", params=key, verify=ca_bundle, timeout=30)
    assert post.status_code == 404


def test_host_status_needs_the_master_key(keyed: SiteInfo, ca_bundle: str) -> None:
    url = f"{keyed.app_url}/admin/host/status"
    assert get(url, ca_bundle, params={"code": keyed.function_key}).status_code == 401
    status = get(url, ca_bundle, headers={"x-functions-key": keyed.master_key}).json()
    assert status["state"] == "Running"
    assert status["errors"] == []
    assert status["id"] == "hello-app"
    assert status["version"].startswith("4.")
    assert isinstance(status["processUptime"], int)


def test_broken_app_deploys_but_the_host_reports_errors(
    app: SiteInfo,
    kudu: Kudu,
    arm_client: WebSiteManagementClient,
    tmp_path: Path,
    ca_bundle: str,
    emulator: Emulator,
) -> None:
    package = zip_of(tmp_path / "broken", {"function_app.py": BROKEN_APP, "host.json": HOST_JSON})
    record = kudu.deploy(package)
    assert record["status"] == 4  # Kudu succeeds; the host is what fails
    status = get(
        f"{app.app_url}/admin/host/status", ca_bundle, params={"code": app.master_key}
    ).json()
    assert status["state"] == "Error"
    assert status["errors"]
    assert list(arm_client.web_apps.list_functions(RESOURCE_GROUP, "hello-app")) == []
    info = emulator.site("hello-app").index
    assert info is not None
    assert info.errors == tuple(status["errors"])
