"""App settings through the CLI against the emulator: `settings diff` and `publish` with local
settings, `--settings-file`, `--app-setting` and `[tool.funcpub.app-settings]`.

Every test plants secret values and checks that none of them ever reaches stdout, stderr or a
JSON document.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.web.models import SlotConfigNamesResource

from funcpub.cli import run
from funcpub.emulator import Emulator, FaultRule
from funcpub.masking import MASK, short_hash
from tests.emulator_fixtures import RESOURCE_GROUP, make_arm_client

EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"
KV = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/orders-db)"
OTHER_KV = "@Microsoft.KeyVault(VaultName=kv2;SecretName=payments-db)"
PLANTED_DB = "Server=tcp:prod.example.net;Password=Planted-Pa55-db-9f3a"
PLANTED_TOKEN = "planted-token-5b7c2d9e"
PLANTED_PLAIN = "https://planted-plain.example.com/v42"
PLANTED_AZURE = "azure-side-planted-value-77"
PLANTED = (PLANTED_DB, PLANTED_TOKEN, PLANTED_PLAIN, PLANTED_AZURE)
LOCAL_VALUES = {
    "FUNCTIONS_WORKER_RUNTIME": "python",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "ORDERS_DB": PLANTED_DB,
    "OPENAI_TOKEN": PLANTED_TOKEN,
    "SERVICE_URL": PLANTED_PLAIN,
    "LOCAL_API": "http://localhost:7071/api",
    "FUNCTIONS_WORKER_PROCESS_COUNT": "4",
}
AZURE_VALUES = {
    "SERVICE_URL": "https://old.example.com/",
    "UNRELATED": PLANTED_AZURE,
    "ORDERS_DB": KV,
}

pytestmark = pytest.mark.emulator


class Runner:
    """Runs the CLI in-process against the emulator and keeps every byte it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.printed: list[str] = []

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = run(list(argv))
        captured = self.capsys.readouterr()
        self.printed += [captured.out, captured.err]
        return code, captured.out, captured.err

    def assert_no_secrets(self) -> None:
        text = "\n".join(self.printed)
        for value in PLANTED:
            assert value not in text


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runner]:
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)
    runner = Runner(capsys)
    yield runner
    runner.assert_no_secrets()


def make_app(
    tmp_path: Path, values: Mapping[str, str] | None = None, pyproject: str | None = None
) -> Path:
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    document = {"IsEncrypted": False, "Values": dict(values or LOCAL_VALUES)}
    (app / "local.settings.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    if pyproject is not None:
        (app / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return app


def entries(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in document["entries"]}


def publish(cli: Runner, name: str, app: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli("publish", name, str(app), "--build", "none", "--json", *extra)
    return code, (json.loads(out) if out.strip() else {}), err


def test_diff_masks_values_and_previews_the_publish(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("diff-app", app_settings=AZURE_VALUES)
    app = make_app(tmp_path)
    code, out, err = cli("settings", "diff", "diff-app", str(app), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["app"] == "diff-app"
    found = entries(document)
    assert (
        found["OPENAI_TOKEN"] | {"status": "added", "local": MASK, "publish": "add"}
        == (found["OPENAI_TOKEN"])
    )
    service = found["SERVICE_URL"]
    assert (service["status"], service["publish"]) == ("changed", "skip")
    assert service["local"] == short_hash(PLANTED_PLAIN)
    assert service["azure"] == short_hash("https://old.example.com/")
    orders = found["ORDERS_DB"]
    assert (orders["status"], orders["publish"], orders["key_vault_reference"]) == (
        "changed",
        "skip",
        True,
    )
    assert orders["azure"] == KV
    assert orders["local"] == MASK
    assert found["AzureWebJobsStorage"]["publish"] == "refuse"
    assert "local storage emulator" in found["AzureWebJobsStorage"]["note"]
    assert (found["LOCAL_API"]["status"], found["LOCAL_API"]["publish"]) == ("added", "refuse")
    assert found["FUNCTIONS_WORKER_PROCESS_COUNT"]["local"] == "4"
    assert (found["UNRELATED"]["status"], found["UNRELATED"]["publish"]) == ("removed", "keep")
    assert found["UNRELATED"]["azure"] == short_hash(PLANTED_AZURE)
    assert found["FUNCTIONS_WORKER_RUNTIME"]["status"] == "unchanged"
    assert document["summary"]["added"] == 3

    code, out, _ = cli("settings", "diff", "diff-app", str(app), "--json", "--overwrite")
    overwritten = entries(json.loads(out))
    assert overwritten["SERVICE_URL"]["publish"] == "replace"
    assert overwritten["ORDERS_DB"]["publish"] == "skip"
    assert "Key Vault reference is kept, even with --overwrite" in overwritten["ORDERS_DB"]["note"]

    code, out, err = cli("settings", "diff", "diff-app", str(app))
    assert code == 0, err
    for key in ("OPENAI_TOKEN", "SERVICE_URL", "ORDERS_DB", "UNRELATED", "LOCAL_API"):
        assert key in out
    assert "3 added" in out
    assert emulator.site("diff-app").app_settings["SERVICE_URL"] == "https://old.example.com/"


def test_diff_with_a_settings_file_instead_of_local_settings(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("env-app", app_settings=AZURE_VALUES)
    app = make_app(tmp_path)
    env = tmp_path / "prod.env"
    env.write_text(f"SERVICE_URL={PLANTED_PLAIN}\nexport NEW_ONE='{PLANTED_TOKEN}'\n", "utf-8")
    code, out, err = cli(
        "settings", "diff", "env-app", str(app), "--settings-file", str(env), "--json"
    )
    assert code == 0, err
    found = entries(json.loads(out))
    assert found["NEW_ONE"]["source"] == "prod.env"
    assert "OPENAI_TOKEN" not in found  # local.settings.json is not read with --settings-file
    assert found["SERVICE_URL"]["status"] == "changed"


def test_publish_local_settings_adds_only_what_is_missing(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("pub-app", app_settings=AZURE_VALUES)
    before = dict(emulator.site("pub-app").app_settings)
    app = make_app(tmp_path)

    code, plan, err = publish(cli, "pub-app", app, "--publish-local-settings", "--dry-run")
    assert code == 0, err
    planned = {c["key"]: c for c in plan["setting_changes"]}
    assert planned["OPENAI_TOKEN"]["value"] == MASK
    assert planned["OPENAI_TOKEN"]["masked"] is True
    assert planned["OPENAI_TOKEN"]["replace"] == "never"
    assert planned["SERVICE_URL"]["value"] == short_hash(PLANTED_PLAIN)
    assert planned["FUNCTIONS_WORKER_PROCESS_COUNT"]["value"] == "4"
    refused = {r["key"]: r["reason"] for r in plan["refused_settings"]}
    assert set(refused) == {"AzureWebJobsStorage", "LOCAL_API"}
    assert "not publishing AzureWebJobsStorage" in err
    assert emulator.site("pub-app").app_settings == before  # a dry run changes nothing

    code, result, err = publish(cli, "pub-app", app, "--publish-local-settings")
    assert code == 0, err
    after = emulator.site("pub-app").app_settings
    assert after["OPENAI_TOKEN"] == PLANTED_TOKEN
    assert after["FUNCTIONS_WORKER_PROCESS_COUNT"] == "4"
    assert after["SERVICE_URL"] == "https://old.example.com/"  # kept: no --overwrite
    assert after["ORDERS_DB"] == KV  # a Key Vault reference stays
    assert after["UNRELATED"] == PLANTED_AZURE  # unrelated settings survive
    assert after["AzureWebJobsStorage"] == before["AzureWebJobsStorage"]  # never dev storage
    assert "LOCAL_API" not in after
    assert sorted(result["skipped_settings"]) == ["ORDERS_DB", "SERVICE_URL"]
    applied = {c["key"]: c["value"] for c in result["applied_changes"]}
    assert applied["OPENAI_TOKEN"] == MASK
    assert "kept ORDERS_DB: the app's value is a Key Vault reference" in err


@pytest.mark.parametrize("command", ["publish", "settings push"])
def test_overwrite_replaces_values_but_keeps_key_vault_references(
    cli: Runner, emulator: Emulator, tmp_path: Path, command: str
) -> None:
    """Only another Key Vault reference replaces one; the kept one is named, never shown."""
    emulator.create_app("over-app", app_settings=AZURE_VALUES | {"PAYMENTS_DB": KV})
    app = make_app(tmp_path, LOCAL_VALUES | {"PAYMENTS_DB": OTHER_KV})
    argv = [*command.split(), "over-app", str(app), "--publish-local-settings", "--overwrite"]
    argv += ["--build", "none"] if command == "publish" else []
    code, out, err = cli(*argv, "--json")
    assert code == 0, err
    after = emulator.site("over-app").app_settings
    assert after["SERVICE_URL"] == PLANTED_PLAIN
    assert after["ORDERS_DB"] == KV
    assert after["PAYMENTS_DB"] == OTHER_KV
    assert after["UNRELATED"] == PLANTED_AZURE
    assert "LOCAL_API" not in after
    kept = (
        "kept ORDERS_DB: the app's value is a Key Vault reference, which only another Key Vault"
        " reference replaces (--overwrite too)"
    )
    assert kept in " ".join(err.split())
    assert KV not in err
    result = json.loads(out)
    if command == "publish":
        assert result["skipped_settings"] == result["key_vault_kept"] == ["ORDERS_DB"]
    else:
        assert [item["key"] for item in result["skipped"]] == ["ORDERS_DB"]
    code, out, err = cli(*argv)  # again, as text: the result says so too
    assert code == 0, err
    assert kept in " ".join(out.split())
    assert emulator.site("over-app").app_settings["ORDERS_DB"] == KV


def test_local_only_values_need_force(cli: Runner, emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("local-app")
    app = make_app(tmp_path, {"LOCAL_API": "http://127.0.0.1:7071/api", "OK": "fine-value-1"})
    code, _, err = publish(cli, "local-app", app, "--publish-local-settings")
    assert code == 0, err
    assert "not publishing LOCAL_API from local.settings.json: local only" in err
    assert "LOCAL_API" not in emulator.site("local-app").app_settings
    assert emulator.site("local-app").app_settings["OK"] == "fine-value-1"
    code, _, err = publish(
        cli, "local-app", app, "--publish-local-settings", "--force-local-settings"
    )
    assert code == 0, err
    assert emulator.site("local-app").app_settings["LOCAL_API"] == "http://127.0.0.1:7071/api"

    code, _, err = publish(cli, "local-app", app, "--app-setting", "API=http://localhost:1/")
    assert code == 2
    assert "is not published: local only" in err
    assert "--force-local-settings" in err


def test_pyproject_app_settings_and_the_command_line(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("tune-app")
    app = make_app(
        tmp_path,
        {"FUNCTIONS_WORKER_RUNTIME": "python"},
        pyproject=(
            "[tool.funcpub.app-settings]\n"
            "FUNCTIONS_WORKER_PROCESS_COUNT = 4\n"
            "PYTHON_THREADPOOL_THREAD_COUNT = 8\n"
            "PYTHON_ENABLE_WORKER_EXTENSIONS = true\n"
        ),
    )
    code, result, err = publish(
        cli,
        "tune-app",
        app,
        "--app-setting",
        "FUNCTIONS_WORKER_PROCESS_COUNT=2",
        "--app-setting",
        f"OPENAI_TOKEN={PLANTED_TOKEN}",
    )
    assert code == 0, err
    after = emulator.site("tune-app").app_settings
    assert after["FUNCTIONS_WORKER_PROCESS_COUNT"] == "2"  # the command line wins
    assert after["PYTHON_THREADPOOL_THREAD_COUNT"] == "8"
    assert after["PYTHON_ENABLE_WORKER_EXTENSIONS"] == "true"
    assert after["OPENAI_TOKEN"] == PLANTED_TOKEN
    applied = {c["key"]: (c["value"], c["source"]) for c in result["applied_changes"]}
    assert applied["FUNCTIONS_WORKER_PROCESS_COUNT"] == ("2", "command line")
    assert applied["PYTHON_THREADPOOL_THREAD_COUNT"] == ("8", "pyproject.toml")

    code, _, err = publish(
        cli, "tune-app", app, "--app-setting", "FUNCTIONS_WORKER_PROCESS_COUNT=11"
    )
    assert code == 2
    assert "FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number 1-10, got '11'" in err
    assert emulator.site("tune-app").app_settings["FUNCTIONS_WORKER_PROCESS_COUNT"] == "2"


def test_slot_settings_and_sticky_names(cli: Runner, emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("slot-app", app_settings={"STICKY_FLAG": "production-value"})
    emulator.create_slot("slot-app", "staging")
    with make_arm_client(emulator) as client:
        client.web_apps.update_slot_configuration_names(
            RESOURCE_GROUP,
            "slot-app",
            SlotConfigNamesResource({"properties": {"appSettingNames": ["STICKY_FLAG"]}}),
        )
    app = make_app(tmp_path, {"STICKY_FLAG": "staging-value-123", "OPENAI_TOKEN": PLANTED_TOKEN})
    code, out, err = cli("settings", "diff", "slot-app", str(app), "--slot", "staging", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["app"] == "slot-app/staging"
    assert document["sticky"] == ["STICKY_FLAG"]
    found = entries(document)
    assert found["STICKY_FLAG"]["sticky"] is True
    assert found["OPENAI_TOKEN"]["sticky"] is False

    code, out, err = cli("settings", "diff", "slot-app", str(app), "--slot", "staging")
    assert "STICKY_FLAG (slot setting)" in out

    code, _, err = cli(
        "publish", "slot-app", str(app), "--build", "none",
        "--slot", "staging", "--publish-local-settings", "--overwrite",
    )  # fmt: skip
    assert code == 0, err
    assert "set STICKY_FLAG=" in err
    assert "[slot setting]" in err
    assert emulator.site("slot-app", "staging").app_settings["STICKY_FLAG"] == "staging-value-123"
    production = emulator.site("slot-app").app_settings
    assert production["STICKY_FLAG"] == "production-value"
    assert "OPENAI_TOKEN" not in production


def test_a_failed_publish_names_the_changed_settings(
    cli: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("fail-app")
    app = make_app(tmp_path, {"OPENAI_TOKEN": PLANTED_TOKEN})
    emulator.faults.add(FaultRule(role="deploy", status=500, body="build failed: boom"))
    code, _, err = publish(cli, "fail-app", app, "--publish-local-settings")
    assert code == 6
    note = err.split("settings already changed in Azure: ", 1)[1].split(")", 1)[0]
    assert set(note.split(", ")) == {"SCM_DO_BUILD_DURING_DEPLOYMENT", "OPENAI_TOKEN"}
    assert emulator.site("fail-app").app_settings["OPENAI_TOKEN"] == PLANTED_TOKEN
