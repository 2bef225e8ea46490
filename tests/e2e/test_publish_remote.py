"""`funcpub publish` with a remote build (the default) against the emulator's Kudu and Oryx.

The emulator's Oryx installs requirements.txt with pip; every app here points that pip at the
offline wheelhouse through its own app settings (PIP_NO_INDEX, PIP_FIND_LINKS), never PyPI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from funcpub.emulator import Emulator
from funcpub.emulator.records import PlanSku
from tests.clirun import invoke
from tests.e2e.conftest import ANSWER, REQUIREMENTS

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]

PACKAGES = ".python_packages/lib/site-packages"
PLANTED_SAS = "sv=2022-11-02&sig=PLANTEDsasSIGNATURE0123456789"
PLANTED_INDEX_PASSWORD = "planted-index-secret-42"


def test_publish_builds_remotely_by_default(
    capsys: pytest.CaptureFixture[str], remote_app: Path, offline: dict[str, str]
) -> None:
    settings = [
        arg for key, value in offline.items() for arg in ("--app-setting", f"{key}={value}")
    ]
    code, out, err = invoke(
        capsys, "publish", "remote-app", str(remote_app), "--emulator", *settings
    )
    assert code == 0, err
    assert "  Running oryx build..." in err  # the deployment log, streamed
    assert "Successfully installed" in err
    assert "  Manifest file created." in err
    assert ANSWER in out
    assert not (remote_app / ".python_packages").exists()


@pytest.mark.parametrize("plan", ["EP1", "P1v3"])  # Elastic Premium, Dedicated
def test_the_build_settings_are_fixed_and_no_other_setting_is_lost(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
    ca_bundle: str,
    plan: PlanSku,
) -> None:
    before = {
        **offline,
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "false",  # Core Tools would leave it: pip never runs
        "WEBSITE_RUN_FROM_PACKAGE": "1",
        "BUILD_FLAGS": "Off",
        "UNRELATED": "kept-as-it-is",
    }
    site = client.create_app("fixed-app", app_settings=before, plan=plan)
    before = dict(client.site("fixed-app").app_settings)
    code, out, _ = invoke(capsys, "publish", "fixed-app", str(remote_app), "--dry-run")
    assert code == 0
    for key in ("SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD", "WEBSITE_RUN_FROM_PACKAGE"):
        assert key in out
    code, _, err = invoke(capsys, "publish", "fixed-app", str(remote_app))
    assert code == 0, err
    assert "set SCM_DO_BUILD_DURING_DEPLOYMENT=true (was false)" in err
    assert "set ENABLE_ORYX_BUILD=true (new)" in err
    assert "remove WEBSITE_RUN_FROM_PACKAGE (was 1)" in err
    command = next(line for line in err.splitlines() if "Command: oryx build" in line)
    assert " -i " not in command, "BUILD_FLAGS=Off is the app's own choice, honoured"
    expected = {k: v for k, v in before.items() if k != "WEBSITE_RUN_FROM_PACKAGE"}
    expected |= {"SCM_DO_BUILD_DURING_DEPLOYMENT": "true", "ENABLE_ORYX_BUILD": "true"}
    after = client.site("fixed-app")
    assert after.app_settings == expected
    assert (after.wwwroot / PACKAGES / "alpha").is_dir()
    answer = requests.get(f"{site.app_url}/api/deps", verify=ca_bundle, timeout=30)
    assert answer.text == ANSWER


def test_an_unresolvable_requirement_fails_with_pips_error(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.create_app("failing-app", app_settings=offline)
    (remote_app / "requirements.txt").write_text(REQUIREMENTS + "nosuchpkg==9\n", "utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = invoke(capsys, "publish", "failing-app", str(remote_app))
    assert code == 6
    assert "::group::deployment log" in err  # collapsible in the pipeline's log
    assert "  Running oryx build..." in err
    assert "the remote build failed:\n  ERROR: Could not find a version that satisfies" in err
    assert "  ERROR: No matching distribution found for nosuchpkg==9\nlast log lines:" in err
    assert "fix requirements.txt, or where the app's pip looks for packages" in err
    assert (
        "settings already changed in Azure: SCM_DO_BUILD_DURING_DEPLOYMENT, ENABLE_ORYX_BUILD"
        in err
    )
    assert client.site("failing-app").active_deployment is None


@pytest.mark.parametrize("plan", ["EP1", "P1v3", "Y1"])  # every plan with slots (not FC1)
def test_a_slot_builds_remotely_and_the_app_is_untouched(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
    ca_bundle: str,
    plan: PlanSku,
) -> None:
    client.create_app("slotted-app", app_settings=offline, plan=plan)
    client.create_slot("slotted-app", "staging")
    production = dict(client.site("slotted-app").app_settings)
    code, out, err = invoke(
        capsys, "publish", "slotted-app", str(remote_app), "--slot", "staging", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["slot"] == "staging"
    staging = client.site("slotted-app", "staging")
    assert staging.app_settings["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "true"
    assert (staging.wwwroot / PACKAGES / "fastgreet").is_dir()
    assert client.site("slotted-app").app_settings == production
    assert client.site("slotted-app").active_deployment is None
    answer = requests.get(f"{staging.app_url}/api/deps", verify=ca_bundle, timeout=30)
    assert answer.text == ANSWER


def test_index_credentials_and_sas_urls_are_never_printed(
    capsys: pytest.CaptureFixture[str], client: Emulator, remote_app: Path, wheelhouse: Path
) -> None:
    settings = {
        "PIP_INDEX_URL": f"http://deployer:{PLANTED_INDEX_PASSWORD}@127.0.0.1:9/simple",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "WEBSITE_RUN_FROM_PACKAGE": f"https://st.blob.core.windows.net/c/app.zip?{PLANTED_SAS}",
    }
    client.create_app("secret-app", app_settings=settings)
    for extra in ([], ["--json"]):
        code, out, err = invoke(capsys, "publish", "secret-app", str(remote_app), *extra)
        assert code == 0, err
        for planted in (PLANTED_INDEX_PASSWORD, PLANTED_SAS, "PLANTEDsas"):
            assert planted not in out + err
    assert "WEBSITE_RUN_FROM_PACKAGE" not in client.site("secret-app").app_settings
