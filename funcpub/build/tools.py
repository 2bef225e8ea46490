"""The build tools funcpub runs (uv, pip) and the one way a build step runs them."""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from funcpub.build.base import BuildReporter
from funcpub.errors import BuildError
from funcpub.process import CommandResult, run_command
from funcpub.requirements import redact

# A build that runs longer than this is stuck (a hanging index, a build waiting for input).
STEP_TIMEOUT: Final = 3600.0
UV_HINT: Final = "reinstall funcpub (it depends on uv), or put uv on PATH"
TEMP_VARIABLES: Final = ("TMPDIR", "TEMP", "TMP")  # where tools put temporary files


def uv_executable() -> str:
    """The uv binary of funcpub's `uv` dependency, else `uv` on PATH."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415 - optional at run time, a dependency on paper
    except ImportError:
        return "uv"
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return "uv"


def require_pip() -> None:
    """BuildError unless pip can run in funcpub's own interpreter (`--installer pip`)."""
    if importlib.util.find_spec("pip") is None:
        msg = f"--installer pip needs pip, and {sys.executable} has none"
        raise BuildError(
            msg, hint="use --installer uv (the default), or install pip beside funcpub"
        )


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment (the user's PIP_*/UV_* settings included), Python output unbuffered."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **(extra or {})}


def run_step(
    argv: Sequence[str],
    *,
    cwd: Path,
    reporter: BuildReporter,
    env: Mapping[str, str] | None = None,
    timeout: float = STEP_TIMEOUT,
) -> CommandResult:
    """Echo the command, run it with its output streamed to the reporter, return how it ended.

    The tool gets a temporary folder of its own, removed afterwards: a tool killed on Ctrl-C
    (pip's build environments, uv's cache under UV_NO_CACHE) leaves nothing in the user's.
    """
    program = uv_executable() if argv[0] == "uv" else argv[0]
    reporter.command(redact(shlex.join(argv)))
    with tempfile.TemporaryDirectory(prefix="funcpub-step-") as scratch:
        return run_command(
            [program, *argv[1:]],
            cwd=cwd,
            env=child_environment({**(env or {}), **dict.fromkeys(TEMP_VARIABLES, scratch)}),
            on_line=reporter.output,
            timeout=timeout,
            missing_hint=UV_HINT if argv[0] == "uv" else None,
        )


def failure_message(what: str, result: CommandResult) -> str:
    """`what` failed, with the exit code and the command's last output lines."""
    tail = result.tail_text()
    text = f"{what} (exit code {result.returncode})"
    return f"{text}; its last output:\n{tail}" if tail else text
