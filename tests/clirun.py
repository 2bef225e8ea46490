"""Running the funcpub CLI in-process from tests, as the console script does."""

from __future__ import annotations

from pathlib import Path

import pytest

from funcpub.cli import run

EXAMPLE = Path(__file__).parents[1] / "examples" / "hello"


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `funcpub argv...`."""
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
