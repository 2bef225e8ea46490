"""The user's app settings: masking, rules and ranges, settings files, planning, precedence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from funcpub.appsettings import (
    SettingChange,
    SettingsRequest,
    base_settings,
    change_to_dict,
    ensure,
    plan_settings,
    user_values,
)
from funcpub.cli import run
from funcpub.connectionstrings import ConnectionString
from funcpub.deploy.changes import (
    CurrentConfig,
    concrete_changes,
    merged_app_settings,
    skipped_changes,
)
from funcpub.errors import ConfigError
from funcpub.masking import MASK, secret_values, short_hash, shown_value
from funcpub.options import AppSetting, resolve_options
from funcpub.settingrules import local_only_reason, value_problem, worker_indexing_warning
from funcpub.settingsdiff import RemoteSettings, diff_settings
from funcpub.settingsfiles import SettingsFile, parse_dotenv, read_settings_file
from funcpub.strategies.local import NO_REMOTE_BUILD

KV = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db)"
MANAGED = (*base_settings("3.11", "4"), NO_REMOTE_BUILD)


def local_file(values: dict[str, str], name: str = "local.settings.json") -> SettingsFile:
    return SettingsFile(path=Path(name), name=name, values=values)


def plan(
    values: dict[str, str] | None = None,
    explicit: tuple[AppSetting, ...] = (),
    **flags: bool,
) -> tuple[dict[str, SettingChange], dict[str, str]]:
    request = SettingsRequest(files=(local_file(values),) if values else (), **flags)
    planned = plan_settings(MANAGED, explicit, request, model="v2")
    changes = {c.key: c for c in planned.changes}
    return changes, {r.key: r.reason for r in planned.refused}


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("FUNCTIONS_WORKER_PROCESS_COUNT", "4", "4"),
        ("functions_worker_process_count", "4", "4"),
        ("AzureWebJobsFeatureFlags", "EnableWorkerIndexing", "EnableWorkerIndexing"),
        ("ORDERS_DB_PASSWORD", "hunter2-hunter2", MASK),
        ("AzureWebJobsStorage", "UseDevelopmentStorage=true", MASK),
        ("CONN", "Endpoint=sb://x/;SharedAccessKey=abc", MASK),
        ("QUEUE_NAME", "orders", short_hash("orders")),
        ("DB", KV, KV),
        ("DB_PASSWORD", KV, KV),
    ],
)
def test_shown_values(key: str, value: str, shown: str) -> None:
    assert shown_value(key, value) == shown


def test_public_values_are_shown_unless_they_look_secret() -> None:
    assert shown_value("QUEUE_NAME", "orders", public=True) == "orders"
    assert shown_value("API_KEY", "abc", public=True) == MASK


def test_short_hash_is_the_sha256_prefix() -> None:
    assert short_hash("orders") == "sha256:" + "1c168adb"
    assert len(short_hash("x")) == len("sha256:") + 8


def test_secret_values_skip_clear_and_short_words() -> None:
    pairs = [
        ("FUNCTIONS_WORKER_RUNTIME", "python"),
        ("QUEUE_NAME", "orders"),
        ("FLAG", "true"),
        ("OPENAI_ENDPOINT", "https://planted.example.com/"),
        ("DB_PASSWORD", "pw1"),
        ("VAULT", KV),
    ]
    assert list(secret_values(pairs)) == ["https://planted.example.com/", "pw1"]


def test_change_json_never_holds_the_value() -> None:
    change = SettingChange(
        scope="app setting", key="API_TOKEN", action="ensure", value="s3cr3t", reason="x"
    )
    data = change_to_dict(change)
    assert data["value"] == MASK
    assert data["masked"] is True
    assert "s3cr3t" not in json.dumps(data)


# --- rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("FUNCTIONS_WORKER_PROCESS_COUNT", "1", True),
        ("FUNCTIONS_WORKER_PROCESS_COUNT", "10", True),
        ("FUNCTIONS_WORKER_PROCESS_COUNT", "0", False),
        ("FUNCTIONS_WORKER_PROCESS_COUNT", "11", False),
        ("FUNCTIONS_WORKER_PROCESS_COUNT", "four", False),
        ("PYTHON_THREADPOOL_THREAD_COUNT", "1", True),
        ("PYTHON_THREADPOOL_THREAD_COUNT", "64", True),
        ("PYTHON_THREADPOOL_THREAD_COUNT", "0", False),
        ("PYTHON_THREADPOOL_THREAD_COUNT", "-1", False),
        ("PYTHON_ENABLE_WORKER_EXTENSIONS", "1", True),
        ("PYTHON_ENABLE_WORKER_EXTENSIONS", "True", True),
        ("PYTHON_ENABLE_WORKER_EXTENSIONS", "false", True),
        ("PYTHON_ENABLE_WORKER_EXTENSIONS", "yes", False),
        ("PYTHON_ISOLATE_WORKER_DEPENDENCIES", "2", False),
        ("AzureWebJobsFeatureFlags", "EnableWorkerIndexing,EnableHttpProxying", True),
        ("AzureWebJobsFeatureFlags", "Enable Worker", False),
        ("FUNCTIONS_WORKER_RUNTIME", "python", True),
        ("FUNCTIONS_WORKER_RUNTIME", "node", False),
        ("FUNCTIONS_EXTENSION_VERSION", "~4", True),
        ("FUNCTIONS_EXTENSION_VERSION", "4.1036.1", True),
        ("FUNCTIONS_EXTENSION_VERSION", "latest", False),
        ("SOMETHING_ELSE", "anything", True),
    ],
)
def test_known_keys_and_ranges(key: str, value: str, ok: bool) -> None:
    assert (value_problem(key, value) is None) is ok


def test_range_error_message() -> None:
    assert value_problem("FUNCTIONS_WORKER_PROCESS_COUNT", "12") == (
        "FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number 1-10, got '12'"
    )


@pytest.mark.parametrize(
    ("key", "value", "local"),
    [
        ("AzureWebJobsStorage", "UseDevelopmentStorage=true", True),
        ("AzureWebJobsStorage", "usedevelopmentstorage = TRUE", True),
        ("API", "http://localhost:7071/api", True),
        ("API", "http://127.0.0.1:8080", True),
        ("API", "https://[::1]:443/", True),
        ("SQL", "Server=localhost,1433;Database=x", True),
        ("SQL", "Server=(localdb)\\MSSQLLocalDB;Database=x", True),
        ("BLOB", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=x", True),
        ("FUNCTIONS_WORKER_RUNTIME", "node", True),
        ("FUNCTIONS_WORKER_RUNTIME", "python", False),
        ("API", "https://localhost-proxy.example.com/", False),
        ("API", "https://api.example.com/localhost", True),
        ("NAME", "mylocalhostname", False),
    ],
)
def test_local_only_values(key: str, value: str, local: bool) -> None:
    assert (local_only_reason(key, value) is not None) is local


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        ({"FUNCTIONS_EXTENSION_VERSION": "4.25.3"}, True),
        ({"FUNCTIONS_EXTENSION_VERSION": "4.27.5.21"}, True),
        ({"FUNCTIONS_EXTENSION_VERSION": "4.28.0"}, False),
        ({"FUNCTIONS_EXTENSION_VERSION": "4.1036.1"}, False),
        ({"FUNCTIONS_EXTENSION_VERSION": "~4"}, False),
        ({}, False),
        (
            {
                "FUNCTIONS_EXTENSION_VERSION": "4.25.3",
                "AzureWebJobsFeatureFlags": "EnableHttpProxying,EnableWorkerIndexing",
            },
            False,
        ),
    ],
)
def test_worker_indexing_warning(settings: dict[str, str], warned: bool) -> None:
    warning = worker_indexing_warning("v2", settings)
    assert (warning is not None) is warned
    assert worker_indexing_warning("v1", settings) is None
    if warning:
        assert "AzureWebJobsFeatureFlags=EnableWorkerIndexing" in warning
        assert "4.28.0" in warning


# --- settings files -----------------------------------------------------------------------


def test_dotenv_syntax() -> None:
    text = "\n".join(
        [
            "# comment",
            "",
            "PLAIN=value # trailing comment",
            "export EXPORTED=1",
            "SINGLE='a # b'",
            'DOUBLE="line\\nnext \\"quoted\\""',
            "EMPTY=",
            "EQUALS=a=b=c",
        ]
    )
    assert parse_dotenv(text, "prod.env") == {
        "PLAIN": "value",
        "EXPORTED": "1",
        "SINGLE": "a # b",
        "DOUBLE": 'line\nnext "quoted"',
        "EMPTY": "",
        "EQUALS": "a=b=c",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SECRET_ONLY_LINE", "prod.env:1: expected KEY=VALUE"),
        ("OK=1\nA='unclosed secret", "prod.env:2: the quoted value is not closed"),
        ('A="x" secret-tail', "prod.env:1: unexpected text after the closing quote"),
    ],
)
def test_dotenv_errors_never_quote_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_dotenv(text, "prod.env")
    assert info.value.message == message
    assert "secret" not in info.value.message


@pytest.mark.parametrize(
    "document",
    [
        {"IsEncrypted": False, "Values": {"A": "1", "B": True}},
        {"A": "1", "B": True},
        [{"name": "A", "value": "1", "slotSetting": False}, {"name": "B", "value": "true"}],
    ],
    ids=["local.settings.json", "flat object", "az appsettings list"],
)
def test_json_settings_files(tmp_path: Path, document: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert dict(read_settings_file(path).values) == {"A": "1", "B": "true"}


def test_encrypted_local_settings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text('{"IsEncrypted": true, "Values": {"A": "xx"}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="encrypted"):
        read_settings_file(path)


# --- planning -----------------------------------------------------------------------------


def test_local_settings_are_added_only_when_missing_by_default() -> None:
    changes, refused = plan({"QUEUE_NAME": "orders", "FUNCTIONS_WORKER_PROCESS_COUNT": "4"})
    assert changes["QUEUE_NAME"].replace == "never"
    assert changes["QUEUE_NAME"].source == "local.settings.json"
    assert changes["QUEUE_NAME"].shown == short_hash("orders")
    assert changes["FUNCTIONS_WORKER_PROCESS_COUNT"].shown == "4"
    assert refused == {}
    overwrite, _ = plan({"QUEUE_NAME": "orders"}, overwrite=True)
    assert overwrite["QUEUE_NAME"].replace == "unless-key-vault"
    assert overwrite["FUNCTIONS_WORKER_RUNTIME"].source == "funcpub"


def test_local_only_values_are_refused_unless_forced() -> None:
    values = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "API": "http://localhost:1/"}
    changes, refused = plan(values)
    assert set(refused) == {"AzureWebJobsStorage", "API"}
    assert "AzureWebJobsStorage" not in changes
    assert "UseDevelopmentStorage=true" not in " ".join(refused.values())
    forced, refused = plan(values, allow_local=True)
    assert refused == {}
    assert forced["AzureWebJobsStorage"].value == "UseDevelopmentStorage=true"


def test_empty_and_badly_named_values_are_refused() -> None:
    _, refused = plan({"EMPTY": "", "Nested:Key": "x"})
    assert refused["EMPTY"] == "the value is empty"
    assert "':'" in refused["Nested:Key"]


def test_out_of_range_file_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="must be a whole number 1-10") as info:
        plan({"FUNCTIONS_WORKER_PROCESS_COUNT": "20"})
    assert "local.settings.json" in info.value.message


def test_settings_funcpub_manages() -> None:
    changes, refused = plan(
        {"FUNCTIONS_WORKER_RUNTIME": "python", "SCM_DO_BUILD_DURING_DEPLOYMENT": "1"}
    )
    assert changes["FUNCTIONS_WORKER_RUNTIME"].source == "funcpub"
    assert "SCM_DO_BUILD_DURING_DEPLOYMENT" in refused
    assert refused["SCM_DO_BUILD_DURING_DEPLOYMENT"].startswith("funcpub sets")
    equal, refused = plan({"SCM_DO_BUILD_DURING_DEPLOYMENT": "0"})
    assert refused == {}
    assert equal["SCM_DO_BUILD_DURING_DEPLOYMENT"].source == "funcpub"


def test_a_pinned_host_replaces_the_managed_version() -> None:
    pin = AppSetting(key="FUNCTIONS_EXTENSION_VERSION", value="4.25.3", source="command line")
    request = SettingsRequest()
    planned = plan_settings(MANAGED, (pin,), request, model="v2")
    change = {c.key: c for c in planned.changes}["FUNCTIONS_EXTENSION_VERSION"]
    assert change.value == "4.25.3"
    assert any("EnableWorkerIndexing" in w for w in planned.warnings)
    flag = AppSetting(
        key="AzureWebJobsFeatureFlags", value="EnableWorkerIndexing", source="pyproject.toml"
    )
    assert plan_settings(MANAGED, (pin, flag), request, model="v2").warnings == ()
    other = AppSetting(key="FUNCTIONS_EXTENSION_VERSION", value="~3", source="command line")
    with pytest.raises(ConfigError, match="funcpub sets FUNCTIONS_EXTENSION_VERSION"):
        plan_settings(MANAGED, (other,), request, model="v2")


def test_explicit_local_only_values_are_errors() -> None:
    setting = AppSetting(key="API", value="http://127.0.0.1:9/", source="pyproject.toml")
    with pytest.raises(ConfigError, match="local only") as info:
        plan_settings(MANAGED, (setting,), SettingsRequest(), model="v2")
    assert info.value.hint is not None
    assert "--force-local-settings" in info.value.hint
    forced = plan_settings(MANAGED, (setting,), SettingsRequest(allow_local=True), model="v2")
    assert "API" in {c.key for c in forced.changes}


def test_explicit_settings_win_over_files() -> None:
    setting = AppSetting(key="FUNCTIONS_WORKER_PROCESS_COUNT", value="2", source="command line")
    changes, _ = plan({"FUNCTIONS_WORKER_PROCESS_COUNT": "4"}, (setting,))
    assert changes["FUNCTIONS_WORKER_PROCESS_COUNT"].value == "2"
    assert changes["FUNCTIONS_WORKER_PROCESS_COUNT"].replace == "unless-key-vault"


# --- against the app's values -------------------------------------------------------------


def user(value: str, policy: str) -> SettingChange:
    return SettingChange(
        scope="app setting",
        key="DB",
        action="ensure",
        value=value,
        reason="test",
        source="local.settings.json",
        replace=policy,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("policy", "previous", "value", "outcome"),
    [
        ("never", None, "new", "applied"),
        ("never", "old", "new", "skipped"),
        ("never", "same", "same", "none"),
        ("always", "old", "new", "applied"),
        ("always", KV, "literal", "applied"),
        ("unless-key-vault", "old", "new", "applied"),
        ("unless-key-vault", KV, "literal", "skipped"),
        ("unless-key-vault", KV, KV.replace("db", "db2"), "applied"),
        ("never", KV, "literal", "skipped"),
    ],
)
def test_replace_policies(policy: str, previous: str | None, value: str, outcome: str) -> None:
    change = user(value, policy)
    current = CurrentConfig(app_settings={"DB": previous} if previous else {}, site_config={})
    applied = concrete_changes([change], current, force=False)
    skipped = skipped_changes([change], current)
    actual = "applied" if applied else "skipped" if skipped else "none"
    assert actual == outcome


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_key_vault_reference_is_never_replaced_by_a_literal(overwrite: bool) -> None:
    """Files, pyproject.toml and the command line alike, with or without --overwrite; another
    Key Vault reference replaces it only as a literal would replace a literal."""
    literal = "Server=tcp:literal;Password=never-shown-1"
    other_reference = KV.replace("db", "db2")
    explicit = (AppSetting(key="CLI_DB", value=literal, source="command line"),)
    files = (
        local_file({"FILE_DB": literal, "NEW_REF": other_reference}),
        SettingsFile(
            path=Path("prod.env"),
            name="prod.env",
            values={},
            connection_strings={"Orders": ConnectionString(value=literal, type="SQLAzure")},
        ),
    )
    request = SettingsRequest(files=files, overwrite=overwrite)
    wanted = plan_settings(MANAGED, explicit, request, model="v2").changes
    current = CurrentConfig(
        app_settings={"FILE_DB": KV, "CLI_DB": KV, "NEW_REF": KV},
        site_config={},
        connection_strings={"Orders": ConnectionString(value=KV, type="SQLAzure")},
    )
    applied = {c.change.label for c in concrete_changes(wanted, current, force=False)}
    skipped = skipped_changes(wanted, current)
    kept = {item.change.label for item in skipped}
    assert kept == {"FILE_DB", "CLI_DB", "connection string Orders"} | (
        set() if overwrite else {"NEW_REF"}
    )
    assert ("NEW_REF" in applied) is overwrite
    assert not kept & applied
    for item in skipped:
        line = item.kept()
        assert line.startswith(f"kept {item.change.label}: the app's value is a Key Vault")
        assert KV not in line and literal not in line


def test_a_kept_literal_names_the_key_and_overwrite() -> None:
    change = user("new-value-1", "never")
    current = CurrentConfig(app_settings={"DB": "old-value-2"}, site_config={})
    (item,) = skipped_changes([change], current)
    assert item.kept() == "kept DB: the app has another value; --overwrite replaces it"


def test_a_user_pin_is_applied_over_the_apps_tilde_version() -> None:
    pinned = SettingChange(
        scope="app setting",
        key="FUNCTIONS_EXTENSION_VERSION",
        action="ensure",
        value="4.25.3",
        reason="pinned",
        source="command line",
    )
    current = CurrentConfig(app_settings={"FUNCTIONS_EXTENSION_VERSION": "~4"}, site_config={})
    assert concrete_changes([pinned], current, force=False)
    managed = ensure("FUNCTIONS_EXTENSION_VERSION", "~4", "Functions 4")
    pinned_app = CurrentConfig(
        app_settings={"FUNCTIONS_EXTENSION_VERSION": "4.25.3"}, site_config={}
    )
    assert not concrete_changes([managed], pinned_app, force=False)


# --- configuration ------------------------------------------------------------------------


def test_pyproject_app_settings_and_cli_precedence(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.funcpub]\n"
        'build = "none"\n'
        "[tool.funcpub.app-settings]\n"
        "FUNCTIONS_WORKER_PROCESS_COUNT = 4\n"
        "PYTHON_ENABLE_WORKER_EXTENSIONS = true\n"
        'QUEUE_NAME = "orders"\n',
        encoding="utf-8",
    )
    options = resolve_options(
        "publish",
        tmp_path,
        {},
        {},
        app_settings=["functions_worker_process_count=8", "API_TOKEN=planted-token-value"],
    )
    settings = {s.key: (s.value, s.source) for s in options.app_settings}
    assert settings == {
        "FUNCTIONS_WORKER_PROCESS_COUNT": ("8", "command line"),
        "PYTHON_ENABLE_WORKER_EXTENSIONS": ("true", "pyproject.toml"),
        "QUEUE_NAME": ("orders", "pyproject.toml"),
        "API_TOKEN": ("planted-token-value", "command line"),
    }
    summary = {key: (value, source) for key, value, source in options.summary()}
    assert summary["app-setting QUEUE_NAME"] == ("orders", "pyproject.toml")
    assert summary["app-setting API_TOKEN"] == (MASK, "command line")
    assert options.build == "none"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("FUNCTIONS_WORKER_PROCESS_COUNT = 11", "must be a whole number 1-10, got '11'"),
        ("PYTHON_THREADPOOL_THREAD_COUNT = 0", "must be a whole number 1 or more"),
        ('PYTHON_ENABLE_WORKER_EXTENSIONS = "yes"', "must be 0, 1, true or false"),
        ("RATIO = 0.5", "must be a string, number or boolean"),
        ('"Bad:Name" = "x"', "contains ':'"),
        ('EMPTY = ""', "has an empty value"),
    ],
)
def test_pyproject_app_setting_errors(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.funcpub.app-settings]\n{table}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=message) as info:
        resolve_options("publish", tmp_path, {}, {})
    assert info.value.exit_code == 2


def test_cli_app_setting_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        resolve_options("publish", tmp_path, {}, {}, app_settings=["NO_EQUALS"])
    with pytest.raises(ConfigError, match="1-10"):
        resolve_options(
            "publish", tmp_path, {}, {}, app_settings=["FUNCTIONS_WORKER_PROCESS_COUNT=0"]
        )


def test_app_settings_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.funcpub]\napp-settings = "x"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="must be a table"):
        resolve_options("publish", tmp_path, {}, {})


# --- the command line, offline (dry runs) -------------------------------------------------

HELLO = Path(__file__).parents[2] / "examples" / "hello"
PLANTED_SECRET = "Planted-Secret-Value-31337"
PLANTED_PLAIN = "planted-plain-value-xyz"


def hello_with_local_settings(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(HELLO, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    values = {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "DB_PASSWORD": PLANTED_SECRET,
        "SERVICE_URL": PLANTED_PLAIN,
    }
    (app / "local.settings.json").write_text(json.dumps({"Values": values}), encoding="utf-8")
    return app


@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "text"])
def test_dry_run_shows_masked_local_settings(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    json_mode: bool,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # table cells unwrapped
    app = hello_with_local_settings(tmp_path)
    argv = ["publish", "my-app", str(app), "--build", "none", "--dry-run"]
    argv += ["--publish-local-settings", "--app-setting", "FUNCTIONS_WORKER_PROCESS_COUNT=3"]
    code = run([*argv, "--json"] if json_mode else argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    for planted in (PLANTED_SECRET, PLANTED_PLAIN, "UseDevelopmentStorage=true"):
        assert planted not in out + err
    assert "not publishing AzureWebJobsStorage from local.settings.json: local only" in err
    if json_mode:
        planned = {c["key"]: c["value"] for c in json.loads(out)["setting_changes"]}
        assert planned["DB_PASSWORD"] == MASK
        assert planned["SERVICE_URL"] == short_hash(PLANTED_PLAIN)
        assert planned["FUNCTIONS_WORKER_PROCESS_COUNT"] == "3"
    else:
        assert "DB_PASSWORD" in out
        assert short_hash(PLANTED_PLAIN) in out
        assert "only if the app has none" in out


def test_a_refused_connection_string_is_named_as_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app = tmp_path / "app"
    shutil.copytree(HELLO, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    local = {"Values": {}, "ConnectionStrings": {"Orders": "Server=localhost;Database=orders"}}
    (app / "local.settings.json").write_text(json.dumps(local), encoding="utf-8")
    argv = ["publish", "my-app", str(app), "--build", "none", "--dry-run"]
    code = run([*argv, "--publish-local-settings"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "not publishing connection string Orders from local.settings.json" in err


def test_publish_local_settings_needs_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app = tmp_path / "app"
    shutil.copytree(HELLO, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (app / "local.settings.json").unlink()
    code = run(["publish", "my-app", str(app), "--publish-local-settings", "--dry-run"])
    assert code == 2
    assert "there is no local.settings.json" in capsys.readouterr().err
    code = run(["publish", "my-app", str(app), "--settings-file", str(tmp_path / "no.env")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


# --- the diff, offline --------------------------------------------------------------------


def test_diff_statuses_and_actions() -> None:
    files = (
        local_file(
            {
                "new_key": "value-one-1",
                "FLAG": "1",
                "CHANGED": "value-new-2",
                "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            }
        ),
    )
    request = SettingsRequest(files=files)
    planned = plan_settings(MANAGED, (), request, model="v2")
    azure = {
        "FLAG": "true",
        "changed": "value-old-3",
        "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountKey=k",
        "ONLY_AZURE": KV,
    }
    remote = RemoteSettings(
        display="my-app",
        app_settings=azure,
        sticky=frozenset({"FLAG"}),
        connection_strings={},
        sticky_connection_strings=frozenset(),
    )
    diff = diff_settings(
        remote,
        wanted=user_values((), files),
        wanted_connection_strings={},
        planned=planned,
        model="v2",
    )
    found = {entry.key: entry for entry in diff.entries}
    assert (found["new_key"].status, found["new_key"].publish) == ("added", "add")
    assert (found["FLAG"].status, found["FLAG"].publish) == ("unchanged", "none")
    assert found["FLAG"].sticky is True
    assert (found["CHANGED"].status, found["CHANGED"].publish) == ("changed", "skip")
    assert found["CHANGED"].azure == short_hash("value-old-3")
    assert found["AzureWebJobsStorage"].publish == "refuse"
    only = found["ONLY_AZURE"]
    assert (only.status, only.publish, only.key_vault_reference) == ("removed", "keep", True)
    assert [e.status for e in diff.entries] == [
        "added",
        "changed",
        "changed",
        "removed",
        "unchanged",
    ]
    assert diff.to_dict()["summary"] == {"added": 1, "changed": 2, "removed": 1, "unchanged": 1}


def test_names_match_ignoring_case_and_keep_the_apps_spelling() -> None:
    change = SettingChange(
        scope="app setting",
        key="QUEUE_NAME",
        action="ensure",
        value="orders-v2",
        reason="test",
        source="command line",
    )
    current = CurrentConfig(app_settings={"queue_name": "orders", "OTHER": "x"}, site_config={})
    applied = concrete_changes([change], current, force=False)
    assert [c.previous for c in applied] == ["orders"]
    assert merged_app_settings(current.app_settings, applied) == {
        "queue_name": "orders-v2",
        "OTHER": "x",
    }
