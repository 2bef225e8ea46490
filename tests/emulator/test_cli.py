"""`funcpub emulator create-app`, with and without a running server on the data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funcpub.cli.emulator import emulator_app
from funcpub.emulator import Emulator
from tests.emulator_fixtures import RESOURCE_GROUP, make_arm_client

pytestmark = pytest.mark.emulator


def test_create_app_without_a_server(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        emulator_app, ["create-app", "offline-app", "--plan", "Y1", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "created offline-app" in result.output
    with Emulator(tmp_path) as emulator:
        site = emulator.site("offline-app")
        assert site.plan == "Y1"
        assert not site.app_host.endswith(":0")
        client = make_arm_client(emulator)
        assert client.web_apps.get(RESOURCE_GROUP, "offline-app").sku == "Dynamic"


def test_create_app_through_the_running_server(emulator: Emulator) -> None:
    result = CliRunner().invoke(
        emulator_app,
        ["create-app", "live-app", "--plan", "FC1", "--data-dir", str(emulator.data_dir), "--json"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["plan"] == "FC1"
    site = emulator.site("live-app")
    assert document["app_host"] == site.app_host
    client = make_arm_client(emulator)
    assert client.web_apps.get(RESOURCE_GROUP, "live-app").sku == "FlexConsumption"


def test_create_app_refuses_a_taken_name(emulator: Emulator) -> None:
    emulator.create_app("taken")
    result = CliRunner().invoke(
        emulator_app, ["create-app", "taken", "--data-dir", str(emulator.data_dir)]
    )
    assert result.exit_code != 0
    assert "already exists" in str(result.exception)
