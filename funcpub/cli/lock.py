"""`funcpub lock`: write a pinned, hashed requirements.txt for the target from requirements.in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from funcpub.build.lockfile import LockRequest, write_lock
from funcpub.build.tools import require_pip
from funcpub.cli.building import BuildProgress, Verbose
from funcpub.cli.common import AppDir, Installer, PythonVersion, load, make_console
from funcpub.errors import ConfigError
from funcpub.strategies.local import warn_about_pip_markers
from funcpub.targets import target_platform

Source = Annotated[
    Path | None,
    typer.Option("--input", "-i", help="Direct requirements [default: <app>/requirements.in]."),
]
LockOutput = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="The lock to write [default: <app>/requirements.txt]."),
]
Upgrade = Annotated[
    bool, typer.Option("--upgrade", "-U", help="Take the newest versions, not the lock's pins.")
]


def lock(
    ctx: typer.Context,
    app_dir: AppDir = Path(),
    source: Source = None,
    output: LockOutput = None,
    python_version: PythonVersion = None,
    installer: Installer = None,
    upgrade: Upgrade = False,
    verbose: Verbose = False,
) -> None:
    """Resolve requirements.in into requirements.txt: every version pinned, with hashes."""
    console = make_console(ctx, json_mode=False)
    cli = {"python-version": python_version, "installer": installer}
    loaded = load("pack", app_dir, cli, console)
    root = loaded.project.root
    request = LockRequest(
        source=(source or root / "requirements.in").resolve(),
        output=(output or root / "requirements.txt").resolve(),
        target=target_platform(loaded.options.python_version),
        installer=loaded.options.installer,
        upgrade=upgrade,
    )
    _check_files(request)
    progress = BuildProgress(console, verbose=verbose)
    if request.installer == "pip":
        require_pip()
        warn_about_pip_markers(request.target, progress)
    console.step(f"resolving {request.source.name} for {request.target.describe()}")
    count = write_lock(request, root=root, reporter=progress)
    console.end_status()
    tool = "uv" if request.installer == "uv" else "pip-compile"
    console.result(f"wrote {request.output}: {count} pinned requirement(s) with hashes ({tool})")


def _check_files(request: LockRequest) -> None:
    if not request.source.is_file():
        msg = f"{request.source} does not exist"
        hint = (
            "keep the app's direct requirements in requirements.in (funcpub lock writes "
            "requirements.txt from it), or pass --input"
        )
        raise ConfigError(msg, hint=hint)
    if request.source == request.output:
        msg = f"--input and --output are the same file ({request.source.name})"
        raise ConfigError(
            msg, hint="the lock replaces its output: keep the direct requirements apart"
        )
