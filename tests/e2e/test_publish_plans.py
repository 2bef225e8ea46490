"""`funcpub publish APP` (a remote build, the default) on every Linux plan, through the CLI.

Linux Consumption (Y1) builds through Kudu's zipdeploy and runs the built content read-only (on
Azure from the app's storage); Flex Consumption (FC1) builds through OneDeploy with
`RemoteBuild=true`. Offline: each app's pip settings point at the test wheelhouse. Premium and
Dedicated are in test_publish_remote.py; `--emulator-plan` picks the one-shot emulator's plan.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import requests

from funcpub.emulator import Emulator
from tests.clirun import invoke
from tests.e2e.conftest import ANSWER, REQUIREMENTS
from tests.e2e.test_hosting_plans import without_setting
from tests.e2e.test_publish_remote import PACKAGES

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]
OLD_PACKAGE = "https://stold.blob.core.windows.net/function-releases/old.zip?sv=1&sig=old"


def answer_of(emulator: Emulator, name: str) -> str:
    """The body of the app's `deps` function."""
    url = f"{emulator.site(name).app_url}/api/deps"
    response = requests.get(url, verify=str(emulator.ca_bundle), timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def test_consumption_builds_remotely_through_kudu(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
) -> None:
    """A package URL left by an earlier local publish would bypass the build: it goes."""
    settings = {**offline, "WEBSITE_RUN_FROM_PACKAGE": OLD_PACKAGE, "KEPT": "as-it-is"}
    before = dict(client.create_app("y1-remote", plan="Y1", app_settings=settings).app_settings)
    code, _, err = invoke(capsys, "publish", "y1-remote", str(remote_app))
    assert code == 0, err
    assert "Linux Consumption (Y1): Kudu zipdeploy" in err
    assert "remove WEBSITE_RUN_FROM_PACKAGE (was ***)" in err
    assert "  Running oryx build..." in err and "Successfully installed" in err
    assert "    Resetting all workers for y1-remote" in err
    site = client.site("y1-remote")
    expected = {k: v for k, v in before.items() if k != "WEBSITE_RUN_FROM_PACKAGE"}
    assert site.app_settings == expected | {
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
        "ENABLE_ORYX_BUILD": "true",
    }
    assert (site.wwwroot / PACKAGES / "alpha").is_dir()
    mode = (site.wwwroot / "function_app.py").stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "run from a package"
    assert answer_of(client, "y1-remote") == ANSWER


def test_consumption_without_storage_fails_the_remote_build(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
) -> None:
    client.create_app("y1-nostorage", plan="Y1", app_settings=offline)
    without_setting(client, "y1-nostorage", "AzureWebJobsStorage")
    code, _, err = invoke(capsys, "publish", "y1-nostorage", str(remote_app))
    assert code == 6
    assert "the app has no AzureWebJobsStorage" in err
    assert "settings already changed in Azure: SCM_DO_BUILD_DURING_DEPLOYMENT" in err
    assert client.site("y1-nostorage").active_deployment is None


def test_flex_builds_remotely_with_onedeploy(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
) -> None:
    """Flex builds because the request says so: no build setting is added (Flex refuses them)."""
    before = dict(client.create_app("fc1-remote", plan="FC1", app_settings=offline).app_settings)
    code, _, err = invoke(capsys, "publish", "fc1-remote", str(remote_app))
    assert code == 0, err
    assert "OneDeploy: POST /api/publish?RemoteBuild=true" in err
    assert "the app's settings are already as needed" in err
    assert "  Running oryx build..." in err and "Successfully installed" in err
    site = client.site("fc1-remote")
    assert site.app_settings == before
    assert (site.wwwroot / PACKAGES / "fastgreet").is_dir()
    assert answer_of(client, "fc1-remote") == ANSWER


def test_a_failing_flex_remote_build_quotes_pip(
    capsys: pytest.CaptureFixture[str],
    client: Emulator,
    remote_app: Path,
    offline: dict[str, str],
) -> None:
    client.create_app("fc1-failing", plan="FC1", app_settings=offline)
    (remote_app / "requirements.txt").write_text(REQUIREMENTS + "nosuchpkg==9\n", "utf-8")
    code, _, err = invoke(capsys, "publish", "fc1-failing", str(remote_app))
    assert code == 6
    assert "the remote build failed:\n" in err
    assert "  ERROR: No matching distribution found for nosuchpkg==9\n" in err
    assert "settings already changed in Azure" not in err
    assert client.site("fc1-failing").active_deployment is None


@pytest.mark.parametrize(
    ("plan", "shown"),
    [
        ("P1v3", "Dedicated (App Service plan)"),
        ("Y1", "Linux Consumption (Y1)"),
        ("FC1", "Flex Consumption (FC1)"),
    ],
)
def test_the_one_shot_emulator_creates_the_app_on_the_chosen_plan(
    capsys: pytest.CaptureFixture[str],
    remote_app: Path,
    offline: dict[str, str],
    plan: str,
    shown: str,
) -> None:
    settings = [f"--app-setting={key}={value}" for key, value in offline.items()]
    code, out, err = invoke(
        capsys, "publish", "one-shot", str(remote_app), "--emulator", "--emulator-plan", plan,
        *settings,
    )  # fmt: skip
    assert code == 0, err
    assert f"one-shot is on {shown}:" in err
    assert "  Running oryx build..." in err
    assert f"/api/deps -> 200: {ANSWER}\n" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--emulator", "--emulator-plan", "Y1", "--build", "none"],
            "error: a Linux Consumption (Y1) app runs a none build from blob storage",
        ),
        (["--emulator", "--emulator-plan", "FC1", "--slot", "staging"], "have no deployment slots"),
        (["--emulator", "--emulator-plan", "B1"], "error: unknown plan 'B1'; use one of Y1, EP1"),
        (["--emulator-plan", "Y1"], "error: --emulator-plan only applies to --emulator"),
    ],
    ids=["y1-local-build", "flex-slot", "unknown-plan", "without-emulator"],
)
def test_emulator_plan_mistakes_are_refused_before_the_build(
    capsys: pytest.CaptureFixture[str], remote_app: Path, argv: list[str], message: str
) -> None:
    code, _, err = invoke(capsys, "publish", "one-shot", str(remote_app), *argv)
    assert code == 2, err
    assert message in err
    assert "\nhint: " in err
    assert "packing" not in err and "started the Azure emulator" not in err
