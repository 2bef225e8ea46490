"""Fixtures of the build tests: apps whose requirements use the offline wheelhouse."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from funcpub.emulator import Emulator

EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"
# A remote-build app: imports alpha (and beta) and a native wheel; a plain requirements.txt.
REQUIREMENTS = "azure-functions\nalpha\nfastgreet\n"
ANSWER = "alpha and beta; compiled C says hello"
FUNCTION_APP = """\
import azure.functions as func

import alpha
import fastgreet

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="deps")
def deps(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"{alpha.MESSAGE}; {fastgreet.greeting()}")
"""
MakeApp = Callable[..., Path]


@pytest.fixture
def installer_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No pip or uv settings of this machine, and caches of this test only (funcpub's too)."""
    for name in list(os.environ):
        if name.startswith(("PIP_", "UV_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    yield


@pytest.fixture
def make_app(tmp_path: Path, wheelhouse: Path, installer_env: None) -> MakeApp:
    """A copy of the example app whose requirements.txt installs `requirements` offline."""

    def make(*requirements: str, name: str = "app", function_app: str | None = None) -> Path:
        app = tmp_path / name
        shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        lines = ["--no-index", f"--find-links {wheelhouse}", *requirements]
        (app / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if function_app is not None:
            (app / "function_app.py").write_text(function_app, encoding="utf-8")
        return app

    return make


@pytest.fixture
def remote_app(make_app: MakeApp) -> Path:
    """The example app importing alpha (and beta) and a native wheel; a plain requirements.txt."""
    app = make_app(function_app=FUNCTION_APP)
    (app / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    return app


@pytest.fixture
def offline(wheelhouse: Path) -> dict[str, str]:
    """App settings that make the app's remote build install from the wheelhouse only."""
    return {"PIP_NO_INDEX": "true", "PIP_FIND_LINKS": str(wheelhouse)}


@pytest.fixture
def client(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The CLI's environment points at `emulator`."""
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)
    yield emulator
