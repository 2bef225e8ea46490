"""Remote build: Oryx installs requirements.txt on the app's SCM (Kudu) site."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from funcpub.appsettings import SettingChange, ensure, remove
from funcpub.build.base import BuildReporter, BuildResult
from funcpub.process import Command
from funcpub.strategies.base import SITE_PACKAGES, BuildRequest


@dataclass(frozen=True)
class RemoteStrategy:
    """`--build remote` (the default for publish)."""

    name: Literal["remote"] = "remote"
    ships_python_packages: bool = False

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """Oryx's install step, as Kudu runs it after the upload."""
        if request.requirements is None:
            return ()
        argv = (
            *("python", "-m", "pip", "install", "--cache-dir", "/usr/local/share/pip-cache"),
            *("--prefer-binary", "-r", request.requirements, f"--target={SITE_PACKAGES}"),
            "--upgrade",
        )
        purpose = f"Oryx build on the app's SCM site with Python {request.target.python_version}"
        return (Command(argv=argv, where="azure", purpose=purpose),)

    def settings(self) -> tuple[SettingChange, ...]:
        """Turn the build on; an existing `false` would silently skip pip."""
        return (
            ensure("SCM_DO_BUILD_DURING_DEPLOYMENT", "true", "Kudu must run the Oryx build"),
            ensure("ENABLE_ORYX_BUILD", "true", "Kudu must run the Oryx build"),
            remove("WEBSITE_RUN_FROM_PACKAGE", "a package URL would bypass the remote build"),
        )

    def environment(self, request: BuildRequest, reporter: BuildReporter) -> None:
        """Azure installs the requirements: nothing here is cached."""

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Nothing is built here: Azure installs the requirements after the upload."""
        return BuildResult(python_packages=None)
