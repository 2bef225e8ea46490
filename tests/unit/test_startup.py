"""What a command loads: `pack` and a dry-run `publish` never import the Azure SDK, the docker
SDK, requests, the emulator or what only a cache miss needs (pyelftools, ssl), so that a warm
rebuild takes a fraction of a second. A run loads only its own command and build strategy."""

from __future__ import annotations

import json
import os
import shutil
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
# What `pack` loads for no purpose: the other commands, the other strategies, the lock, the plan.
NOT_PACK = (
    "funcpub.cli.validate",
    "funcpub.cli.publish",
    "funcpub.cli.lock",
    "funcpub.cli.settings",
    "funcpub.cli.emulator",
    "funcpub.cli.cache",
    "funcpub.strategies.docker",
    "funcpub.strategies.remote",
    "funcpub.strategies.none",
    "funcpub.build.lockfile",
    "funcpub.plan",
)
# What only a build (a cache miss) runs: installing, building sources, checking the tree.
BUILD_ONLY = (
    "funcpub.build.sources",
    "funcpub.build.distributions",
    "funcpub.build.binaries",
    "funcpub.build.bookkeeping",
)
EXAMPLE = ROOT / "examples" / "hello"


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


def among(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in modules if name in names]


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
    assert among(modules, NOT_PACK) == []
    assert "funcpub.strategies.local" in modules


def test_a_warm_pack_loads_nothing_that_builds(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache hit skips the build's modules; the cold pack before it loads them (so the check
    can fail)."""
    for name in [name for name in os.environ if name.startswith(("PIP_", "UV_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    requirements = f"--no-index\n--find-links {wheelhouse}\nalpha\n"
    (app / "requirements.txt").write_text(requirements, encoding="utf-8")
    argv = ("pack", str(app), "--build", "local", "--no-smoke", "-o", str(tmp_path / "app.zip"))
    cold_code, cold = loaded_modules(tmp_path, *argv)
    (app / "shared" / "greeting.py").write_text("GREETING = 'changed'\n", encoding="utf-8")
    warm_code, warm = loaded_modules(tmp_path, *argv)
    assert (cold_code, warm_code) == (0, 0)
    assert "funcpub.build.binaries" in cold  # the build checked the tree
    assert among(warm, BUILD_ONLY) == []
    assert among(warm, NOT_PACK) == []
    assert heavy(warm) == []


def test_a_command_loads_no_other_and_help_loads_them_all(tmp_path: Path) -> None:
    """`validate` loads only its own command; `--help` lists, so loads, every command."""
    app = str(ROOT / "tests" / "projects" / "v2-good")
    code, modules = loaded_modules(tmp_path, "validate", app)
    assert code == 0
    assert among(modules, NOT_PACK) == ["funcpub.cli.validate"]
    code, modules = loaded_modules(tmp_path, "--help")
    assert code == 0
    assert {"funcpub.cli.lock", "funcpub.cli.cache", "funcpub.cli.settings"} <= set(modules)


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
