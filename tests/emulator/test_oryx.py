"""The emulator's Oryx build: pip into .python_packages from the app's own index settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from funcpub.emulator import Emulator, FaultRule, SiteInfo
from funcpub.emulator.records import FAILED, site_key
from funcpub.emulator.state import Store
from tests.emulator_fixtures import Kudu, zip_of
from tests.wheelhouse import write_wheel

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]

FUNCTION_APP = """\
import azure.functions as func

import beta

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="beta")
def show(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(beta.VALUE)
"""
BUILD_ON = {"SCM_DO_BUILD_DURING_DEPLOYMENT": "true", "ENABLE_ORYX_BUILD": "true"}


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    """A --find-links folder holding `beta`."""
    directory = tmp_path / "wheels"
    directory.mkdir()
    write_wheel(directory, "beta", "1.0", "py3-none-any", {"beta/__init__.py": 'VALUE = "b1"\n'})
    return directory


def offline(wheels: Path) -> dict[str, str]:
    """App settings that make the build install from `wheels` only."""
    return {**BUILD_ON, "PIP_NO_INDEX": "true", "PIP_FIND_LINKS": str(wheels)}


def package(tmp_path: Path, requirements: str) -> Path:
    return zip_of(
        tmp_path / "package",
        {"host.json": '{"version": "2.0"}', "function_app.py": FUNCTION_APP,
         "requirements.txt": requirements},
    )  # fmt: skip


def messages(kudu: Kudu, record: dict[str, object], kind: int | None = None) -> list[str]:
    return [str(e["message"]) for e in kudu.log(record) if kind is None or e["type"] == kind]


def deploy(
    emulator: Emulator, name: str, settings: dict[str, str], zipped: Path, python: str = "3.11"
) -> tuple[Kudu, SiteInfo, dict[str, object]]:
    """Create the app with `settings`, push `zipped`, wait for the deployment's final record."""
    site = emulator.create_app(name, app_settings=settings, python=python)
    kudu = Kudu(site, str(emulator.ca_bundle))
    return kudu, site, kudu.deploy(zipped)


def test_the_build_installs_requirements_and_the_host_imports_them(
    emulator: Emulator, tmp_path: Path, wheels: Path, ca_bundle: str
) -> None:
    kudu, site, record = deploy(emulator, "built", offline(wheels), package(tmp_path, "beta\n"))
    log = messages(kudu, record)
    assert record["status"] == 4, log
    assert "Running oryx build..." in log
    command = next(line for line in log if line.startswith("Command: oryx build"))
    assert "--platform-version 3.11" in command
    assert "-p packagedir=.python_packages/lib/site-packages" in command
    assert any("Successfully installed beta-1.0" in line for line in log)
    assert any(line.startswith("pip install done in") for line in log)
    assert "Manifest file created." in log
    wwwroot = emulator.site("built").wwwroot
    assert (wwwroot / ".python_packages/lib/site-packages/beta/__init__.py").is_file()
    manifest = (wwwroot / "oryx-manifest.toml").read_text(encoding="utf-8")
    assert 'packagedir=".python_packages/lib/site-packages"' in manifest
    assert 'PythonVersion="3.11.' in manifest
    answer = requests.get(f"{site.app_url}/api/beta", verify=ca_bundle, timeout=30)
    assert (answer.status_code, answer.text) == (200, "b1")
    releases = list((wwwroot.parent / "releases").iterdir())
    assert releases == [wwwroot.resolve()], "the pushed files are gone, only the build is live"


def test_an_unresolvable_requirement_fails_the_deployment(
    emulator: Emulator, tmp_path: Path, wheels: Path
) -> None:
    kudu, _, first = deploy(emulator, "fails", offline(wheels), package(tmp_path, "beta\n"))
    assert first["status"] == 4
    record = kudu.deploy(package(tmp_path / "again", "beta\nnosuchpkg==9\n"))
    assert record["status"] == 3
    errors = messages(kudu, record, kind=2)
    (oryx_error,) = [e for e in errors if "| Exit code: 1 |" in e]
    assert "ERROR: No matching distribution found for nosuchpkg==9" in oryx_error
    assert oryx_error.endswith(
        "Please review your requirements.txt | More information: https://aka.ms/troubleshoot-python"
    )
    assert "Oryx build failed: pip install exited with code 1." in errors
    site = emulator.site("fails")
    assert site.active_deployment == first["id"], "the last good build stays live"
    releases = list((site.wwwroot.parent / "releases").iterdir())
    assert releases == [site.wwwroot.resolve()], "the failed build left nothing behind"


def test_the_machines_pip_settings_do_not_reach_the_build(
    emulator: Emulator, tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))  # this machine could install beta...
    settings = {**BUILD_ON, "PIP_NO_INDEX": "true"}  # ...the app's own settings cannot
    kudu, _, record = deploy(emulator, "isolated", settings, package(tmp_path, "beta\n"))
    assert record["status"] == 3
    assert any("No matching distribution found for beta" in m for m in messages(kudu, record, 2))


def test_requirements_expand_app_settings(emulator: Emulator, tmp_path: Path, wheels: Path) -> None:
    settings = {**BUILD_ON, "PIP_NO_INDEX": "1", "WHEELS": str(wheels)}
    zipped = package(tmp_path, "--find-links ${WHEELS}\nbeta\n")
    kudu, _, record = deploy(emulator, "expands", settings, zipped)
    assert record["status"] == 4, messages(kudu, record)


def test_no_interpreter_for_the_sites_python_fails_clearly(
    emulator: Emulator, tmp_path: Path, wheels: Path
) -> None:
    kudu, _, record = deploy(
        emulator, "py399", offline(wheels), package(tmp_path, "beta\n"), python="3.99"
    )
    assert record["status"] == 3
    assert any(
        m.startswith("Python 3.99 is not available to the emulator's Oryx")
        for m in messages(kudu, record, 2)
    )


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({}, "Build is off (SCM_DO_BUILD_DURING_DEPLOYMENT is not true)."),
        ({**BUILD_ON, "SCM_DO_BUILD_DURING_DEPLOYMENT": "false"}, "Build is off"),
        ({**BUILD_ON, "ENABLE_ORYX_BUILD": "false"}, "ENABLE_ORYX_BUILD is false"),
        ({**BUILD_ON, "WEBSITE_RUN_FROM_PACKAGE": "1"}, "WEBSITE_RUN_FROM_PACKAGE is set"),
    ],
)
def test_settings_that_skip_the_build(
    emulator: Emulator, tmp_path: Path, settings: dict[str, str], reason: str
) -> None:
    kudu, _, record = deploy(emulator, "no-build", settings, package(tmp_path, "beta\n"))
    assert record["status"] == 4
    log = messages(kudu, record)
    assert any(m.startswith(reason) for m in log)
    assert "Running oryx build..." not in log
    assert not (emulator.site("no-build").wwwroot / ".python_packages").exists()


def test_stopping_the_emulator_stops_a_build(tmp_path: Path, wheels: Path) -> None:
    emulator = Emulator(tmp_path / "data").start()
    try:
        site = emulator.create_app("stopped", app_settings=offline(wheels))
        emulator.faults.add(FaultRule(role="deploy", site="stopped", delay=1.0))
        pushed = Kudu(site, str(emulator.ca_bundle)).push(package(tmp_path, "beta\n"))
        assert pushed.status_code == 202
    finally:
        emulator.stop()  # while the deployment waits to build
    store = Store(tmp_path / "data")
    (record,) = [d for d in store.deployments(site_key("stopped")) if not d.is_temp]
    assert record.status == FAILED
    logged = store.logs(site_key("stopped"), record.id) or ()
    messages = [entry.message for entry in logged]
    assert "The build was stopped: the emulator is shutting down." in messages
    releases = tmp_path / "data" / "sites" / "stopped" / "releases"
    assert not any(releases.iterdir()), "neither the pushed files nor a build are left"
