"""Connection strings (reading, typing, planning, merging) and undo records (file, planning)."""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from funcpub.appsettings import SettingChange, SettingsRequest, ensure, plan_settings
from funcpub.connectionstrings import ConnectionString, environment_name, inferred_type
from funcpub.deploy.changes import (
    ConcreteChange,
    CurrentConfig,
    concrete_changes,
    merged_connection_strings,
)
from funcpub.deploy.undo import (
    UndoTarget,
    load_record,
    make_record,
    plan_undo,
    record_path,
    save_record,
)
from funcpub.errors import ConfigError
from funcpub.masking import MASK
from funcpub.settingsfiles import SettingsFile, read_settings_file

PLANTED = "Server=tcp:prod.database.windows.net;Password=Planted-Cs-Secret-42"
TARGET = UndoTarget(
    cloud="emulator", subscription="sub-1", resource_group="rg", app="my-app", slot=None
)


def local_settings(tmp_path: Path, strings: object) -> SettingsFile:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {}, "ConnectionStrings": strings}), encoding="utf-8")
    return read_settings_file(path)


# --- reading and typing -------------------------------------------------------------------


def test_connection_strings_are_read_with_a_type(tmp_path: Path) -> None:
    file = local_settings(
        tmp_path,
        {
            "Orders": PLANTED,
            "Legacy": {"ConnectionString": "Server=db;Database=x", "ProviderName": "Npgsql"},
            "Cache": {"ConnectionString": "whatever", "Type": "rediscache"},
            "Plain": "Endpoint=https://example.com;Token=abc",
        },
    )
    assert {name: item.type for name, item in file.connection_strings.items()} == {
        "Orders": "SQLAzure",
        "Legacy": "PostgreSQL",
        "Cache": "RedisCache",
        "Plain": "Custom",
    }
    assert file.connection_strings["Orders"].value == PLANTED


@pytest.mark.parametrize(
    ("strings", "message"),
    [
        (["Server=x;Password=planted-value"], "ConnectionStrings must be a JSON object"),
        ({"Db": {"ConnectionString": "planted-value", "Type": "Oracle"}}, "unknown Type"),
        ({"Db": ["planted-value"]}, "must be a string"),
    ],
)
def test_bad_connection_strings_never_quote_the_value(
    tmp_path: Path, strings: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        local_settings(tmp_path, strings)
    assert "planted-value" not in info.value.message


@pytest.mark.parametrize(
    ("value", "provider", "kind"),
    [
        ("Server=tcp:x.database.windows.net,1433;Database=d", None, "SQLAzure"),
        ("Server=tcp:x.database.windows.net", "System.Data.SqlClient", "SQLAzure"),
        ("Server=onprem;Database=d", "System.Data.SqlClient", "SQLServer"),
        ("postgresql://u@x.postgres.database.azure.com/db", None, "PostgreSQL"),
        ("Server=x.mysql.database.azure.com;Uid=u", None, "MySql"),
        ("AccountEndpoint=https://x.documents.azure.com:443/;AccountKey=k", None, "DocDb"),
        ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=k", None, "ServiceBus"),
        ("Server=onprem;Database=d", None, "Custom"),
    ],
)
def test_inferred_types(value: str, provider: str | None, kind: str) -> None:
    assert inferred_type(value, provider) == kind


def test_environment_names_follow_the_type() -> None:
    assert environment_name("Orders", "SQLAzure") == "SQLAZURECONNSTR_Orders"
    assert environment_name("Orders", "Custom") == "CUSTOMCONNSTR_Orders"


# --- planning and merging -----------------------------------------------------------------


def strings_file(strings: dict[str, str]) -> SettingsFile:
    return SettingsFile(
        path=Path("local.settings.json"),
        name="local.settings.json",
        values={},
        connection_strings={
            name: ConnectionString(value=value, type=inferred_type(value))
            for name, value in strings.items()
        },
    )


def test_connection_strings_are_planned_masked_and_local_ones_refused() -> None:
    files = (strings_file({"Orders": PLANTED, "Dev": "Server=localhost;Database=x", "E": ""}),)
    planned = plan_settings((), (), SettingsRequest(files=files), model="v2")
    (orders,) = planned.changes
    assert (orders.scope, orders.connection_type, orders.replace) == (
        "connection string",
        "SQLAzure",
        "never",
    )
    assert orders.shown == MASK
    refused = {r.label: r.reason for r in planned.refused}
    assert refused == {
        "connection string Dev": "local only: points at this machine (localhost)",
        "connection string E": "the value is empty",
    }
    forced = plan_settings(
        (), (), SettingsRequest(files=files, allow_local=True, overwrite=True), model="v2"
    )
    assert {c.key: c.replace for c in forced.changes} == dict.fromkeys(
        ["Orders", "Dev"], "unless-key-vault"
    )


def string_change(name: str, value: str, kind: str = "Custom") -> SettingChange:
    return SettingChange(
        scope="connection string",
        key=name,
        action="ensure",
        value=value,
        reason="test",
        source="local.settings.json",
        public=False,
        connection_type=kind,
    )


def test_merging_keeps_other_strings_and_the_type_of_existing_ones() -> None:
    current = CurrentConfig(
        app_settings={},
        site_config={},
        connection_strings={
            "orders": ConnectionString(value="old", type="SQLServer"),
            "Keep": ConnectionString(value="k", type="MySql"),
        },
    )
    wanted = [
        string_change("Orders", "new", kind="SQLAzure"),
        string_change("Fresh", "f", kind="DocDb"),
    ]
    applied = concrete_changes([replace(c, replace="always") for c in wanted], current, force=False)
    assert [(c.change.key, c.previous) for c in applied] == [("Orders", "old"), ("Fresh", None)]
    assert applied[0].describe() == f"set connection string Orders={MASK} (was {MASK})"
    assert merged_connection_strings(current.connection_strings, applied) == {
        "orders": ConnectionString(value="new", type="SQLServer"),
        "Keep": ConnectionString(value="k", type="MySql"),
        "Fresh": ConnectionString(value="f", type="DocDb"),
    }


# --- undo records -------------------------------------------------------------------------

SECRET_BEFORE = "previous-secret-value-1234"
SECRET_AFTER = "published-secret-value-5678"
APPLIED = (
    ConcreteChange(change=ensure("API_TOKEN", SECRET_AFTER, "r"), previous=SECRET_BEFORE),
    ConcreteChange(change=ensure("NEW_KEY", "fresh-value-1", "r"), previous=None),
    ConcreteChange(change=string_change("Orders", PLANTED), previous=None),
)


def test_records_keep_previous_values_only_and_are_private() -> None:
    path = save_record(make_record(TARGET, APPLIED, command="publish"))
    assert path == record_path("emulator", "sub-1", "MY-APP", None)
    text = path.read_text(encoding="utf-8")
    assert SECRET_BEFORE in text  # needed to restore it
    assert SECRET_AFTER not in text
    assert PLANTED not in text
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    record = load_record(path)
    assert record is not None
    assert record.target == TARGET
    assert [(e.label, e.previous) for e in record.entries] == [
        ("API_TOKEN", SECRET_BEFORE),
        ("NEW_KEY", None),
        ("connection string Orders", None),
    ]
    assert SECRET_BEFORE in record.secrets()


def test_missing_and_damaged_records(tmp_path: Path) -> None:
    assert load_record(tmp_path / "none.json") is None
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"version": 1}', encoding="utf-8")
    with pytest.raises(ConfigError, match="damaged"):
        load_record(damaged)


def after_publish(**overrides: str | None) -> CurrentConfig:
    settings = {"API_TOKEN": SECRET_AFTER, "NEW_KEY": "fresh-value-1", "OTHER": "x"}
    for key, value in overrides.items():
        settings.pop(key, None)
        if value is not None:
            settings[key] = value
    return CurrentConfig(
        app_settings=settings,
        site_config={},
        connection_strings={"Orders": ConnectionString(value=PLANTED, type="SQLAzure")},
    )


def test_undo_restores_changed_keys_and_removes_added_ones() -> None:
    record = make_record(TARGET, APPLIED, command="publish")
    plan = plan_undo(record, after_publish(), force=False)
    assert plan.conflicts == ()
    assert [(c.change.label, c.change.action, c.change.value) for c in plan.changes] == [
        ("API_TOKEN", "ensure", SECRET_BEFORE),
        ("NEW_KEY", "remove", None),
        ("connection string Orders", "remove", None),
    ]
    assert plan.changes[0].describe() == f"set API_TOKEN={MASK} (was {MASK})"


def test_undo_leaves_out_keys_changed_since_unless_forced() -> None:
    record = make_record(TARGET, APPLIED, command="publish")
    current = after_publish(API_TOKEN="someone-else-changed-it", NEW_KEY=None)
    plan = plan_undo(record, current, force=False)
    assert plan.conflicts == ("API_TOKEN",)
    assert plan.restored == ("NEW_KEY",)
    assert [c.change.label for c in plan.changes] == ["connection string Orders"]
    forced = plan_undo(record, current, force=True)
    assert [c.change.label for c in forced.changes] == ["API_TOKEN", "connection string Orders"]
