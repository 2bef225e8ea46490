"""Persistence: a restarted emulator on the same data dir keeps sites, settings, deployments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from azure.mgmt.web.models import StringDictionary

from funcpub.emulator import Emulator
from tests.emulator_fixtures import RESOURCE_GROUP, Kudu, make_arm_client

pytestmark = pytest.mark.emulator


def test_state_survives_a_restart(tmp_path: Path, hello_zip: Path) -> None:
    data = tmp_path / "data"
    with Emulator(data) as first:
        site = first.create_app("durable")
        identity = (first.tenant_id, first.client_id, first.client_secret, first.subscription_id)
        client = make_arm_client(first)
        settings = dict(
            client.web_apps.list_application_settings(RESOURCE_GROUP, "durable").properties or {}
        )
        client.web_apps.update_application_settings(
            RESOURCE_GROUP, "durable", StringDictionary(properties=settings | {"KEPT": "yes"})
        )
        record = Kudu(site, str(first.ca_bundle)).deploy(hello_zip)
        ports = (first.url, site.scm_host, site.app_host)
    with Emulator(data) as second:
        assert (
            second.tenant_id,
            second.client_id,
            second.client_secret,
            second.subscription_id,
        ) == identity
        again = second.site("durable")
        assert (second.url, again.scm_host, again.app_host) == ports  # previous ports reused
        assert again.app_settings["KEPT"] == "yes"
        assert again.master_key == site.master_key
        assert again.active_deployment == record["id"]
        kudu = Kudu(again, str(second.ca_bundle))
        latest = kudu.get("/api/deployments/latest").json()
        assert (latest["id"], latest["status"]) == (record["id"], 4)
        assert kudu.log(latest)
        client = make_arm_client(second)
        assert client.web_apps.get(RESOURCE_GROUP, "durable").default_host_name == again.app_host
        assert len(list(client.web_apps.list_functions(RESOURCE_GROUP, "durable"))) == 2
        greeting = requests.get(
            f"{again.app_url}/api/hello?name=again", verify=str(second.ca_bundle), timeout=30
        )
        assert greeting.text == "Hello, again!"


def test_state_file_is_json_and_private(tmp_path: Path) -> None:
    with Emulator(tmp_path) as emulator:
        emulator.create_app("filed")
    state = tmp_path / "state.json"
    assert json.loads(state.read_text())["sites"][0]["name"] == "filed"
    assert state.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".state.json.*"))
    assert not (tmp_path / "server.json").exists()


def test_taken_ports_fall_back_to_free_ones(tmp_path: Path) -> None:
    with Emulator(tmp_path / "a") as first:
        taken = first.create_app("first-app")
        other = tmp_path / "b"
        with Emulator(other, port=int(first.url.rsplit(":", 1)[1])) as second:
            assert second.url != first.url
            assert taken.app_host not in second.url


def test_unfinished_deployments_are_failed_on_restart(tmp_path: Path) -> None:
    from funcpub.emulator.records import Deployment
    from funcpub.emulator.state import Store

    with Emulator(tmp_path) as emulator:
        emulator.create_app("interrupted")
    store = Store(tmp_path)
    store.put_deployment(
        "interrupted",
        Deployment(
            id="a" * 32,
            status=1,
            status_text="Building",
            author="N/A",
            author_email="N/A",
            deployer="test",
            message="m",
            progress="",
            received_time="2024-01-01T00:00:00.0000000Z",
            start_time="2024-01-01T00:00:00.0000000Z",
        ),
    )
    with Emulator(tmp_path) as emulator:
        record = emulator.context.store.deployment("interrupted", "a" * 32)
        assert record is not None
        assert (record.status, record.complete) == (3, True)
