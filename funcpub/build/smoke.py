"""The smoke import: load the app's functions as Azure's worker would, before anything ships.

The package's files are laid out as a wwwroot (links, not copies) and the emulator's Functions
host indexes it with a fresh interpreter of the target's Python version: its `sys.path` is only
the app, `.python_packages/lib/site-packages` and `azure.functions`, as on Azure. So a missing
requirement (ModuleNotFoundError) or a crash at import time stops the run here. The interpreter
is this one when its version matches, else the one `uv python find` reports, and only on a
machine that can load the package's binaries (Linux of the target's architecture and glibc);
otherwise a docker build runs it with the build image's `python3` (`funcpub.container.smoke`),
any other build skips it, and the run says why.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from funcpub.build.base import BuildReporter
from funcpub.build.tools import run_step
from funcpub.container.spec import ImageSpec
from funcpub.errors import BuildError
from funcpub.ignore import PYTHON_PACKAGES, IncludedFile
from funcpub.targets import TargetPlatform

SmokeMode = Literal["auto", "on", "off"]
SMOKE_TIMEOUT: Final = 120.0
FIND_TIMEOUT: Final = 60.0
MAX_ERROR_LINES: Final = 30
SYSTEMS: Final = {"darwin": "macOS", "win32": "Windows", "cygwin": "Windows (Cygwin)"}


@dataclass(frozen=True, kw_only=True)
class SmokeOutcome:
    """What the smoke import did."""

    ran: bool
    python: str | None  # the interpreter it used
    detail: str  # the functions it found, or why it was skipped


def host_mismatch(target: TargetPlatform) -> str | None:
    """Why this machine cannot load the package's binaries, or None when it can.

    CPython loads Linux extension modules only on Linux of their architecture, with a glibc at
    least as new as they need; the binary check caps that at the target's glibc.
    """
    machine = platform.machine()
    if sys.platform != "linux":
        host = f"{SYSTEMS.get(sys.platform, sys.platform)} {machine}"
    else:
        glibc = host_glibc()
        if machine == target.arch and glibc is not None and glibc >= target.glibc_version:
            return None
        shown = "without glibc" if glibc is None else f"with glibc {'.'.join(map(str, glibc))}"
        host = f"Linux {machine} {shown}"
    return (
        f"this machine is {host} and the package is for Linux {target.arch} (glibc {target.glibc})"
    )


def host_glibc() -> tuple[int, ...] | None:
    """This Linux machine's glibc version, e.g. `(2, 36)`; None with another C library."""
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):  # a C library without the name (musl)
        return None
    match = re.fullmatch(r"glibc (\d+)\.(\d+).*", found)
    return tuple(int(part) for part in match.groups()) if match else None


def find_interpreter(version: str, *, root: Path, reporter: BuildReporter) -> str | None:
    """An interpreter of Python `version` on this machine (never downloaded), or None."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found: list[str] = []
    argv = ("uv", "python", "find", "--no-python-downloads", version)
    result = run_step(argv, cwd=root, reporter=_Collect(reporter, found), timeout=FIND_TIMEOUT)
    path = found[-1].strip() if result.ok and found else ""
    return path if path and Path(path).is_file() else None


class _Collect:
    """Forwards a reporter, keeping the command's output lines instead of showing them."""

    def __init__(self, reporter: BuildReporter, lines: list[str]) -> None:
        self._reporter = reporter
        self._lines = lines

    def step(self, message: str) -> None:
        self._reporter.step(message)

    def warn(self, message: str) -> None:
        self._reporter.warn(message)

    def command(self, display: str) -> None:
        self._reporter.command(display)

    def output(self, line: str) -> None:
        self._lines.append(line)

    def secret(self, value: str) -> None:
        self._reporter.secret(value)


def smoke_import(
    files: Iterable[IncludedFile],
    *,
    target: TargetPlatform,
    mode: SmokeMode,
    root: Path,
    scratch: Path,
    reporter: BuildReporter,
    image: ImageSpec | None = None,
    reusable_dependencies: bool = False,
) -> SmokeOutcome:
    """Index the packaged app in a fresh interpreter; BuildError when it does not import.

    Without a host interpreter of the target's version that can load the package, a docker
    build's `image` runs it instead (made first when it is missing).
    `reusable_dependencies` (they live in the dependency cache, not in the project): the host
    interpreter keeps the bytecode it compiles for them there, so the next smoke import of the
    same dependencies loads it instead of compiling again (only `files` recorded at build time
    ship, so the bytecode never does).
    """
    if mode == "off":
        return SmokeOutcome(ran=False, python=None, detail="skipped (--no-smoke)")
    version = target.python_version
    mismatch = host_mismatch(target)
    python = None if mismatch else find_interpreter(version, root=root, reporter=reporter)
    if python is not None:
        reporter.step(f"smoke import: loading the functions with {python} (Python {version})")
        return _index(
            files, python=python, where=python, version=version, scratch=scratch,
            write_bytecode=reusable_dependencies,
        )  # fmt: skip
    if image is not None and os.name == "posix":
        from funcpub.container.smoke import container_python  # the docker SDK: docker builds only

        why = mismatch or "no local Python of the version"
        with container_python(image, scratch, reporter, why=why) as proxy:
            where = f"python3 in a container of {image.tag}"
            return _index(files, python=proxy, where=where, version=version, scratch=scratch)
    if mismatch:
        return _cannot_run(mismatch, remedy=_elsewhere(target), mode=mode, reporter=reporter)
    missing = f"no Python {version} interpreter on this machine"
    remedy = f"install Python {version} to import the app before deploying"
    return _cannot_run(missing, remedy=remedy, mode=mode, reporter=reporter)


def _elsewhere(target: TargetPlatform) -> str:
    """Where the smoke import can run when this machine cannot load the package."""
    if os.name == "posix":
        return "use --build docker: it imports the app in a Linux container"
    return f"build on Linux {target.arch} with glibc {target.glibc} or newer to import the app"


def _cannot_run(
    reason: str, *, remedy: str, mode: SmokeMode, reporter: BuildReporter
) -> SmokeOutcome:
    """BuildError when the smoke import is required, else a warning: it was skipped."""
    if mode == "on":
        raise BuildError(
            f"the smoke import cannot run: {reason}", hint=f"{remedy}; --no-smoke skips it"
        )
    reporter.warn(f"smoke import skipped: {reason}; {remedy}")
    return SmokeOutcome(ran=False, python=None, detail=f"skipped: {reason}")


def _index(
    files: Iterable[IncludedFile],
    *,
    python: str,
    where: str,
    version: str,
    scratch: Path,
    write_bytecode: bool = False,
) -> SmokeOutcome:
    from funcpub.functionhost import FunctionHost, prepare_worker_dir  # only when it runs

    wwwroot = lay_out(files, scratch / "wwwroot")
    worker = prepare_worker_dir(scratch / "worker")
    host = FunctionHost(wwwroot, python=python, worker_dir=worker, write_bytecode=write_bytecode)
    try:
        result = host.index(SMOKE_TIMEOUT)
    finally:
        host.close(graceful=False)  # its answer is all the smoke import needs
    if result.errors:
        lines = "\n".join(result.errors).splitlines()[:MAX_ERROR_LINES]
        msg = f"the app fails to import with Python {version}:\n" + "\n".join(lines)
        raise BuildError(
            msg,
            hint="add what is missing to requirements.txt or fix the import; --no-smoke skips this",
        )
    names = ", ".join(f.name for f in result.functions) or "none"
    return SmokeOutcome(ran=True, python=where, detail=f"functions: {names}")


def lay_out(files: Iterable[IncludedFile], wwwroot: Path) -> Path:
    """A wwwroot of links to the package's files (copies where links are not allowed)."""
    from funcpub.functionhost.workerdir import link

    linked = ""  # the `.python_packages` folder linked, with a trailing separator
    for item in files:
        top = item.relpath.split("/", 1)[0]
        if top != PYTHON_PACKAGES:
            link(item.source, wwwroot / item.relpath)
        elif not linked or not str(item.source).startswith(linked):
            source = _python_packages_of(item)
            link(source, wwwroot / PYTHON_PACKAGES)
            linked = f"{source}{os.sep}"
    wwwroot.mkdir(parents=True, exist_ok=True)
    return wwwroot


def _python_packages_of(item: IncludedFile) -> Path:
    """The `.python_packages` folder `item` is in (one link stands for the whole tree)."""
    depth = item.relpath.count("/")
    return item.source.parents[depth - 1]
