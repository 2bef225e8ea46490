"""Secrets: planted everywhere a user keeps them, found nowhere funcpub writes.

Known values go into the environment (service principal, certificate password, storage
connection string, pip index), local.settings.json, requirements.txt index URLs and the
target app's settings. Then every command runs - validate, pack, publish --dry-run, publish to a
served emulator, publish --emulator, a publish that fails to sign in, emulator create-app,
settings diff, push and undo, `funcpub lock` and local builds against password-protected
private indexes, cache list and clear - with and without --json, and every byte it wrote is
searched: stdout, stderr, log records, the zips, the JSON documents, the undo record, the locks
and the files the app got in Azure. Tokens are searched by their shape.
Remote builds are in it (an app whose PIP_INDEX_URL setting holds a password; a requirements
index credential refused for a remote build by FP209), and Linux Consumption's run from package
(the storage account key and every package SAS). Docker builds' index credentials are checked
by tests/e2e/test_docker_build.py::test_secrets_stay_out_of_the_output_and_the_image.

The emulator refusing wrong audiences, expired or forged tokens and Basic auth when the policy
disallows it is tested in tests/emulator (test_arm.py::test_appservice_audience_is_refused_by_arm,
test_bad_tokens_get_arm_401s, test_kudu.py::test_bad_bearer_tokens_get_empty_401s,
test_basic_auth_allowed_then_disabled, test_entra.py::test_bad_assertions_are_refused).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from funcpub.emulator import Emulator
from tests.azurite_fixtures import ACCOUNT_KEY, Azurite
from tests.index_server import private_index
from tests.reliability.helpers import (
    HELLO,
    ROOT,
    Outcome,
    copy_app,
    invoke,
    tree_contents,
    use_emulator,
    zip_contents,
)

pytestmark = pytest.mark.emulator

PLANTED_ENV = {
    "AZURE_CLIENT_CERTIFICATE_PASSWORD": "PLANTED-certificate-password",
    "AZURE_STORAGE_CONNECTION_STRING": (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=PLANTED-account-key=="
    ),
    "PIP_EXTRA_INDEX_URL": "https://user:PLANTED-pip-password@pkgs.invalid/simple",
    "GITHUB_TOKEN": "PLANTED-github-token",
}
LOCAL_VALUES = {
    "FUNCTIONS_WORKER_RUNTIME": "python",
    "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountKey=PLANTED-local-key==",
    "MY_API_KEY": "PLANTED-local-api-key",
    "SAS_URL": "https://acct.blob.core.windows.net/c/p.zip?sv=2022-11-02&sig=PLANTED-sas",
}
LOCAL_SETTINGS = {
    "IsEncrypted": False,
    "Values": LOCAL_VALUES,
    "ConnectionStrings": {"Db": "Server=db;Password=PLANTED-local-db-password"},
}
INDEX_PASSWORD = "PLANTED-index-password"
APP_SETTINGS = {
    "DB_PASSWORD": "PLANTED-app-db-password",
    "PACKAGE_SAS": "https://acct.blob.core.windows.net/c/app.zip?sv=2022&sig=PLANTED-app-sas",
    "UPSTREAM": "https://svc:PLANTED-app-url-password@api.invalid/",
}
REMOTE_INDEX_PASSWORD = "PLANTED-remote-index-password"
# A private index (tests/index_server.py) for `funcpub lock` and local builds: its password as
# a ${VARIABLE} of requirements.in, in UV_INDEX_URL, and written out in requirements.in.
LOCK_INDEX_PASSWORD = "PLANTED-lock-index-password"
ENV_INDEX_PASSWORD = "PLANTED-env-index-password"
LITERAL_INDEX_PASSWORD = "PLANTED-literal-index-password"
BUILD_PASSWORDS = (LOCK_INDEX_PASSWORD, ENV_INDEX_PASSWORD, LITERAL_INDEX_PASSWORD)


def remote_build_settings(wheelhouse: Path) -> dict[str, str]:
    """An app whose remote build (Oryx's pip) has a password in its index URL; offline."""
    return {
        **APP_SETTINGS,
        "PIP_INDEX_URL": f"http://deployer:{REMOTE_INDEX_PASSWORD}@127.0.0.1:9/simple",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
    }


JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


def planted_app(tmp_path: Path) -> Path:
    app = copy_app(HELLO, tmp_path / "app")
    (app / "local.settings.json").write_text(json.dumps(LOCAL_SETTINGS), encoding="utf-8")
    (app / "requirements.txt").write_text(
        f"--extra-index-url https://user:{INDEX_PASSWORD}@pkgs.invalid/simple\nazure-functions\n",
        encoding="utf-8",
    )
    return app


def planted_values(emulator: Emulator, app: str) -> set[str]:
    """Every secret this test knows of, the emulator's own included."""
    site = emulator.site(app)
    return {
        *PLANTED_ENV.values(),
        *(v.split("=", 1)[-1] for v in PLANTED_ENV.values()),
        *LOCAL_VALUES.values(),
        "PLANTED-local-db-password",
        INDEX_PASSWORD,
        REMOTE_INDEX_PASSWORD,
        *BUILD_PASSWORDS,
        *APP_SETTINGS.values(),
        "PLANTED-app-url-password",
        emulator.client_secret,
        site.publishing_password,
        site.master_key,
        site.function_key,  # shown only with --show-keys, which this test never passes
    } - {"python"}


def leaks(text: str, secrets: set[str]) -> list[str]:
    found = [secret for secret in secrets if secret and secret in text]
    found += [f"a token: {match[:20]}..." for match in JWT.findall(text)]
    found += [f"a planted value: {m}" for m in re.findall(r"PLANTED-[\w-]+", text)]
    return found


def test_no_secret_appears_anywhere(
    shared_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    wheelhouse: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator = shared_emulator
    emulator.create_app("secret-app", app_settings=APP_SETTINGS)
    emulator.create_app("secret-remote", app_settings=remote_build_settings(wheelhouse))
    app = planted_app(tmp_path)
    # A remote build needs its requirements as written (FP209 refuses credentials in them).
    remote_app = copy_app(app, tmp_path / "remote-app")
    (remote_app / "requirements.txt").write_text("azure-functions\n", encoding="utf-8")
    use_emulator(emulator, monkeypatch)
    for key, value in PLANTED_ENV.items():
        monkeypatch.setenv(key, value)
    secrets = planted_values(emulator, "secret-app") | planted_values(emulator, "secret-remote")
    publish = ["publish", "secret-app", str(app), "--build", "none"]
    runs: dict[str, Outcome] = {}
    for json_flag in ([], ["--json"]):
        tag = "-json" if json_flag else ""
        runs[f"validate{tag}"] = invoke(capsys, "validate", str(app), *json_flag)
        runs[f"pack{tag}"] = invoke(
            capsys, "pack", str(app), "--build", "none", "-o", str(tmp_path / f"pack{tag}.zip"),
            *json_flag,
        )  # fmt: skip
        runs[f"dry-run{tag}"] = invoke(capsys, *publish, "--dry-run", *json_flag)
        runs[f"publish{tag}"] = invoke(
            capsys, *publish, "-o", str(tmp_path / f"publish{tag}.zip"), *json_flag
        )
        runs[f"publish-remote-build{tag}"] = invoke(
            capsys, "publish", "secret-remote", str(remote_app), "-o",
            str(tmp_path / f"remote{tag}.zip"), *json_flag,
        )  # fmt: skip
    runs |= _settings_runs(capsys, app, secrets)
    runs |= _build_runs(capsys, monkeypatch, tmp_path, wheelhouse, secrets)
    runs["publish-embedded-emulator"] = invoke(
        capsys, "publish", "embedded-app", str(app), "--build", "none", "--emulator", "--json",
    )  # fmt: skip
    runs["emulator-create-app"] = invoke(
        capsys, "emulator", "create-app", "created-app", "--data-dir", str(tmp_path / "data")
    )
    runs["publish-remote-with-index-credentials"] = invoke(
        capsys, "publish", "secret-remote", str(app)
    )
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "PLANTED-wrong-client-secret")
    runs["publish-refused"] = invoke(capsys, *publish)

    expected = {"publish-refused": 7, "publish-remote-with-index-credentials": 3}
    for name, outcome in runs.items():
        assert outcome.code == expected.get(name, 0), f"{name}: {outcome.err}"
        assert leaks(outcome.text, secrets) == [], f"{name} printed a secret"
    assert "FP209" in runs["validate"].out, "the index password is reported, masked"
    assert "error FP209" in runs["publish-remote-with-index-credentials"].out
    assert "Successfully installed" in runs["publish-remote-build"].err, "Oryx's pip ran"
    for name in ("dry-run-json", "publish-json", "pack-json", "validate-json", "settings-push"):
        json.loads(runs[name].out)  # each --json document is whole
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("funcpub.emulator")  # the server side
    )
    assert leaks(logged, secrets) == [], "a log record holds a secret"
    for package in tmp_path.glob("*.zip"):
        contents = zip_contents(package)
        assert "local.settings.json" not in contents
        assert leaks(b"\n".join(contents.values()).decode("utf-8", "replace"), secrets) == []
    for name in ("secret-app", "secret-remote"):
        deployed = tree_contents(emulator.site(name).wwwroot.resolve())
        text = b"\n".join(deployed.values()).decode("utf-8", "replace")
        assert leaks(text, secrets) == [], f"{name}'s files hold a secret"


@pytest.mark.azurite
def test_the_package_sas_and_the_account_key_appear_nowhere(
    storage_emulator: Emulator,
    azurite: Azurite,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Linux Consumption run from package: the storage key and each package's SAS stay hidden."""
    caplog.set_level(logging.DEBUG)
    settings = {**APP_SETTINGS, "AzureWebJobsStorage": azurite.connection_string}
    storage_emulator.create_app("secret-y1", plan="Y1", app_settings=settings)
    app = planted_app(tmp_path)
    use_emulator(storage_emulator, monkeypatch)
    texts, signatures = [], set()
    for json_flag in ([], ["--json"]):
        outcome = invoke(
            capsys, "publish", "secret-y1", str(app), "--build", "none",
            "-o", str(tmp_path / f"y1{len(json_flag)}.zip"), *json_flag,
        )  # fmt: skip
        assert outcome.code == 0, outcome.err
        texts.append(outcome.text)
        url = storage_emulator.site("secret-y1").app_settings["WEBSITE_RUN_FROM_PACKAGE"]
        signatures |= {urlsplit(url).query, parse_qs(urlsplit(url).query)["sig"][0]}
    secrets = planted_values(storage_emulator, "secret-y1") | signatures | {ACCOUNT_KEY}
    # The emulated site fetching its package is Azure's side: its request threads are not funcpub.
    logged = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if "process_request_thread" not in (record.threadName or "")
    ]
    assert any("function-releases" in text for text in logged), "the upload was logged"
    for text in (*texts, *logged):
        assert leaks(text, secrets) == [], text
    for package in tmp_path.glob("y1*.zip"):
        contents = b"\n".join(zip_contents(package).values()).decode("utf-8", "replace")
        assert leaks(contents, secrets) == []


def _settings_runs(
    capsys: pytest.CaptureFixture[str], app: Path, secrets: set[str]
) -> dict[str, Outcome]:
    """`settings diff`, `push` (local.settings.json: Values and ConnectionStrings) and `undo`;
    the undo record holds none of the planted values either."""
    push = ["settings", "push", "secret-app", str(app), "--publish-local-settings"]
    undo = ["settings", "undo", "secret-app", str(app)]
    runs: dict[str, Outcome] = {}
    for json_flag in ([], ["--json"]):
        tag = "-json" if json_flag else ""
        runs[f"settings-diff{tag}"] = invoke(
            capsys, "settings", "diff", "secret-app", str(app), *json_flag
        )
        runs[f"settings-push-dry-run{tag}"] = invoke(capsys, *push, "--dry-run", *json_flag)
    runs["settings-push"] = invoke(capsys, *push, "--json")
    record = Path(json.loads(runs["settings-push"].out)["undo_record"])
    assert leaks(record.read_text(encoding="utf-8"), secrets) == [], "the undo record leaks"
    runs["settings-undo-dry-run"] = invoke(capsys, *undo, "--dry-run")
    runs["settings-undo"] = invoke(capsys, *undo, "--json")
    return runs


def _build_runs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    wheelhouse: Path,
    secrets: set[str],
) -> dict[str, Outcome]:
    """`funcpub lock` and a local build from the lock against private indexes whose password
    is a ${VARIABLE} of requirements.in or in UV_INDEX_URL (a literal one: the lock only), then
    `cache list` (text and --json) and `cache clear`. The locks hold no password either."""
    runs: dict[str, Outcome] = {}
    locks: dict[str, str] = {}
    with (
        private_index(wheelhouse, "locker", LOCK_INDEX_PASSWORD) as spelled_url,
        private_index(wheelhouse, "ci", ENV_INDEX_PASSWORD) as env_url,
        private_index(wheelhouse, "dev", LITERAL_INDEX_PASSWORD) as literal,
    ):
        monkeypatch.setenv("PRIVATE_INDEX_PASSWORD", LOCK_INDEX_PASSWORD)
        spelled = spelled_url.replace(LOCK_INDEX_PASSWORD, "${PRIVATE_INDEX_PASSWORD}")
        sources = {"spelled": f"--index-url {spelled}\n", "env": "", "literal": f"-i {literal}\n"}
        for name, index in sources.items():
            app = copy_app(HELLO, tmp_path / f"lock-{name}")
            (app / "requirements.txt").unlink()
            (app / "requirements.in").write_text(f"{index}azure-functions\nalpha\n", "utf-8")
            if name == "env":
                monkeypatch.setenv("UV_INDEX_URL", env_url)
            runs[f"lock-{name}"] = invoke(capsys, "lock", str(app), "-v")
            locks[name] = (app / "requirements.txt").read_text(encoding="utf-8")
            assert leaks(locks[name], secrets) == [], f"the {name} lock holds a password"
            if name != "literal":  # a masked password cannot sign in
                runs[f"pack-local-{name}"] = invoke(
                    capsys, "pack", str(app), "--build", "local", "-v", "--json",
                    "-o", str(tmp_path / f"local-{name}.zip"),
                )  # fmt: skip
            monkeypatch.delenv("UV_INDEX_URL", raising=False)
    # Written as the variables they came from (the builds above installed from these locks).
    assert f"--index-url {spelled}\n" in locks["spelled"]
    assert "--index-url ${UV_INDEX_URL}\n" in locks["env"]
    assert "--index-url http://dev:***@127.0.0.1:" in locks["literal"]
    assert "has a password no environment variable gives" in runs["lock-literal"].err
    for json_flag in ([], ["--json"]):
        runs[f"cache-list{'-json' if json_flag else ''}"] = invoke(
            capsys, "cache", "list", *json_flag
        )
    assert len(json.loads(runs["cache-list-json"].out)) >= 2, "both local builds are cached"
    runs["cache-clear"] = invoke(capsys, "cache", "clear")
    return runs


FORBIDDEN = re.compile(
    r"(connection_)?verify\s*=\s*False|enforce_https\s*=\s*False|CERT_NONE"
    r"|check_hostname\s*=\s*False|disable_warnings|_create_unverified_context"
)
# The emulator's server side serves TLS; it never verifies anyone (clients verify it).
SERVER_SIDE = {"funcpub/emulator/tls.py", "funcpub/emulator/web.py"}


def test_tls_verification_is_never_turned_off() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "funcpub").rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in SERVER_SIDE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []
