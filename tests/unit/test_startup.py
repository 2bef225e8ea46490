"""What a command loads: `pack` and a dry-run `publish` never import the Azure SDK, the docker
SDK, requests, the emulator or what only a cache miss needs (pyelftools, ssl), so that a warm
rebuild takes a fraction of a second."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).parents[2]
# Runs the CLI in a fresh interpreter, then writes the names of every module it imported.
RUN_AND_LIST = """
import json, sys
from funcpub.cli import run
code = run(sys.argv[2:])
with open(sys.argv[1], "w", encoding="utf-8") as stream:
    json.dump({"code": code, "modules": sorted(sys.modules)}, stream)
"""
HEAVY = (
    "azure",
    "docker",
    "requests",
    "urllib3",
    "werkzeug",
    "cryptography",
    "elftools",
    "ssl",
    "rich.progress",
    "funcpub.deploy",
    "funcpub.emulator",
    "funcpub.functionhost",  # the smoke import's, when it runs
    "funcpub.container.engine",
    "funcpub.cli.deploying",
)


def loaded_modules(tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    """The exit code of `funcpub argv…` in a child interpreter, and the modules it imported."""
    report = tmp_path / "modules.json"
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(report), *argv],
        env=environ,
        check=True,
        capture_output=True,
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    return data["code"], data["modules"]


def heavy(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in HEAVY or name.startswith(HEAVY)]


def test_pack_imports_no_cloud_docker_or_emulator_code(
    tmp_path: Path, project_copy: Callable[[str], Path]
) -> None:
    app = project_copy("fp201-requirements-missing")  # no requirements: nothing to install
    argv = ("pack", str(app), "--build", "local", "--no-smoke", "-o", str(tmp_path / "app.zip"))
    code, modules = loaded_modules(tmp_path, *argv)
    assert code == 0
    assert (tmp_path / "app.zip").is_file()
    assert "funcpub.package" in modules  # it did pack
    assert heavy(modules) == []


def test_a_dry_run_publish_plans_without_the_azure_sdk(
    tmp_path: Path, project_copy: Callable[[str], Path]
) -> None:
    app = project_copy("v2-good")
    code, modules = loaded_modules(tmp_path, "publish", "my-app", str(app), "--dry-run")
    assert code == 0
    assert "funcpub.plan" in modules
    assert heavy(modules) == []


def test_the_guard_sees_a_publish_that_deploys(tmp_path: Path) -> None:
    """The check can fail: deploying does load the Azure SDK (here it stops at the sign-in)."""
    code, modules = loaded_modules(
        tmp_path, "publish", "my-app", str(ROOT / "tests" / "projects" / "v2-good"), "--cloud",
        "emulator", "--build", "none", "-o", str(tmp_path / "app.zip"),
    )  # fmt: skip
    assert code != 0
    assert "funcpub.cli.deploying" in heavy(modules)
    assert "azure" in heavy(modules)
