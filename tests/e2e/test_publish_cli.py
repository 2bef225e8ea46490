"""`funcpub publish` through the CLI against the emulator, with the real Azure clients."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from funcpub.emulator import Emulator
from tests.clirun import EXAMPLE, invoke

pytestmark = pytest.mark.emulator


def test_publish_with_the_embedded_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(
        capsys, "publish", "hello-e2e", str(EXAMPLE), "--build", "none", "--emulator", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert sorted(f["name"] for f in result["functions"]) == ["health", "hello"]
    answers = {item["url"].rsplit("/", 1)[1]: item for item in result["smoke"]}
    assert answers["hello"]["status"] == 200
    assert answers["hello"]["body"] == "Hello, world!"
    assert answers["health"]["body"] == '{"status": "ok"}'


def test_the_embedded_emulator_offers_no_undo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(
        capsys, "publish", "hello-undo", str(EXAMPLE), "--build", "none", "--emulator"
    )
    assert code == 0, err
    assert "changed SCM_DO_BUILD_DURING_DEPLOYMENT" in out  # settings did change
    assert "settings undo" not in out + err  # but that emulator is gone after the run


def test_dry_run_and_real_run_agree(
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator.create_app("agree-app", python="3.12")
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)
    common = ["publish", "agree-app", str(EXAMPLE), "--build", "none", "--python-version", "3.12"]
    code, out, _ = invoke(capsys, *common, "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    zip_path = tmp_path / "deployed.zip"
    code, out, err = invoke(capsys, *common, "--json", "-o", str(zip_path))
    assert code == 0, err
    result = json.loads(out)
    assert result["package"]["file_count"] == plan["files"]["count"]
    planned = {(c["key"], c["value"]) for c in plan["setting_changes"]}
    applied = {(c["key"], c["value"]) for c in result["applied_changes"]}
    assert applied
    assert applied <= planned
    settings = emulator.site("agree-app").app_settings
    assert settings["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "false"
    assert zip_path.is_file()


def test_publish_errors_have_their_exit_codes(
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator.create_app("win-app", os="windows")
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)
    code, _, err = invoke(capsys, "publish", "win-app", str(EXAMPLE), "--build", "none")
    assert code == 6
    assert "Linux" in err
    assert emulator.site("win-app").active_deployment is None

    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong-secret")
    code, _, err = invoke(capsys, "publish", "win-app", str(EXAMPLE), "--build", "none")
    assert code == 7
    assert "wrong-secret" not in err

    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    (broken / "host.json").unlink()
    code, _, err = invoke(capsys, "publish", "win-app", str(broken), "--build", "none")
    assert code == 3
    assert "nothing was deployed" in err
