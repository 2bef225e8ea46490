"""Shared fixtures and the offline guard for unit tests.

Unit tests must not open sockets or start processes: an autouse guard turns either into a
test failure unless the test carries one of the markers that allow it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.wheelhouse import build_wheelhouse

pytest_plugins = ["tests.emulator_fixtures", "tests.azurite_fixtures", "tests.docker_fixtures"]

PROJECTS = Path(__file__).parent / "projects"
ALLOW_PROCESSES = ("subprocess", "docker", "emulator", "azurite", "e2e")
ALLOW_NETWORK = ("docker", "emulator", "azurite", "e2e")


class GuardError(AssertionError):
    """Raised when a unit test reaches for the network or a child process."""


def _refuse(what: str) -> Any:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        msg = f"unit tests must not {what}; mark the test to allow it"
        raise GuardError(msg)

    return refuse


@pytest.fixture(autouse=True)
def offline_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that opens a socket or a subprocess without the marker allowing it."""
    markers = {mark.name for mark in request.node.iter_markers()}
    if not markers.intersection(ALLOW_NETWORK):
        monkeypatch.setattr(socket.socket, "connect", _refuse("open a network connection"))
        monkeypatch.setattr(socket, "create_connection", _refuse("open a network connection"))
    if not markers.intersection(ALLOW_PROCESSES):
        monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a subprocess"))


# What makes funcpub speak a CI agent's logging commands (funcpub.cimode).
CI_VARIABLES = (
    "TF_BUILD",
    "GITHUB_ACTIONS",
    "FUNCPUB_CI",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "AGENT_TEMPDIRECTORY",
)


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts outside a pipeline, even when the suite runs in one; CI tests opt in."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user cache folder for the whole run, so tests leave nothing in the real one."""
    return tmp_path_factory.mktemp("user-cache")


@pytest.fixture(autouse=True)
def isolated_user_cache(user_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point XDG_CACHE_HOME (publish locks, installer caches) at the run's own folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))


@pytest.fixture
def project_copy(tmp_path: Path) -> Iterator[Any]:
    """Copy a scenario from tests/projects/ into a temporary directory and return its path."""

    def copy(scenario: str) -> Path:
        destination = tmp_path / scenario
        shutil.copytree(PROJECTS / scenario, destination, symlinks=True)
        return destination

    yield copy


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The --find-links folder every build test installs from (no index is ever asked)."""
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse") / "wheels")
