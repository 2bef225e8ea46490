"""The emulator's Oryx decisions that need no process: when it builds, with what, in what env."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from funcpub.emulator.oryx import BuildFailedError, build_skipped, pip_environment, python_version
from funcpub.emulator.sites import new_site

BUILD_ON = {"SCM_DO_BUILD_DURING_DEPLOYMENT": "1", "FUNCTIONS_WORKER_RUNTIME": "python"}


@pytest.mark.parametrize(
    ("settings", "skipped"),
    [
        (BUILD_ON, None),
        ({**BUILD_ON, "ENABLE_ORYX_BUILD": "TRUE"}, None),
        ({**BUILD_ON, "SCM_DO_BUILD_DURING_DEPLOYMENT": "false"}, "Build is off"),
        ({**BUILD_ON, "ENABLE_ORYX_BUILD": "0"}, "ENABLE_ORYX_BUILD is false"),
        ({**BUILD_ON, "WEBSITE_RUN_FROM_PACKAGE": "1"}, "WEBSITE_RUN_FROM_PACKAGE is set"),
        ({**BUILD_ON, "FUNCTIONS_WORKER_RUNTIME": "node"}, "FUNCTIONS_WORKER_RUNTIME is not"),
    ],
)
def test_when_kudu_builds(settings: dict[str, str], skipped: str | None) -> None:
    reason = build_skipped(settings)
    if skipped is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(skipped)


@pytest.mark.parametrize("settings", [{}, BUILD_ON, {**BUILD_ON, "WEBSITE_RUN_FROM_PACKAGE": "1"}])
def test_onedeploys_remote_build_flag_decides_on_its_own(settings: dict[str, str]) -> None:
    assert build_skipped(settings, remote_build=True) is None
    reason = build_skipped(settings, remote_build=False)
    assert reason is not None and reason.startswith("RemoteBuild=false")


def test_a_flex_apps_python_version_comes_from_its_runtime() -> None:
    site = new_site(
        "app", subscription_id="s", plan="FC1", python="3.12", functions_version="4",
        os="linux", resource_group="rg", basic_auth=True, app_settings=None,
    )  # fmt: skip
    assert site.site_config.get("linuxFxVersion") == ""
    assert python_version(site) == "3.12"


def test_the_python_version_comes_from_linux_fx_version() -> None:
    site = new_site(
        "app", subscription_id="s", plan="EP1", python="3.12", functions_version="4",
        os="linux", resource_group="rg", basic_auth=True, app_settings=None,
    )  # fmt: skip
    assert python_version(site) == "3.12"
    assert python_version(replace(site, site_config={"linuxFxVersion": "PYTHON|3.10"})) == "3.10"
    with pytest.raises(BuildFailedError, match=re.escape("'Node|18', not a Python stack")):
        python_version(replace(site, site_config={"linuxFxVersion": "Node|18"}))


def test_pip_sees_the_app_settings_never_this_machines_pip_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://machine.example/simple")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/etc/pip.conf")
    monkeypatch.setenv("PATH", "/usr/bin")
    settings = {"PIP_EXTRA_INDEX_URL": "https://app.example/simple", "PIP_PROGRESS_BAR": "on"}
    env = pip_environment(settings, tmp_path)
    assert "PIP_INDEX_URL" not in env
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert env["PIP_EXTRA_INDEX_URL"] == "https://app.example/simple"
    assert env["PIP_PROGRESS_BAR"] == "on", "the app's own setting wins over funcpub's default"
    assert env["HOME"] == str(tmp_path)
    assert env["PATH"] == "/usr/bin"
