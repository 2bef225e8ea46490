"""The emulator's Oryx: the remote build Kudu runs for a Linux Python app after a zip push.

When the site's settings ask for a build (see `build_skipped`), the extracted repository is
copied to a new release folder and `requirements.txt` is installed into its
`.python_packages/lib/site-packages` with `python -m pip install ... --target ... --upgrade`, as
Oryx does, by an interpreter of the site's Python version: `pythonX.Y` on PATH or one uv
manages (never downloaded). pip sees the site's app settings as its environment (PIP_INDEX_URL,
PIP_FIND_LINKS, `${VAR}` in requirements.txt ...) and never this machine's pip configuration.
An `oryx-manifest.toml` is written, and every step goes to the deployment log the way
KuduLite and Oryx word it, each pip line as a detail while it runs.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol

from funcpub.build.tools import uv_executable
from funcpub.emulator.records import LOG_ERROR, LOG_MESSAGE, LOG_WARNING, SiteRecord
from funcpub.emulator.sites import truthy
from funcpub.errors import BuildError
from funcpub.functionhost import BASIC_ENVIRONMENT
from funcpub.process import run_command

PACKAGE_DIR: Final = ".python_packages/lib/site-packages"
MANIFEST: Final = "oryx-manifest.toml"
REQUIREMENTS: Final = "requirements.txt"
BUILD_TIMEOUT: Final = 1800.0
PROBE_TIMEOUT: Final = 30.0
TROUBLESHOOT: Final = "https://aka.ms/troubleshoot-python"
NO_REQUIREMENTS: Final = (
    "Could not find requirements.txt, pyproject.toml, or setup.py; Not installing dependencies..."
)
_PYTHON_STACK = re.compile(r"python\|(3\.\d{1,2})", re.IGNORECASE)
# Prints "3.11.7 yes" when the interpreter can run pip.
_PROBE: Final = (
    "import sys, importlib.util; v = sys.version_info; "
    "print(f'{v[0]}.{v[1]}.{v[2]}', 'yes' if importlib.util.find_spec('pip') else 'no')"
)


class BuildFailedError(Exception):
    """The build failed; the message goes to the log as the deployment's error entry."""


class BuildLog(Protocol):
    """Appends one entry to the deployment's log; its id (a parent for detail entries)."""

    def __call__(self, message: str, kind: int = LOG_MESSAGE, parent: str | None = None) -> str: ...


def build_skipped(settings: Mapping[str, str], *, remote_build: bool | None = None) -> str | None:
    """Why Kudu deploys the files as pushed (KuduLite's SiteBuilderFactory); None: Oryx builds.

    `remote_build` is OneDeploy's `RemoteBuild` query flag (Flex), which decides on its own.
    """
    if remote_build is not None:
        return None if remote_build else "RemoteBuild=false: the package is deployed as pushed."
    if settings.get("WEBSITE_RUN_FROM_PACKAGE", "").strip():
        return "WEBSITE_RUN_FROM_PACKAGE is set: the package runs as pushed, without a build."
    if not truthy(settings.get("SCM_DO_BUILD_DURING_DEPLOYMENT")):
        return "Build is off (SCM_DO_BUILD_DURING_DEPLOYMENT is not true)."
    oryx = settings.get("ENABLE_ORYX_BUILD")
    if oryx is not None and not truthy(oryx):
        return "ENABLE_ORYX_BUILD is false: the files are deployed without an Oryx build."
    if settings.get("FUNCTIONS_WORKER_RUNTIME", "").strip().lower() != "python":
        return "FUNCTIONS_WORKER_RUNTIME is not python: the files are deployed without a build."
    return None


def python_version(site: SiteRecord) -> str:
    """MAJOR.MINOR from the site's `linuxFxVersion` (`Python|3.11`); BuildFailedError if none.

    A Flex app has no linuxFxVersion: its runtime is in functionAppConfig.
    """
    if site.is_flex:
        return site.python
    stack = str(site.site_config.get("linuxFxVersion") or "")
    match = _PYTHON_STACK.fullmatch(stack.strip())
    if match is None:
        msg = f"linuxFxVersion is {stack!r}, not a Python stack (Python|3.X): no Python to use."
        raise BuildFailedError(msg)
    return match.group(1)


def oryx_build(
    site: SiteRecord,
    source: Path,
    output: Path,
    *,
    cache: Path,
    log: BuildLog,
    stopping: threading.Event,
) -> None:
    """Build `source` into `output` (a new folder), logging like Oryx; removed again on failure.

    Once `stopping` is set (the emulator stops), pip is killed at its next output line.
    """
    top = log("Running oryx build...")
    try:
        details = _Details(log, top, stopping)
        _build(site, source, output, cache=cache, log=details)
    except BaseException:
        shutil.rmtree(output, ignore_errors=True)
        raise


class _Details:
    """Detail lines under one top-level log entry."""

    def __init__(self, log: BuildLog, parent: str, stopping: threading.Event) -> None:
        self._log = log
        self._parent = parent
        self._stopping = stopping

    def __call__(self, message: str, kind: int = LOG_MESSAGE) -> None:
        if self._stopping.is_set():
            msg = "The build was stopped: the emulator is shutting down."
            raise BuildFailedError(msg)
        self._log(message, kind, parent=self._parent)


def _build(site: SiteRecord, source: Path, output: Path, *, cache: Path, log: _Details) -> None:
    settings = site.app_settings
    version = python_version(site)
    operation = secrets.token_hex(8)
    log(f"Command: {_oryx_command(settings, source, output, version, operation)}")
    log("Operation performed by Microsoft Oryx, https://github.com/Microsoft/Oryx")
    log("Oryx Version: funcpub emulator")
    log(f"Build Operation ID: {operation}")
    log(f"Source directory     : {source}")
    log(f"Destination directory: {output}")
    log("Detecting platforms...")
    python, full_version = _interpreter(version, log)
    log(f"Detected following platforms:\n  python: {full_version}")
    started = time.monotonic()
    shutil.copytree(source, output, symlinks=True)
    log(f"Copied the source to the destination directory in {_seconds(started)} sec(s).")
    log(f"Python Version: {python}")
    if (output / REQUIREMENTS).is_file():
        _pip_install(python, output, settings, cache=cache, log=log)
    else:
        log(NO_REQUIREMENTS)
    _write_manifest(output, full_version, operation, source, log)


def _oryx_command(
    settings: Mapping[str, str], source: Path, output: Path, version: str, operation: str
) -> str:
    """The `oryx build` line KuduLite runs for a Dedicated / Premium app (shown, not run)."""
    argv = ["oryx", "build", str(source), "-o", str(output), "--platform", "python"]
    argv += ["--platform-version", version]
    if settings.get("BUILD_FLAGS", "UseExpressBuild").strip().lower() != "off":
        argv += ["-i", str(output.parent / f".oryx-{operation}")]
    return shlex.join([*argv, "-p", f"packagedir={PACKAGE_DIR}"])


def _interpreter(version: str, log: _Details) -> tuple[str, str]:
    """An interpreter of `version` that can run pip, and its full version; BuildFailedError."""
    for candidate in _candidates(version):
        found = _probe(candidate)
        if found is None or not found[0].startswith(f"{version}."):
            continue
        if found[1] != "yes":
            log(f"{candidate} (Python {found[0]}) has no pip; looking further.", LOG_WARNING)
            continue
        return candidate, found[0]
    msg = (
        f"Python {version} is not available to the emulator's Oryx: no python{version} with pip"
        f" on PATH and no uv-managed Python {version} (install one, e.g. `uv python install"
        f" {version}`)."
    )
    raise BuildFailedError(msg)


def _candidates(version: str) -> list[str]:
    """`pythonX.Y` on PATH, then the interpreter `uv python find` reports (no downloads)."""
    found = [path for path in (shutil.which(f"python{version}"),) if path]
    uv_find = [uv_executable(), "python", "find", "--system", "--no-python-downloads", version]
    try:
        result = subprocess.run(
            uv_find, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return found
    if result.returncode == 0 and result.stdout.strip():
        found.append(result.stdout.strip())
    return found


def _probe(python: str) -> tuple[str, str] | None:
    """(full version, "yes"|"no" for pip) of `python`; None when it does not run."""
    try:
        result = subprocess.run(
            [python, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = result.stdout.split()
    return (words[0], words[1]) if result.returncode == 0 and len(words) == 2 else None


def pip_environment(settings: Mapping[str, str], home: Path) -> dict[str, str]:
    """The build's environment: the app settings (as on Kudu), never this machine's pip setup."""
    basic = {name: os.environ[name] for name in BASIC_ENVIRONMENT if name in os.environ}
    quiet = {  # the app's settings may say otherwise
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_PROGRESS_BAR": "off",
        "PIP_ROOT_USER_ACTION": "ignore",  # Oryx's build container runs pip as root too
    }
    return {
        **basic,
        **quiet,
        **settings,
        "HOME": str(home),
        "PIP_CONFIG_FILE": os.devnull,  # no pip.conf of this machine or user
        "PYTHONUNBUFFERED": "1",
    }


def _pip_install(
    python: str, output: Path, settings: Mapping[str, str], *, cache: Path, log: _Details
) -> None:
    argv = [python, "-m", "pip", "install", "--cache-dir", str(cache), "--prefer-binary"]
    argv += ["-r", REQUIREMENTS, f"--target={PACKAGE_DIR}"]
    if not truthy(settings.get("ORYX_DISABLE_PIP_UPGRADE")):
        argv.append("--upgrade")
    log(f"Running pip install...\n{shlex.join(argv)}")
    home = cache.parent / "home"
    home.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []

    def line(text: str) -> None:
        if text.startswith("ERROR:"):
            errors.append(text)
        log(f"[{time.strftime('%H:%M:%S', time.gmtime())}+0000] {text}")

    started = time.monotonic()
    try:
        environment = pip_environment(settings, home)
        result = run_command(argv, cwd=output, env=environment, on_line=line, timeout=BUILD_TIMEOUT)
    except BuildError as error:
        raise BuildFailedError(f"pip install could not run: {error.message}") from None
    if not result.ok:
        output_text = "\n".join(errors) or result.tail_text(5)
        log(
            f"{output_text} | Exit code: {result.returncode} | Please review your requirements.txt"
            f" | More information: {TROUBLESHOOT}",
            LOG_ERROR,
        )
        msg = f"Oryx build failed: pip install exited with code {result.returncode}."
        raise BuildFailedError(msg)
    log(f"pip install done in {_seconds(started)} sec(s).")


def _write_manifest(
    output: Path, full_version: str, operation: str, source: Path, log: _Details
) -> None:
    manifest = output / MANIFEST
    if manifest.exists():
        log("Removing existing manifest file")
        manifest.unlink()
    log("Creating a manifest file...")
    values = {
        "PythonVersion": full_version,
        "packagedir": PACKAGE_DIR,
        "PlatformName": "python",
        "OperationId": operation,
        "SourceDirectoryInBuildContainer": str(source),
        "CompressDestinationDir": "false",
    }
    manifest.write_text("".join(f'{key}="{value}"\n' for key, value in values.items()), "utf-8")
    log("Manifest file created.")


def _seconds(started: float) -> int:
    return round(time.monotonic() - started)
