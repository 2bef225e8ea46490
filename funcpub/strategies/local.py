"""Local build: install wheels for Azure's Linux platform into .python_packages, here."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

from funcpub.appsettings import SettingChange, ensure
from funcpub.process import Command
from funcpub.strategies.base import SITE_PACKAGES, STAGING, BuildRequest

NO_REMOTE_BUILD = ensure(
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "false",
    "dependencies are in the package; Azure must not rebuild them",
)


def install_command(request: BuildRequest, *, python: str) -> tuple[str, ...]:
    """The installer command for the request's target (requirements file, markers and all)."""
    assert request.requirements is not None
    target = request.target
    destination = f"{STAGING}/{SITE_PACKAGES}"
    if request.installer == "uv":
        return (
            *("uv", "pip", "install", "--target", destination),
            *("--python-platform", target.uv_platform, "--python-version", target.python_version),
            *("-r", request.requirements),
        )
    platforms = [arg for tag in target.manylinux_tags for arg in ("--platform", tag)]
    return (
        *(python, "-m", "pip", "install", "--target", destination, *platforms),
        *("--python-version", target.python_version, "--implementation", "cp"),
        *("--abi", target.abi, "--only-binary=:all:", "-r", request.requirements),
    )


@dataclass(frozen=True)
class LocalStrategy:
    """`--build local`."""

    name: Literal["local"] = "local"
    ships_python_packages: bool = True

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """One install of the requirements for the target platform."""
        if request.requirements is None:
            return ()
        argv = install_command(request, python=sys.executable)
        purpose = f"install dependencies for {request.target.describe()}"
        return (Command(argv=argv, where="here", purpose=purpose),)

    def settings(self) -> tuple[SettingChange, ...]:
        """Keep Azure from rebuilding what was built here."""
        return (NO_REMOTE_BUILD,)
