"""Fault injection: rules by role, method and path; status, delay, drop; file and admin route."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
from azure.mgmt.web import WebSiteManagementClient

from funcpub.emulator import Emulator, FaultRule, SiteInfo
from tests.emulator_fixtures import ARM_SCOPE, RESOURCE_GROUP, Kudu, make_credential

pytestmark = pytest.mark.emulator


def test_scm_503_then_success(emulator: Emulator, kudu: Kudu, hello_zip: Path) -> None:
    rule = emulator.faults.add(
        FaultRule(
            role="scm", method="POST", path="^/api/zipdeploy$", status=503, body="Site Unavailable"
        )
    )
    unavailable = kudu.push(hello_zip)
    assert (unavailable.status_code, unavailable.text) == (503, "Site Unavailable")
    accepted = kudu.push(hello_zip)
    assert accepted.status_code == 202
    assert kudu.wait(accepted.headers["Location"])["status"] == 4
    assert emulator.faults.fired(rule) == 1
    assert emulator.faults.rules() == ()


def test_arm_throttling_is_retried_by_the_sdk(
    emulator: Emulator, arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    rule = emulator.faults.add(
        FaultRule(
            role="arm",
            method="GET",
            path="/sites/hello-app$",
            status=429,
            headers={"Retry-After": "0"},
            body='{"error": {"code": "TooManyRequests", "message": "slow down"}}',
            times=2,
        )
    )
    assert arm_client.web_apps.get(RESOURCE_GROUP, "hello-app").name == "hello-app"
    assert emulator.faults.fired(rule) == 2


def test_token_endpoint_503_is_retried_by_azure_identity(emulator: Emulator) -> None:
    rule = emulator.faults.add(FaultRule(role="entra", path="/token$", status=503))
    assert make_credential(emulator).get_token(ARM_SCOPE).token
    assert emulator.faults.fired(rule) == 1


def test_dropped_connection(emulator: Emulator, app: SiteInfo, ca_bundle: str) -> None:
    emulator.faults.add(FaultRule(role="app", drop=True))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{app.app_url}/", verify=ca_bundle, timeout=10)
    assert requests.get(f"{app.app_url}/", verify=ca_bundle, timeout=10).status_code == 200


def test_delay_only_slows_the_request(emulator: Emulator, app: SiteInfo, ca_bundle: str) -> None:
    emulator.faults.add(FaultRule(role="app", site="hello-app", delay=0.3, times=None))
    started = time.monotonic()
    assert requests.get(f"{app.app_url}/", verify=ca_bundle, timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.3
    other = emulator.create_app("other-app")
    started = time.monotonic()
    requests.get(f"{other.app_url}/", verify=ca_bundle, timeout=10)
    assert time.monotonic() - started < 0.3


def test_admin_route_needs_a_token(emulator: Emulator, ca_bundle: str) -> None:
    url = f"{emulator.url}/_emulator/faults"
    rule = {"role": "arm", "status": 503, "json": {"error": {"code": "Busy"}}, "times": 3}
    refused = requests.post(url, json=rule, verify=ca_bundle, timeout=10)
    assert refused.status_code == 401
    headers = {"Authorization": f"Bearer {emulator.issue_token()}"}
    added = requests.post(url, json=rule, headers=headers, verify=ca_bundle, timeout=10)
    assert added.status_code == 201
    (rule_id,) = added.json()["ids"]
    listed = requests.get(url, headers=headers, verify=ca_bundle, timeout=10).json()
    assert [(r["id"], r["status"], r["remaining"]) for r in listed] == [(rule_id, 503, 3)]
    assert json.loads(listed[0]["body"]) == {"error": {"code": "Busy"}}
    bad = requests.post(url, json={"role": "nope"}, headers=headers, verify=ca_bundle, timeout=10)
    assert bad.status_code == 400
    cleared = requests.delete(url, headers=headers, verify=ca_bundle, timeout=10)
    assert cleared.status_code == 204
    assert emulator.faults.rules() == ()


def test_faults_file_is_loaded(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(
        json.dumps({"faults": [{"role": "scm", "path": "^/api/settings", "status": 502}]})
    )
    with Emulator(tmp_path / "data", faults_file=faults) as emulator:
        site = emulator.create_app("from-file")
        kudu = Kudu(site, str(emulator.ca_bundle))
        assert kudu.get("/api/settings").status_code == 502
        assert kudu.get("/api/settings").status_code == 200


@pytest.mark.parametrize(
    "document",
    [{"role": "nope"}, {"path": "("}, {"times": 0}, {"status": 42}, {"colour": "red"}],
)
def test_invalid_rules_are_refused(document: dict[str, object]) -> None:
    from funcpub.emulator import Faults

    with pytest.raises(ValueError, match=r".+"):
        Faults().add_json(document)
