"""Faults: a struggling Azure, injected into the emulator, met by `funcpub publish` (the CLI).

Each row of fault_matrix.py (those not covered by an existing test) runs one publish of
examples/hello to an app of its own, with short timeouts (`Timing`) so that "too slow" and
"always failing" end in seconds. Whatever happens:
- every injected rule fired (the fault really happened);
- survived: exit 0, the app runs the deployment funcpub reports, its files are the zip's, byte
  for byte, and the planned functions are indexed: nothing lost;
- failed: the exit code of the error's class, one `error:` line with a hint, no traceback, and
  every app setting that differs afterwards is named in the message (never half-changed
  silently).
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from funcpub.deploy import deploy
from funcpub.deploy.timing import Backoff, Timing
from funcpub.emulator import Emulator, FaultRule
from funcpub.emulator.records import site_key
from tests.azurite_fixtures import Azurite
from tests.reliability.fault_matrix import FAULTS, FaultCase
from tests.reliability.helpers import (
    HELLO,
    assert_clean_failure,
    copy_app,
    invoke,
    settings_of,
    tree_contents,
    use_emulator,
    zip_contents,
)

pytestmark = pytest.mark.emulator

# Azure's waits, shrunk: every budget in seconds, every request timeout at one second.
RELIABLE = Timing(
    poll=Backoff(initial=0.05, maximum=0.2),
    not_found_grace=1.0,
    conflict_budget=1.0,
    conflict=Backoff(initial=0.1, maximum=0.2),
    retry=Backoff(initial=0.05, maximum=0.2, factor=2),
    scm_settings_timeout=10,
    verify_timeout=20,
    verify_poll=Backoff(initial=0.1, maximum=0.5),
    arm_retry_backoff=0.05,
    arm_read_timeout=1.0,
    request_timeout=1.0,
    upload_timeout=1.0,
)
RUN_HERE = [case for case in FAULTS if case.covered_by is None and not case.storage]
ON_STORAGE = [case for case in FAULTS if case.storage]
SITE_ROLES = ("scm", "app", "deploy", "package")


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI deploys with `RELIABLE` instead of Azure's minutes."""
    monkeypatch.setattr("funcpub.cli.deploying.deploy", functools.partial(deploy, timing=RELIABLE))


def bound(rule: FaultRule, app: str) -> FaultRule:
    """The row's rule, limited to its own app."""
    site = app if rule.role in SITE_ROLES else None
    return replace(rule, path=rule.path.replace("{app}", app), site=site)


def delete_when_deploying(emulator: Emulator, app: str) -> threading.Thread:
    """Delete the app as soon as a deployment runs on it (as `az functionapp delete` would)."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if emulator.context.deployments.is_deploying(site_key(app)):
                time.sleep(0.5)  # into the build (the row's deploy fault makes it last)
                emulator.delete_app(app)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("case", RUN_HERE, ids=[case.id for case in RUN_HERE])
def test_fault(
    case: FaultCase,
    shared_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    run_case(case, shared_emulator, case.app, capsys, monkeypatch, tmp_path)


@pytest.mark.azurite
@pytest.mark.parametrize("case", ON_STORAGE, ids=[case.id for case in ON_STORAGE])
def test_run_from_package_fault(
    case: FaultCase,
    storage_emulator: Emulator,
    azurite: Azurite,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Linux Consumption with a package built here: Azurite is the app's storage account."""
    storage = {"AzureWebJobsStorage": azurite.connection_string}
    app = {**case.app, "app_settings": {**case.app.get("app_settings", {}), **storage}}
    run_case(case, storage_emulator, app, capsys, monkeypatch, tmp_path)


def run_case(
    case: FaultCase,
    emulator: Emulator,
    app: Mapping[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Publish to a new app `case.id` with the row's faults injected; judge the outcome."""
    name = case.id
    before = dict(emulator.create_app(name, **app).app_settings)
    app_dir = copy_app(HELLO, tmp_path / "app")
    if case.big:
        (app_dir / "assets").mkdir()
        (app_dir / "assets" / "big.bin").write_bytes(os.urandom(8 << 20))
    use_emulator(emulator, monkeypatch)
    package = tmp_path / "deployed.zip"
    rule_ids = [emulator.faults.add(bound(rule, name)) for rule in case.rules]
    watcher = delete_when_deploying(emulator, name) if case.delete_during_deployment else None
    try:
        outcome = invoke(
            capsys, "publish", name, str(app_dir), "--build", "none", "--json",
            "-o", str(package), *case.options,
        )  # fmt: skip
        fired = [emulator.faults.fired(rule_id) for rule_id in rule_ids]
    finally:
        for rule_id in rule_ids:
            emulator.faults.remove(rule_id)
        if watcher is not None:
            watcher.join(timeout=30)
    assert all(fired), f"every injected fault happened: {fired}"
    if case.once:
        assert fired == [1], "a 4xx is never retried"
    if case.outcome == "survived":
        check_survived(emulator, name, package, outcome.code, outcome.out, outcome.err)
    else:
        assert_clean_failure(outcome, case.code)
        assert case.words in outcome.err, outcome.err
        assert "\nhint: " in outcome.err, outcome.err
        if not case.delete_during_deployment:
            check_settings_reported(before, settings_of(emulator, name), outcome.err)
    if not case.delete_during_deployment:
        emulator.delete_app(name)


def check_survived(
    emulator: Emulator, name: str, package: Path, code: int, out: str, err: str
) -> None:
    """The publish succeeded, and the app runs exactly the zip funcpub built."""
    assert code == 0, err
    result = json.loads(out)
    site = emulator.site(name)
    package_url = site.app_settings.get("WEBSITE_RUN_FROM_PACKAGE", "")
    if site.plan == "Y1":  # run from package: the package's blob is the deployment
        assert f"/function-releases/{result['deployment_id']}?" in package_url
    else:
        assert result["deployment_id"] == site.active_deployment
    assert tree_contents(site.wwwroot.resolve()) == zip_contents(package)
    assert sorted(f["name"] for f in result["functions"]) == ["health", "hello"]


def check_settings_reported(before: Mapping[str, str], after: Mapping[str, str], err: str) -> None:
    """Every setting that differs now is named in the message; none is claimed otherwise."""
    changed = {key for key in {*before, *after} if before.get(key) != after.get(key)}
    note = "settings already changed in Azure: "
    if not changed:
        assert note not in err, err
        return
    assert note in err, err
    listed = err.split(note, 1)[1].split(")", 1)[0]
    assert set(listed.split(", ")) >= changed, err
