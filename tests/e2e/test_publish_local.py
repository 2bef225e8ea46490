"""`funcpub publish --build local` end to end: build, pack, deploy to the emulator, call it."""

from __future__ import annotations

import json

import pytest

from funcpub.cli import run
from tests.e2e.conftest import FUNCTION_APP, MakeApp

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]


def test_publish_a_local_build_to_the_emulator(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("azure-functions", "alpha", "fastgreet", function_app=FUNCTION_APP)
    argv = ["publish", "deps-app", str(app), "--build", "local", "--emulator", "--json"]
    code = run(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert [f["name"] for f in result["functions"]] == ["deps"]
    (answer,) = result["smoke"]
    assert answer["status"] == 200
    assert answer["body"] == "alpha and beta; compiled C says hello"
    assert not (app / ".python_packages").exists()
