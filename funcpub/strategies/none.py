"""No build: ship the .python_packages the user built (Core Tools' --no-build)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from funcpub.appsettings import SettingChange
from funcpub.process import Command
from funcpub.strategies.base import BuildRequest
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
