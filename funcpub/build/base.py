"""What a build reports through, and what it hands back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from funcpub.ignore import IncludedFile


class BuildReporter(Protocol):
    """Where a build's progress goes; `funcpub.console.Console` implements it."""

    def step(self, message: str) -> None:
        """A stage of the build starts."""

    def warn(self, message: str) -> None:
        """Something the user should know, though the build goes on."""

    def command(self, display: str) -> None:
        """A command is about to run (already redacted)."""

    def output(self, line: str) -> None:
        """One line a running command printed (already redacted)."""

    def secret(self, value: str) -> None:
        """Never print `value` (an index credential the build uses)."""


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    """A finished build: where its `.python_packages` is and what it holds."""

    python_packages: Path | None  # the `.python_packages` folder that ships; None: nothing
    installed: tuple[str, ...] = ()  # "name==version" of every distribution, sorted
    built_from_source: tuple[str, ...] = ()  # pure-Python sdists built into wheels here
    warnings: tuple[str, ...] = ()  # binary-check findings a user-built tree keeps (--build none)
    image: str | None = None  # the container image the build ran in (docker builds)
    # The files of `python_packages` when they are already listed (a cached build); None: walk it.
    files: tuple[IncludedFile, ...] | None = None


class NullReporter:
    """A reporter that drops everything (library callers that want no progress)."""

    def step(self, message: str) -> None:
        """Dropped."""

    def warn(self, message: str) -> None:
        """Dropped."""

    def command(self, display: str) -> None:
        """Dropped."""

    def output(self, line: str) -> None:
        """Dropped."""

    def secret(self, value: str) -> None:
        """Dropped: nothing is printed."""
