"""How a package reaches the app on each hosting plan, against the emulator (and Azurite).

Linux Consumption (Y1) with a package built here: the zip goes to the app's storage account
(Azurite: a connection string with the account key, or identity-based with the signed-in
identity's Entra token) and `WEBSITE_RUN_FROM_PACKAGE` names it; the emulated site fetches the
package from that URL and its function answers. Flex Consumption (FC1): OneDeploy with a bearer
token, a deployment id in the answer and a transient 404 before it can be polled.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import stat
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from funcpub.deploy import DeployResult
from funcpub.deploy.delivery import onedeploy_endpoint
from funcpub.deploy.kudu import LogFollower, scm_client, upload_zip, wait_for_deployment
from funcpub.deploy.timing import SYSTEM_CLOCK
from funcpub.emulator import Emulator
from funcpub.emulator.records import PlanSku
from funcpub.errors import AuthError, DeployError
from tests.azurite_fixtures import Azurite
from tests.clirun import invoke
from tests.e2e.test_deploy_emulator import FAST, HELLO, Recorder, package, run
from tests.emulator_fixtures import Kudu

pytestmark = pytest.mark.emulator
GREETING = "Hello, funcpub!"


def answers(emulator: Emulator, result: DeployResult, slot: str | None = None) -> str:
    """The body of the deployed HTTP function, called with the function key."""
    site = emulator.site(result.app_name, slot)
    [function] = [f for f in result.functions if f.name == "hello"]
    response = requests.get(
        function.url or "",
        params={"name": "funcpub", "code": site.function_key},
        verify=str(emulator.ca_bundle),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text


def without_setting(emulator: Emulator, name: str, key: str) -> None:
    """Drop an app setting the emulator created the app with."""
    settings = {k: v for k, v in emulator.site(name).app_settings.items() if k != key}
    emulator.context.store.update_site(
        name, lambda site: dataclasses.replace(site, app_settings=settings)
    )


def signature(url: str) -> str:
    return parse_qs(urlsplit(url).query)["sig"][0]


# --- Linux Consumption: run from package ----------------------------------------------------


@pytest.mark.azurite
@pytest.mark.parametrize("slot", [None, "staging"])
def test_consumption_runs_the_package_from_blob_storage(
    storage_emulator: Emulator, azurite: Azurite, tmp_path: Path, slot: str | None
) -> None:
    name = f"y1-{uuid.uuid4().hex[:8]}"
    storage_emulator.create_app(
        name, plan="Y1", app_settings={"AzureWebJobsStorage": azurite.connection_string}
    )
    if slot:
        storage_emulator.create_slot(name, slot)
    plan, artifact = package(HELLO, tmp_path, name, **({"slot": slot} if slot else {}))
    recorder = Recorder()

    result = run(storage_emulator, plan, artifact, reporter=recorder)

    site = storage_emulator.site(name, slot)
    url = site.app_settings["WEBSITE_RUN_FROM_PACKAGE"]
    assert url.startswith(f"{azurite.blob_endpoint}/function-releases/{result.deployment_id}?")
    assert "sp=r" in url  # read only
    assert GREETING in answers(storage_emulator, result, slot)
    assert site.active_deployment is None  # no Kudu deployment took place
    assert any("Linux Consumption (Y1): upload to the app's storage" in s for s in recorder.steps)
    assert signature(url) in recorder.secrets and signature(url) not in recorder.text()
    shown = [c.shown for c in result.applied_changes if c.key == "WEBSITE_RUN_FROM_PACKAGE"]
    assert shown == ["***"]
    function_app = site.wwwroot / "function_app.py"
    assert not function_app.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def publish_twice(emulator: Emulator, tmp_path: Path, name: str) -> list[DeployResult]:
    """Publish hello, call it (its host now runs), change the greeting, publish again: the
    function must answer with the new code though funcpub never restarts the app itself."""
    app = tmp_path / "app"
    shutil.copytree(HELLO, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    first = run(emulator, *package(app, tmp_path / "1", name))
    assert GREETING in answers(emulator, first)
    greeting = app / "shared" / "greeting.py"
    greeting.write_text(greeting.read_text(encoding="utf-8").replace("Hello", "Hi"), "utf-8")
    second = run(emulator, *package(app, tmp_path / "2", name))
    answer = answers(emulator, second)
    assert "Hi, funcpub!" in answer and GREETING not in answer
    return [first, second]


@pytest.mark.azurite
def test_consumption_runs_the_new_package_after_a_redeploy(
    storage_emulator: Emulator, azurite: Azurite, tmp_path: Path
) -> None:
    """Each publish uploads a blob of a new name, so WEBSITE_RUN_FROM_PACKAGE changes, and
    that settings change restarts the app, which fetches the new package."""
    name = "y1-redeploy"
    settings = {"AzureWebJobsStorage": azurite.connection_string}
    storage_emulator.create_app(name, plan="Y1", app_settings=settings)
    first, second = publish_twice(storage_emulator, tmp_path, name)
    assert first.deployment_id != second.deployment_id, "a new blob name each time"
    url = storage_emulator.site(name).app_settings["WEBSITE_RUN_FROM_PACKAGE"]
    assert url.startswith(f"{azurite.blob_endpoint}/function-releases/{second.deployment_id}?")


@pytest.mark.parametrize("sku", ["EP1", "FC1"])
def test_a_redeploy_runs_the_new_code(emulator: Emulator, tmp_path: Path, sku: PlanSku) -> None:
    """Kudu's zipdeploy and Flex's OneDeploy restart the host with the new content."""
    name = f"redeploy-{sku.lower()}"
    emulator.create_app(name, plan=sku)
    first, second = publish_twice(emulator, tmp_path, name)
    assert first.deployment_id != second.deployment_id


@pytest.mark.azurite
def test_identity_based_storage_uploads_with_the_entra_token(
    storage_emulator: Emulator, azurite: Azurite, tmp_path: Path
) -> None:
    storage_emulator.create_app("y1-identity", plan="Y1", app_settings=azurite.identity_settings())
    without_setting(storage_emulator, "y1-identity", "AzureWebJobsStorage")
    plan, artifact = package(HELLO, tmp_path, "y1-identity")

    result = run(storage_emulator, plan, artifact)

    settings_after = storage_emulator.site("y1-identity").app_settings
    url = settings_after["WEBSITE_RUN_FROM_PACKAGE"]
    assert url == f"{azurite.blob_endpoint}/function-releases/{result.deployment_id}"
    assert settings_after["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"] == "SystemAssigned"
    assert GREETING in answers(storage_emulator, result)


@pytest.mark.azurite
def test_a_wrong_account_key_uploads_nothing(
    storage_emulator: Emulator, azurite: Azurite, tmp_path: Path
) -> None:
    """A wrong key uploads nothing: the storage account's refusal is the error."""
    wrong = azurite.connection_string.replace("AccountKey=Eby8", "AccountKey=Xby8")
    storage_emulator.create_app(
        "y1-wrong-key", plan="Y1", app_settings={"AzureWebJobsStorage": wrong}
    )
    plan, artifact = package(HELLO, tmp_path, "y1-wrong-key")
    with pytest.raises(AuthError, match="refused the package upload: HTTP 40") as info:
        run(storage_emulator, plan, artifact)
    assert "settings already changed in Azure" in str(info.value)
    assert "WEBSITE_RUN_FROM_PACKAGE" not in storage_emulator.site("y1-wrong-key").app_settings


def test_consumption_without_storage_is_refused_before_any_upload(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("y1-nostorage", plan="Y1")
    without_setting(emulator, "y1-nostorage", "AzureWebJobsStorage")
    plan, artifact = package(HELLO, tmp_path, "y1-nostorage")
    with pytest.raises(DeployError, match="has no AzureWebJobsStorage") as info:
        run(emulator, plan, artifact)
    assert "--build remote" in (info.value.hint or "")


# --- Flex Consumption: OneDeploy -------------------------------------------------------------


def test_flex_publishes_with_onedeploy(emulator: Emulator, tmp_path: Path) -> None:
    site = emulator.create_app("flex-app", plan="FC1")
    plan, artifact = package(HELLO, tmp_path, "flex-app")
    recorder = Recorder()

    result = run(emulator, plan, artifact, reporter=recorder)

    assert uuid.UUID(result.deployment_id).version == 4  # Flex's dashed id, from the 202
    assert GREETING in answers(emulator, result)
    after = emulator.site("flex-app").app_settings
    assert "FUNCTIONS_WORKER_RUNTIME" not in after and "SCM_DO_BUILD_DURING_DEPLOYMENT" not in after
    assert after == site.app_settings
    assert any("POST /api/publish?RemoteBuild=false" in step for step in recorder.steps)
    assert not any("Basic" in warning for warning in recorder.warnings)


def test_flex_refuses_basic_auth_and_zipdeploy(emulator: Emulator, hello_zip: Path) -> None:
    kudu = Kudu(emulator.create_app("flex-basic", plan="FC1"), str(emulator.ca_bundle))
    with hello_zip.open("rb") as body:
        assert (
            kudu.post("/api/publish", params={"RemoteBuild": "false"}, data=body).status_code == 401
        )
    assert kudu.push(hello_zip).status_code == 404


def test_flex_remote_build(emulator: Emulator, hello_zip: Path, wheelhouse: Path) -> None:
    """RemoteBuild=true makes the Flex site run the Oryx build (offline: the app's pip settings
    point at the wheelhouse); the record answers 404 for a moment after the 202."""
    offline = {"PIP_NO_INDEX": "true", "PIP_FIND_LINKS": str(wheelhouse)}
    site = emulator.create_app("flex-remote", plan="FC1", app_settings=offline)
    token = emulator.issue_token()
    assert onedeploy_endpoint("remote") == "/api/publish?RemoteBuild=true&Deployer=funcpub"
    with scm_client(
        site.scm_host,
        bearer=lambda: token,
        basic=lambda: None,
        verify=str(emulator.ca_bundle),
        timing=FAST,
    ) as scm:
        receipt = upload_zip(
            scm,
            hello_zip,
            timing=FAST,
            clock=SYSTEM_CLOCK,
            on_progress=lambda _sent, _total: None,
            endpoint=onedeploy_endpoint("remote"),
        )
        assert receipt.deployment_id is not None
        first = scm.request("GET", f"/api/deployments/{receipt.deployment_id}")
        assert first.status_code == 404  # the transient 404 right after the 202
        lines: list[str] = []
        logs = LogFollower(scm, receipt.deployment_id, lines.append)
        record = wait_for_deployment(
            scm, receipt.deployment_id, timeout=60, timing=FAST, clock=SYSTEM_CLOCK, logs=logs
        )
    assert record.status == 4 and record.deployer == "funcpub"
    assert any("Running oryx build..." in line for line in lines)
    assert any("Successfully installed" in line and "azure-functions" in line for line in lines)


def test_flex_has_no_slots(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("flex-slots", plan="FC1")
    with pytest.raises(ValueError, match="no deployment slots"):
        emulator.create_slot("flex-slots", "staging")
    plan, artifact = package(HELLO, tmp_path, "flex-slots", slot="staging")
    with pytest.raises(DeployError, match="Flex Consumption \\(FC1\\) have no deployment slots"):
        run(emulator, plan, artifact)


def test_flex_python_mismatch_is_refused(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("flex-py312", plan="FC1", python="3.12")
    plan, artifact = package(HELLO, tmp_path, "flex-py312")
    with pytest.raises(DeployError, match=re.escape("runs Python 3.12")) as info:
        run(emulator, plan, artifact)
    assert info.value.hint == "build for the app with --python-version 3.12"


def test_flex_refuses_settings_it_does_not_support(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("flex-settings", plan="FC1")
    plan, artifact = package(HELLO, tmp_path, "flex-settings")
    plan = dataclasses.replace(
        plan,
        setting_changes=(
            *plan.setting_changes,
            dataclasses.replace(plan.setting_changes[0], source="command line", value="python"),
        ),
    )
    with pytest.raises(DeployError, match="FUNCTIONS_WORKER_RUNTIME \\(from command line\\)"):
        run(emulator, plan, artifact)


# --- Premium / Dedicated ---------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["EP1", "P1v3"])
def test_premium_and_dedicated_slots_use_zipdeploy(
    emulator: Emulator, tmp_path: Path, sku: str
) -> None:
    name = f"zip-{sku.lower()}"
    emulator.create_app(name, plan=sku)  # type: ignore[arg-type]
    emulator.create_slot(name, "staging")
    plan, artifact = package(HELLO, tmp_path, name, slot="staging")
    result = run(emulator, plan, artifact)
    assert emulator.site(name, "staging").active_deployment == result.deployment_id
    assert emulator.site(name).active_deployment is None
    assert GREETING in answers(emulator, result, "staging")


@pytest.mark.azurite
def test_the_sas_is_never_printed(
    storage_emulator: Emulator,
    azurite: Azurite,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`funcpub publish` to a Consumption app, plain and --json: the SAS appears nowhere."""
    storage_emulator.create_app(
        "y1-cli", plan="Y1", app_settings={"AzureWebJobsStorage": azurite.connection_string}
    )
    for name, value in storage_emulator.client_env().items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    signatures, outputs = [], []
    for json_flag in ([], ["--json"]):
        code, out, err = invoke(
            capsys, "publish", "y1-cli", str(HELLO), "--build", "none", "-o",
            str(tmp_path / f"y1{len(json_flag)}.zip"), *json_flag,
        )  # fmt: skip
        assert code == 0, err
        url = storage_emulator.site("y1-cli").app_settings["WEBSITE_RUN_FROM_PACKAGE"]
        signatures.append(signature(url))
        outputs += [out, err]
    assert len(set(signatures)) == 2  # each publish uploads and signs a new package
    assert '"value": "***"' in outputs[2]  # the --json applied change, masked
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for secret in signatures:
        assert all(secret not in text for text in [*outputs, logs])
