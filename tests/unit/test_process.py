"""The one subprocess runner: streaming, tail, redaction, timeout, missing programs, Ctrl-C."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from funcpub.errors import BuildError
from funcpub.process import TAIL_LINES, Command, find_program, run_command


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_missing_program_is_a_build_error() -> None:
    with pytest.raises(BuildError, match="no-such-tool-xyz was not found on PATH") as caught:
        find_program("no-such-tool-xyz", hint="install it")
    assert caught.value.hint == "install it"


def test_the_display_hides_url_credentials() -> None:
    command = Command(
        argv=("pip", "install", "--index-url", "https://user:s3cret@example.test/simple"),
        where="here",
        purpose="",
    )
    assert command.display() == "pip install --index-url https://***@example.test/simple"


@pytest.mark.subprocess
def test_lines_stream_redacted_and_the_tail_is_bounded(tmp_path: Path) -> None:
    seen: list[str] = []
    code = (
        "import sys\n"
        "for i in range(80): print(f'line {i}')\n"
        "print('from https://user:s3cret@example.test/simple', file=sys.stderr)\n"
        "print('progress 1\\rprogress 2')\n"
        "sys.exit(3)\n"
    )
    result = run_command(python(code), cwd=tmp_path, on_line=seen.append)
    assert result.returncode == 3
    assert not result.ok
    assert seen[0] == "line 0"
    assert "from https://***@example.test/simple" in seen
    assert seen[-2:] == ["progress 1", "progress 2"]
    assert len(result.tail) == TAIL_LINES
    assert result.tail[-1] == "progress 2"
    assert "s3cret" not in result.tail_text() + "".join(seen)


@pytest.mark.subprocess
def test_a_timeout_stops_the_child(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(BuildError, match=r"did not finish within 0\.5 s"):
        run_command(python("import time; print('waiting', flush=True); time.sleep(60)"),
                    cwd=tmp_path, timeout=0.5)  # fmt: skip
    assert time.monotonic() - started < 10


@pytest.mark.subprocess
def test_ctrl_c_kills_the_child(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    code = (
        "import time, pathlib\nprint('started', flush=True)\ntime.sleep(1)\n"
        f"pathlib.Path({str(marker)!r}).write_text('yes')\n"
    )

    def interrupt(_line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_command(python(code), cwd=tmp_path, on_line=interrupt)
    time.sleep(1.5)
    assert not marker.exists()
