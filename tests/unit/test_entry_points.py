"""The installed entry points start the CLI in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"


@pytest.mark.subprocess
def test_python_dash_m_funcpub() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "funcpub", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("funcpub ")


@pytest.mark.subprocess
def test_console_script_exit_code_for_an_invalid_app(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("funcpub")
    result = subprocess.run(
        [str(script), "validate", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 3
    assert "host.json" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
