"""Kudu / SCM: zip deploy, deployment records and logs, auth, through `requests` over TLS."""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import (
    CsmPublishingCredentialsPoliciesEntity,
    CsmPublishingCredentialsPoliciesEntityProperties,
)

from funcpub.emulator import Emulator, FaultRule, SiteInfo
from tests.emulator_fixtures import (
    APPSERVICE_SCOPE,
    ARM_SCOPE,
    RESOURCE_GROUP,
    Kudu,
    make_credential,
    zip_of,
)

pytestmark = pytest.mark.emulator

HEX32 = re.compile(r"[0-9a-f]{32}")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_async_zipdeploy_then_invoke(
    emulator: Emulator, app: SiteInfo, kudu: Kudu, hello_zip: Path, ca_bundle: str
) -> None:
    response = kudu.push(hello_zip, deployer="funcpub", trackDeploymentProgress="true")
    assert response.status_code == 202
    assert response.content == b""
    location = response.headers["Location"]
    assert location.startswith(f"{app.scm_url}/api/deployments/latest?deployer=funcpub&time=")
    # A tracking id for Azure's deployment-status API, not the Kudu record's id.
    tracking_id = response.headers["SCM-DEPLOYMENT-ID"]
    assert GUID.fullmatch(tracking_id)
    record = kudu.wait(location)
    assert record["id"] != tracking_id
    assert record["status"] == 4
    assert HEX32.fullmatch(record["id"])
    assert record["complete"] is True
    assert record["active"] is True
    assert record["deployer"] == "funcpub"
    assert record["url"] == f"{app.scm_url}/api/deployments/{record['id']}"
    assert record["log_url"] == f"{record['url']}/log"
    assert record["end_time"] is not None
    assert record["last_success_end_time"] == record["end_time"]
    greeting = requests.get(f"{app.app_url}/api/hello?name=Ada", verify=ca_bundle, timeout=30)
    assert greeting.status_code == 200
    assert greeting.text == "Hello, Ada!"
    site = emulator.site("hello-app")
    assert site.active_deployment == record["id"]
    assert site.index is not None
    assert set(site.index.functions) == {"hello", "health"}
    assert (site.wwwroot / "function_app.py").is_file()


def test_sync_zipdeploy_answers_when_done(kudu: Kudu, hello_zip: Path) -> None:
    response = kudu.push(hello_zip, is_async=False)
    assert response.status_code == 200
    assert "SCM-DEPLOYMENT-ID" not in response.headers  # only with trackDeploymentProgress
    latest = kudu.get("/api/deployments/latest")
    assert latest.status_code == 200
    assert latest.json()["status"] == 4


def test_records_and_logs(kudu: Kudu, hello_zip: Path) -> None:
    assert kudu.get("/api/deployments/latest").status_code == 404
    assert kudu.get("/api/deployments").json() == []
    first = kudu.deploy(hello_zip)
    second = kudu.deploy(hello_zip)
    records = kudu.get("/api/deployments").json()
    assert [r["id"] for r in records] == [second["id"], first["id"]]
    assert [r["active"] for r in records] == [True, False]
    assert kudu.get(f"/api/deployments/{first['id']}").json()["status"] == 4
    assert kudu.get("/api/deployments/0123").status_code == 404
    entries = kudu.get(second["log_url"]).json()
    messages = [e["message"] for e in entries]
    assert messages[0] == "Updating submodules."
    assert messages[1] == f"Preparing deployment for commit id '{second['id'][:10]}'."
    assert messages[-1] == "Deployment successful."
    assert any(m.startswith("Syncing 2 function triggers") for m in messages)
    assert {"log_time", "id", "message", "type", "details_url"} <= set(entries[0])
    with_details = [e for e in entries if e["details_url"]]
    assert with_details
    assert with_details[0]["details_url"].startswith(f"{second['log_url']}/")
    details = kudu.get(with_details[0]["details_url"]).json()
    assert details
    assert all(d["details_url"] is None for d in details)
    leaf = next(e for e in entries if not e["details_url"])
    assert kudu.get(f"{second['log_url']}/{leaf['id']}").status_code == 404
    flat = [e["message"] for e in kudu.log(second)]
    assert "2 functions found (Worker)" in flat


def test_conflict_while_a_deployment_runs(emulator: Emulator, kudu: Kudu, hello_zip: Path) -> None:
    emulator.faults.add(FaultRule(role="deploy", site="hello-app", delay=1.0))
    first = kudu.push(hello_zip)
    assert first.status_code == 202
    assert kudu.get("/api/isdeploying").json()["value"] == "True"
    running = kudu.get("/api/deployments/latest")
    assert running.status_code == 202
    assert running.json()["status"] in (0, 1)
    assert running.json()["complete"] is False
    second = kudu.push(hello_zip, trackDeploymentProgress="true")
    assert second.status_code == 409
    assert GUID.fullmatch(second.headers["SCM-DEPLOYMENT-ID"])
    assert second.text == (
        "There is a deployment currently in progress. Please try again when it completes."
    )
    assert kudu.wait(first.headers["Location"])["status"] == 4
    assert kudu.get("/api/isdeploying").json()["value"] == "False"


def test_run_from_remote_package_refuses_zipdeploy(emulator: Emulator, hello_zip: Path) -> None:
    site = emulator.create_app(
        "remote-pkg",
        app_settings={"WEBSITE_RUN_FROM_PACKAGE": "https://example.invalid/app.zip?sv=x"},
    )
    response = Kudu(site, str(emulator.ca_bundle)).push(hello_zip)
    assert response.status_code == 409
    assert response.text.startswith("Run-From-Zip is set to a remote URL")


def test_zip_slip_fails_the_deployment(
    emulator: Emulator, app: SiteInfo, kudu: Kudu, tmp_path: Path
) -> None:
    package = zip_of(
        tmp_path / "evil", {"function_app.py": "", "../evil.txt": "pwned", "host.json": "{}"}
    )
    record = kudu.deploy(package)
    assert record["status"] == 3
    assert record["complete"] is True
    assert record["id"].startswith("temp-")
    errors = [e for e in kudu.get(record["log_url"]).json() if e["type"] == 2]
    assert errors
    assert "../evil.txt" in errors[0]["message"]
    data_dir = emulator.data_dir
    assert not list(data_dir.parent.rglob("evil.txt"))
    assert not app.wwwroot.exists()


def test_not_a_zip_fails_the_deployment(kudu: Kudu, tmp_path: Path) -> None:
    package = tmp_path / "broken.zip"
    package.write_bytes(b"this is not a zip")
    response = kudu.push(package, is_async=False)
    assert response.status_code == 500
    assert kudu.get("/api/deployments/latest").json()["status"] == 3


def test_injected_build_failure(emulator: Emulator, kudu: Kudu, hello_zip: Path) -> None:
    emulator.faults.add(FaultRule(role="deploy", status=500, body="Oryx build failed: exit 1"))
    record = kudu.deploy(hello_zip)
    assert record["status"] == 3
    assert HEX32.fullmatch(record["id"])
    assert "Oryx build failed: exit 1" in [e["message"] for e in kudu.log(record)]


def test_basic_auth_allowed_then_disabled(
    arm_client: WebSiteManagementClient, app: SiteInfo, kudu: Kudu
) -> None:
    assert kudu.get("/api/settings").status_code == 200
    wrong = requests.get(
        f"{app.scm_url}/api/settings",
        auth=(app.publishing_user, "wrong"),
        verify=kudu.verify,
        timeout=10,
    )
    assert (wrong.status_code, wrong.content) == (401, b"")
    arm_client.web_apps.update_scm_allowed(
        RESOURCE_GROUP,
        "hello-app",
        CsmPublishingCredentialsPoliciesEntity(
            properties=CsmPublishingCredentialsPoliciesEntityProperties(allow=False)
        ),
    )
    refused = kudu.get("/api/settings")
    assert (refused.status_code, refused.content) == (401, b"")


@pytest.mark.parametrize("scope", [APPSERVICE_SCOPE, ARM_SCOPE])
def test_bearer_tokens_work_without_basic_auth(
    emulator: Emulator, hello_zip: Path, scope: str
) -> None:
    site = emulator.create_app("bearer-only", basic_auth=False)
    token = make_credential(emulator).get_token(scope).token
    kudu = Kudu(site, str(emulator.ca_bundle))
    kudu.session.auth = None
    kudu.session.headers["Authorization"] = f"Bearer {token}"
    assert kudu.deploy(hello_zip)["status"] == 4


def test_bad_bearer_tokens_get_empty_401s(emulator: Emulator, app: SiteInfo) -> None:
    for token in (
        emulator.issue_token(lifetime=-5),
        emulator.issue_token("https://vault.azure.net"),
    ):
        response = requests.get(
            f"{app.scm_url}/api/deployments",
            headers={"Authorization": f"Bearer {token}"},
            verify=str(emulator.ca_bundle),
            timeout=10,
        )
        assert (response.status_code, response.content) == (401, b"")


def test_settings_endpoint(app: SiteInfo, kudu: Kudu) -> None:
    settings = kudu.get("/api/settings").json()
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert settings["deployment_branch"] == "master"
    assert kudu.get("/api/settings/FUNCTIONS_WORKER_RUNTIME").text == "python"
    assert kudu.get("/api/settings/NOPE").status_code == 404


def test_slot_deploys_independently(
    emulator: Emulator, app: SiteInfo, hello_zip: Path, ca_bundle: str
) -> None:
    slot = emulator.create_slot("hello-app", "staging")
    record = Kudu(slot, ca_bundle).deploy(hello_zip)
    assert record["status"] == 4
    greeting = requests.get(f"{slot.app_url}/api/hello?name=Slot", verify=ca_bundle, timeout=30)
    assert greeting.text == "Hello, Slot!"
    assert emulator.site("hello-app").active_deployment is None


def test_multipart_upload(kudu: Kudu, hello_zip: Path) -> None:
    with hello_zip.open("rb") as body:
        response = kudu.post(
            "/api/zipdeploy", params={"isAsync": "true"}, files={"file": ("app.zip", body)}
        )
    assert response.status_code == 202
    assert kudu.wait(response.headers["Location"])["status"] == 4


def test_flex_apps_have_no_zipdeploy(emulator: Emulator, hello_zip: Path) -> None:
    site = emulator.create_app("flex-app", plan="FC1")
    response = Kudu(site, str(emulator.ca_bundle)).push(hello_zip)
    assert response.status_code == 404
    assert "/api/publish" in response.text


def test_upload_is_streamed_to_disk(kudu: Kudu, tmp_path: Path) -> None:
    # 8 MiB of incompressible data arrives through a chunked upload and deploys fine.
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 32768)
    package = zip_of(tmp_path / "pkg", {"host.json": '{"version": "2.0"}'})
    with zipfile.ZipFile(package, "a") as archive:
        archive.write(big, "data/big.bin")

    def chunks() -> Iterator[bytes]:
        with package.open("rb") as stream:
            while chunk := stream.read(65536):
                yield chunk

    started = time.monotonic()
    response = kudu.post("/api/zipdeploy", params={"isAsync": "true"}, data=chunks())
    assert response.status_code == 202
    assert kudu.wait(response.headers["Location"])["status"] == 4
    assert time.monotonic() - started < 30
