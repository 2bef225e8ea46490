"""`settings push`, `settings undo` and connection strings against the emulator.

Every test plants secret values; none may reach stdout, stderr, a JSON document, and the values
funcpub published may not reach the undo record either (it keeps only the previous values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.web.models import (
    ConnectionStringDictionary,
    ConnStringValueTypePair,
    StringDictionary,
)

from funcpub.deploy.undo import record_path
from funcpub.emulator import Emulator
from funcpub.masking import MASK
from tests.e2e.test_settings_cli import (
    PLANTED_AZURE,
    PLANTED_DB,
    PLANTED_TOKEN,
    Runner,
    cli,
    make_app,
)
from tests.emulator_fixtures import RESOURCE_GROUP, make_arm_client

__all__ = ["cli"]  # the fixture, shared with test_settings_cli

pytestmark = pytest.mark.emulator

OLD_TOKEN = "old-token-before-the-publish-31"
AZURE_BEFORE = {"OPENAI_TOKEN": OLD_TOKEN, "UNRELATED": PLANTED_AZURE}
LOCAL = {"OPENAI_TOKEN": PLANTED_TOKEN, "ORDERS_DB": PLANTED_DB, "QUEUE_NAME": "orders-queue-7"}
PLANTED_SQL = "Server=tcp:orders.database.windows.net;Password=Planted-Sql-Pw-77"
PLANTED_CHANGED = "Server=tcp:legacy-db;Password=Planted-Legacy-Pw-12"
OLD_LEGACY = "Server=tcp:legacy-db;Password=Old-Legacy-Pw-34"


def json_of(out: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(out)
    return document


def undo_record_text(document: Mapping[str, Any]) -> str:
    return Path(document["undo_record"]).read_text(encoding="utf-8")


def set_setting(emulator: Emulator, app: str, key: str, value: str) -> None:
    """Someone else changes the app in the portal meanwhile."""
    client = make_arm_client(emulator)
    listed = client.web_apps.list_application_settings(RESOURCE_GROUP, app)
    settings = {**(listed.properties or {}), key: value}
    client.web_apps.update_application_settings(
        RESOURCE_GROUP, app, StringDictionary(properties=settings)
    )


def connection_strings(emulator: Emulator, app: str) -> dict[str, tuple[str, str]]:
    client = make_arm_client(emulator)
    result = client.web_apps.list_connection_strings(RESOURCE_GROUP, app).as_dict()
    return {name: (pair["value"], pair["type"]) for name, pair in result["properties"].items()}


def test_publish_then_undo_restores_exactly_the_previous_state(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("undo-app", app_settings=AZURE_BEFORE)
    before = dict(emulator.site("undo-app").app_settings)
    app = make_app(tmp_path, LOCAL)

    code, out, err = cli(
        "publish", "undo-app", str(app), "--build", "none", "--publish-local-settings",
        "--overwrite",
    )  # fmt: skip
    assert code == 0, err
    assert "to put the previous settings back: funcpub settings undo undo-app" in out
    after = emulator.site("undo-app").app_settings
    assert (after["OPENAI_TOKEN"], after["ORDERS_DB"]) == (PLANTED_TOKEN, PLANTED_DB)
    path = record_path("emulator", emulator.subscription_id, "undo-app", None)
    record = path.read_text(encoding="utf-8")
    assert OLD_TOKEN in record  # the previous value, to put it back
    for published in (PLANTED_TOKEN, PLANTED_DB, "orders-queue-7"):
        assert published not in record
    code, out, err = cli("publish", "undo-app", str(app), "--build", "none")
    assert "funcpub settings undo undo-app" not in out  # nothing changed this time

    set_setting(emulator, "undo-app", "ADDED_MEANWHILE", "by-someone-else")
    code, out, err = cli("settings", "undo", "undo-app", "--dry-run", "--json")
    assert code == 0, err
    assert json_of(out)["applied"] is False
    assert emulator.site("undo-app").app_settings["OPENAI_TOKEN"] == PLANTED_TOKEN

    code, out, err = cli("settings", "undo", "undo-app", "--json")
    assert code == 0, err
    document = json_of(out)
    undone = {c["key"]: (c["action"], c["value"]) for c in document["changes"]}
    assert undone["OPENAI_TOKEN"] == ("ensure", MASK)
    assert undone["ORDERS_DB"] == ("remove", None)
    assert emulator.site("undo-app").app_settings == {
        **before,
        "ADDED_MEANWHILE": "by-someone-else",
    }
    assert not path.exists()  # consumed

    code, _, err = cli("settings", "undo", "undo-app")
    assert code == 2
    assert "there is nothing to undo for undo-app" in err


def test_undo_is_refused_when_someone_changed_a_key_since(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("clash-app", app_settings=AZURE_BEFORE)
    before = dict(emulator.site("clash-app").app_settings)
    app = make_app(tmp_path, LOCAL)
    code, out, err = cli(
        "settings",
        "push",
        "clash-app",
        str(app),
        "--publish-local-settings",
        "--overwrite",
        "--json",
    )
    assert code == 0, err
    pushed = json_of(out)
    assert pushed["applied"] is True
    assert {c["key"] for c in pushed["changes"]} == {"OPENAI_TOKEN", "ORDERS_DB", "QUEUE_NAME"}
    set_setting(emulator, "clash-app", "QUEUE_NAME", "changed-in-the-portal")
    changed = dict(emulator.site("clash-app").app_settings)

    code, out, err = cli("settings", "undo", "clash-app")
    assert code == 6
    assert "QUEUE_NAME changed on clash-app since the settings push at" in err
    assert "--force" in err
    assert emulator.site("clash-app").app_settings == changed  # nothing undone

    code, out, err = cli("settings", "undo", "clash-app", "--force", "--json")
    assert code == 0, err
    assert json_of(out)["conflicts"] == ["QUEUE_NAME"]
    assert emulator.site("clash-app").app_settings == before


def test_settings_push_changes_only_the_users_settings(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("push-app", app_settings=AZURE_BEFORE)
    before = dict(emulator.site("push-app").app_settings)
    app = make_app(tmp_path, LOCAL)

    code, out, err = cli("settings", "push", "push-app", str(app))
    assert code == 2
    assert "there are no settings to push" in err

    code, out, err = cli(
        "settings", "push", "push-app", str(app), "--publish-local-settings", "--dry-run"
    )
    assert code == 0, err
    assert "would set OPENAI_TOKEN" not in out  # kept without --overwrite
    assert f"would set ORDERS_DB={MASK} (new)" in out
    assert emulator.site("push-app").app_settings == before

    code, out, err = cli(
        "settings",
        "push",
        "push-app",
        str(app),
        "--publish-local-settings",
        "--app-setting",
        "FUNCTIONS_WORKER_PROCESS_COUNT=3",
    )
    assert code == 0, err
    after = emulator.site("push-app").app_settings
    assert after == before | {
        "ORDERS_DB": PLANTED_DB,
        "QUEUE_NAME": "orders-queue-7",
        "FUNCTIONS_WORKER_PROCESS_COUNT": "3",
    }  # funcpub's own deployment settings are left to the publish
    assert "kept OPENAI_TOKEN" in out
    assert "funcpub settings undo push-app" in out
    assert emulator.site("push-app").active_deployment is None  # nothing was deployed


def test_connection_strings_are_diffed_pushed_and_undone(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("cs-app")
    client = make_arm_client(emulator)
    client.web_apps.update_connection_strings(
        RESOURCE_GROUP,
        "cs-app",
        ConnectionStringDictionary(
            properties={
                "Legacy": ConnStringValueTypePair(value=OLD_LEGACY, type="SQLServer"),
                "Keep": ConnStringValueTypePair(value="keep-me-as-i-am", type="MySql"),
            }
        ),
    )
    before = connection_strings(emulator, "cs-app")
    app = make_app(tmp_path, {"QUEUE_NAME": "orders-queue-7"})
    settings = json.loads((app / "local.settings.json").read_text(encoding="utf-8"))
    settings["ConnectionStrings"] = {
        "Orders": PLANTED_SQL,
        "Legacy": {"ConnectionString": PLANTED_CHANGED, "ProviderName": "System.Data.SqlClient"},
        "Dev": "Server=localhost;Database=orders",
    }
    (app / "local.settings.json").write_text(json.dumps(settings), encoding="utf-8")

    code, out, err = cli("settings", "diff", "cs-app", str(app), "--json")
    assert code == 0, err
    found = {e["key"]: e for e in json_of(out)["connection_strings"]}
    assert (found["Orders"]["status"], found["Orders"]["local"]) == ("added", MASK)
    assert (found["Legacy"]["status"], found["Legacy"]["azure"]) == ("changed", MASK)
    assert found["Legacy"]["publish"] == "skip"
    assert found["Dev"]["publish"] == "refuse"
    assert found["Keep"]["status"] == "removed"
    code, out, err = cli("settings", "diff", "cs-app", str(app))
    assert "connection strings of cs-app" in out

    code, out, err = cli(
        "settings", "push", "cs-app", str(app), "--publish-local-settings", "--overwrite", "--json"
    )
    assert code == 0, err
    assert "not pushing connection string Dev from local.settings.json: local only" in err
    document = json_of(out)
    assert {c["key"]: c["value"] for c in document["changes"]}["Orders"] == MASK
    assert connection_strings(emulator, "cs-app") == {
        "Legacy": (PLANTED_CHANGED, "SQLServer"),  # an existing string keeps its type
        "Keep": ("keep-me-as-i-am", "MySql"),
        "Orders": (PLANTED_SQL, "SQLAzure"),
    }
    record = undo_record_text(document)
    assert OLD_LEGACY in record
    assert PLANTED_SQL not in record
    assert PLANTED_CHANGED not in record

    code, out, err = cli("settings", "undo", "cs-app")
    assert code == 0, err
    assert "connection string Orders" in out
    assert connection_strings(emulator, "cs-app") == before
    for planted in (PLANTED_SQL, PLANTED_CHANGED, OLD_LEGACY):
        assert all(planted not in printed for printed in cli.printed)


def test_the_emulator_refuses_a_connection_string_without_a_known_type(
    emulator: Emulator,
) -> None:
    emulator.create_app("bad-cs-app")
    client = make_arm_client(emulator)
    with pytest.raises(HttpResponseError, match="invalid type"):
        client.web_apps.update_connection_strings(
            RESOURCE_GROUP,
            "bad-cs-app",
            {"properties": {"Db": {"value": "x", "type": "Oracle"}}},
        )
    assert connection_strings(emulator, "bad-cs-app") == {}


def test_push_and_undo_of_a_slot_leave_production_alone(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("slot-app", app_settings=AZURE_BEFORE)
    emulator.create_slot("slot-app", "staging")
    production = dict(emulator.site("slot-app").app_settings)
    staging = dict(emulator.site("slot-app", "staging").app_settings)
    app = make_app(tmp_path, LOCAL)
    push = ["settings", "push", "slot-app", str(app), "--publish-local-settings", "--slot"]

    code, out, err = cli(*push, "staging")
    assert code == 0, err
    assert "funcpub settings undo slot-app --slot staging" in out
    assert emulator.site("slot-app", "staging").app_settings["ORDERS_DB"] == PLANTED_DB
    assert emulator.site("slot-app").app_settings == production

    code, _, err = cli("settings", "undo", "slot-app")
    assert code == 2  # the record is the slot's, not production's
    code, _, err = cli("settings", "undo", "slot-app", "--slot", "staging")
    assert code == 0, err
    assert emulator.site("slot-app", "staging").app_settings == staging
    assert emulator.site("slot-app").app_settings == production
