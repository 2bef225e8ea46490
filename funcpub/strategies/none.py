"""No build: ship the .python_packages the user built (Core Tools' --no-build)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from funcpub.appsettings import SettingChange
from funcpub.build.base import BuildReporter, BuildResult
from funcpub.build.binaries import check_binaries
from funcpub.build.distributions import read_distributions
from funcpub.process import Command
from funcpub.strategies.base import PYTHON_PACKAGES, SITE_PACKAGES, BuildRequest
from funcpub.strategies.local import NO_REMOTE_BUILD


@dataclass(frozen=True)
class NoBuildStrategy:
    """`--build none`."""

    name: Literal["none"] = "none"
    ships_python_packages: bool = True

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """Nothing runs: the package is the app as it is."""
        return ()

    def settings(self) -> tuple[SettingChange, ...]:
        """Keep Azure from rebuilding the shipped dependencies."""
        return (NO_REMOTE_BUILD,)

    def environment(self, request: BuildRequest, reporter: BuildReporter) -> None:
        """Nothing is installed: the user's own `.python_packages` is not cached."""

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Nothing to install: check the user's own `.python_packages` (findings are warnings).

        The user chose what ships; problems such as a `*-darwin.so` from a Mac, a `win_amd64`
        wheel or an extension for another CPython are reported, not fatal.
        """
        packages = root / PYTHON_PACKAGES
        if not packages.is_dir():
            return BuildResult(python_packages=None)
        reporter.step(f"checking the binaries in {PYTHON_PACKAGES} for {request.target.describe()}")
        site = root / SITE_PACKAGES
        problems = check_binaries(site, request.target)
        return BuildResult(
            python_packages=packages,
            installed=tuple(dist.pin for dist in read_distributions(site)),
            warnings=tuple(f"will not run on Azure: {p.describe()}" for p in problems),
        )
