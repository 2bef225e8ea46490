"""Docker build: the local install, run inside a linux/amd64 container like Azure's image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from funcpub.appsettings import SettingChange
from funcpub.build.base import BuildReporter, BuildResult
from funcpub.errors import BuildError
from funcpub.process import Command
from funcpub.strategies.base import BuildRequest
from funcpub.strategies.local import NO_REMOTE_BUILD, install_command

PLATFORM: Final = "linux/amd64"


def image_tag(python_version: str) -> str:
    """The local tag of the build image for a Python version."""
    return f"funcpub-build:python{python_version}"


@dataclass(frozen=True)
class DockerStrategy:
    """`--build docker`."""

    name: Literal["docker"] = "docker"
    ships_python_packages: bool = True

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """Build (or reuse) the image, then install inside a container from it."""
        version = request.target.python_version
        tag = image_tag(version)
        build = Command(
            argv=(
                *("docker", "build", "--platform", PLATFORM),
                *("--build-arg", f"PYTHON_VERSION={version}", "-t", tag, "dockerfiles/"),
            ),
            where="here",
            purpose=f"build image {tag} (reused when unchanged)",
        )
        if request.requirements is None:
            return (build,)
        install = Command(
            argv=install_command(request, python="python3"),
            where="container",
            purpose=f"install dependencies inside {tag} ({PLATFORM})",
        )
        return (build, install)

    def settings(self) -> tuple[SettingChange, ...]:
        """Keep Azure from rebuilding what the container built."""
        return (NO_REMOTE_BUILD,)

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Not in this version (its own issue): a clear error rather than a wrong package."""
        msg = "the docker build strategy is not available in this funcpub version"
        raise BuildError(
            msg, hint="use --build local, or build .python_packages and use --build none"
        )
