"""`funcpub lock`: direct requirements resolved into a pinned, hashed lock for the target.

With uv (the default), `uv pip compile --python-platform --python-version` resolves for Azure's
platform: markers, wheel tags and Requires-Python are the target's. With `--installer pip`,
pip-tools' `pip-compile` runs in funcpub's own interpreter and resolves for it: markers and
Requires-Python are this machine's (funcpub warns when they differ from the target's). Both
write every version pinned with the hashes of its files, so a build installs exactly those
files or fails (pip and uv check hashes when a requirements file has them).

The lock is written to a temporary file (seeded with the previous lock, whose pins both tools
keep unless `--upgrade`) and renamed into place only when the tool succeeded.

Both tools write the index URLs they used, passwords included, even when they came from the
environment (PIP_INDEX_URL, UV_INDEX_URL...) or from a `${VARIABLE}` of requirements.in. A lock
is committed and shipped, so such a URL is written back as the `${VARIABLE}` it came from (pip
and uv expand it where the lock is installed); a password with no variable to name is masked.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from funcpub.build.base import BuildReporter
from funcpub.build.tools import failure_message, run_step
from funcpub.errors import BuildError
from funcpub.options import Installer
from funcpub.requirements import has_credentials, mask_credentials, redact, scan_requirements
from funcpub.targets import TargetPlatform

COMPILE_COMMAND: Final = "funcpub lock"
# Where pip and uv read index URLs from the environment.
INDEX_VARIABLES: Final = (
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS",
    "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_FIND_LINKS",
)  # fmt: skip
_URL_TOKEN: Final = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s]+")
_VARIABLE: Final = re.compile(r"\$\{([A-Z0-9_]+)\}")  # what pip and uv expand


@dataclass(frozen=True, kw_only=True)
class LockRequest:
    """What to resolve, for which target, with which tool, into which file."""

    source: Path  # the direct requirements (requirements.in)
    output: Path  # the lock (requirements.txt)
    target: TargetPlatform
    installer: Installer
    upgrade: bool = False


def lock_command(request: LockRequest, output: Path, *, root: Path) -> tuple[str, ...]:
    """The resolver's command line (run in `root`), writing to `output`."""
    target = request.target
    upgrade = ("--upgrade",) if request.upgrade else ()
    source = os.path.relpath(request.source, root)  # as the lock's "via -r" comments name it
    if request.installer == "uv":
        return (
            *("uv", "pip", "compile", source, "--python", sys.executable),
            *("--python-platform", target.uv_platform, "--python-version", target.python_version),
            *("--generate-hashes", "--emit-index-url", "--emit-find-links", *upgrade),
            *("--custom-compile-command", COMPILE_COMMAND, "--output-file", str(output)),
        )
    return (
        *(sys.executable, "-m", "piptools", "compile", "--generate-hashes", "--allow-unsafe"),
        *("--strip-extras", "--emit-index-url", "--emit-find-links", *upgrade),
        *("--output-file", str(output), source),
    )


def write_lock(request: LockRequest, *, root: Path, reporter: BuildReporter) -> int:
    """Resolve and write the lock; the number of pinned requirements. BuildError on failure."""
    request.output.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{request.output.name}.", suffix=".tmp", dir=request.output.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        if request.output.is_file():
            shutil.copyfile(request.output, temporary)  # the tools keep its pins
        env = {"CUSTOM_COMPILE_COMMAND": COMPILE_COMMAND}
        result = run_step(
            lock_command(request, temporary, root=root), cwd=root, reporter=reporter, env=env
        )
        if not result.ok:
            raise BuildError(
                failure_message(f"resolving {request.source.name} failed", result),
                hint="check the requirements and the index settings; -v shows the full output",
            )
        if masked := spell_credentials(temporary, request.source, os.environ):
            reporter.warn(
                f"the lock's URL {masked} has a password no environment variable gives: it is "
                f"written masked; write it in {request.source.name} as ${{VARIABLE}} (pip and "
                "uv expand it)"
            )
        temporary.replace(request.output)
    finally:
        temporary.unlink(missing_ok=True)
    return pinned_count(request.output)


def pinned_count(lock: Path) -> int:
    """How many `name==version` lines the lock has."""
    text = lock.read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if "==" in line and not line.startswith((" ", "#")))


def spell_credentials(lock: Path, source: Path, environ: Mapping[str, str]) -> str | None:
    """Rewrite every URL of `lock` holding a password as the variables it came from, else
    masked; the first masked URL (redacted), None when none was."""
    spellings = _credential_spellings(source, environ)
    masked: list[str] = []

    def spelled(match: re.Match[str]) -> str:
        url = match.group(0)
        if not has_credentials(url):
            return url
        spelling = spellings.get(url.rstrip("/"))
        if spelling is None:
            masked.append(redact(url))
        return spelling or mask_credentials(url)

    text = lock.read_text(encoding="utf-8")
    lock.write_text(_URL_TOKEN.sub(spelled, text), encoding="utf-8")
    return masked[0] if masked else None


def _credential_spellings(source: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """URLs with credentials as pip and uv see them, and how to write them without: a
    `${VARIABLE}` spelling of the requirements files, or a whole index variable's value."""
    spellings = {
        value.rstrip("/"): f"${{{name}}}"
        for name in INDEX_VARIABLES
        if len(parts := environ.get(name, "").split()) == 1
        and _URL_TOKEN.fullmatch(value := parts[0])
        and has_credentials(value)
    }
    for path in scan_requirements(source).files:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        for url in _URL_TOKEN.findall(text):
            expanded = _VARIABLE.sub(lambda m: environ.get(m.group(1), m.group(0)), url)
            if expanded != url:
                spellings[expanded.rstrip("/")] = url
    return spellings
