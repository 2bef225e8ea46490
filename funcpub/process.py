"""Commands a run executes: described before they run (the plan shows them), and the one runner.

`run_command` is the only place funcpub starts a build tool. It finds the program first (a clear
BuildError when it is missing), streams the child's output line by line to a callback, keeps the
last lines for the error message, honours a timeout and kills the child (and its own children,
e.g. the build backends pip starts) on Ctrl-C. Whatever it reports passes through `redact`, so
a password in an index URL never reaches the screen.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Literal

from funcpub.errors import BuildError
from funcpub.requirements import redact

Where = Literal["here", "container", "azure"]
LineCallback = Callable[[str], None]

TAIL_LINES: Final = 50
_NEWLINES: Final = re.compile(r"\r\n|\r|\n")
_POSIX: Final = os.name == "posix"


@dataclass(frozen=True, kw_only=True)
class Command:
    """One command a build runs: its argv, where it runs and why."""

    argv: tuple[str, ...]
    where: Where
    purpose: str

    def display(self) -> str:
        """The command as a shell line, credentials in URLs hidden."""
        return redact(shlex.join(self.argv))


@dataclass(frozen=True, kw_only=True)
class CommandResult:
    """How a command ended."""

    display: str  # the command line, redacted
    returncode: int
    tail: tuple[str, ...]  # its last output lines (stdout and stderr together), redacted
    seconds: float

    @property
    def ok(self) -> bool:
        """Exit code 0."""
        return self.returncode == 0

    def tail_text(self, lines: int = TAIL_LINES) -> str:
        """The last `lines` output lines, one per line."""
        return "\n".join(self.tail[-lines:])


def find_program(name: str, *, hint: str | None = None) -> str:
    """The full path of `name` (a path or a command on PATH); BuildError when there is none."""
    found = shutil.which(name)
    if found is None:
        msg = f"{name} was not found" + ("" if os.sep in name else " on PATH")
        raise BuildError(msg, hint=hint or f"install {Path(name).name}, or check PATH")
    return found


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    on_line: LineCallback | None = None,
    timeout: float | None = None,
    missing_hint: str | None = None,
) -> CommandResult:
    """Run `argv` to its end, streaming its output lines; the caller judges the exit code.

    BuildError when the program is missing or the timeout passes; KeyboardInterrupt kills the
    child and propagates.
    """
    display = redact(shlex.join(argv))
    program = find_program(argv[0], hint=missing_hint)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    started = time.monotonic()
    process = _start([program, *argv[1:]], cwd=cwd, env=env)
    watchdog = _Watchdog(process, timeout)
    assert process.stdout is not None
    try:
        with process.stdout:
            _pump(process.stdout, tail, on_line)
        returncode = process.wait()
    except BaseException:  # Ctrl-C or a failing callback: the child must not outlive us
        _kill(process)
        raise
    finally:
        watchdog.cancel()
    seconds = time.monotonic() - started
    if watchdog.fired:
        msg = f"{display} did not finish within {timeout:g} s and was stopped"
        raise BuildError(msg, hint="\n".join(tail) or None)
    return CommandResult(display=display, returncode=returncode, tail=tuple(tail), seconds=seconds)


def _start(argv: list[str], *, cwd: Path, env: Mapping[str, str] | None) -> subprocess.Popen[str]:
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            # Its own process group, so that a kill also reaches the build backends it starts.
            start_new_session=_POSIX,
        )
    except OSError as exc:
        msg = f"cannot start {argv[0]}: {exc.strerror or exc}"
        raise BuildError(msg) from None


def _pump(stream: IO[str], tail: deque[str], on_line: LineCallback | None) -> None:
    """Read the child's output to its end; progress bars' carriage returns split lines too."""
    for chunk in stream:
        for raw in _NEWLINES.split(chunk):
            line = redact(raw.rstrip())
            if not line:
                continue
            tail.append(line)
            if on_line is not None:
                on_line(line)


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        with contextlib.suppress(OSError):
            if _POSIX:
                os.killpg(process.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows
                process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


class _Watchdog:
    """Kills the child when the timeout passes."""

    def __init__(self, process: subprocess.Popen[str], timeout: float | None) -> None:
        self.fired = False
        self._process = process
        self._timer = None if timeout is None else threading.Timer(timeout, self._fire)
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        _kill(self._process)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
