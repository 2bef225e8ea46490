"""What every build strategy provides, and the inputs it plans from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from funcpub.build.base import BuildReporter, BuildResult
from funcpub.options import DockerSettings, Installer, Options, StrategyName
from funcpub.project import FunctionProject
from funcpub.targets import TargetPlatform, target_platform

if TYPE_CHECKING:
    from funcpub.appsettings import SettingChange
    from funcpub.process import Command

# Where the Python worker looks for dependencies inside the app (wwwroot).
PYTHON_PACKAGES: Final = ".python_packages"
SITE_PACKAGES: Final = f"{PYTHON_PACKAGES}/lib/site-packages"
STAGING: Final = "<staging>"


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    """What a strategy needs to know to plan a build."""

    target: TargetPlatform
    installer: Installer
    requirements: str | None  # relpath of requirements.txt, None when the app has none
    docker: DockerSettings = field(default_factory=DockerSettings)  # docker builds only


@dataclass(frozen=True, kw_only=True)
class BuildEnvironment:
    """What a build installs with besides the requirements and the target: the dependency cache
    keys it (with them), so builds in different environments never share an entry."""

    identity: Mapping[str, str]  # the installer and its version, the image, ...
    describes: str  # for `funcpub cache list`
    renewed: str | None = None  # why this run renews the environment (then the build runs again)
    # The installer that runs on this machine in the app folder: its config files are keyed too.
    host_installer: Installer | None = None


def build_request(project: FunctionProject, options: Options) -> BuildRequest:
    """The strategy's inputs for `project` with the run's options (the plan's and the build's)."""
    requirements = project.relpath(project.requirements_path) if project.requirements_path else None
    return BuildRequest(
        target=target_platform(options.python_version),
        installer=options.installer,
        requirements=requirements,
        docker=options.docker,
    )


class BuildStrategy(Protocol):
    """One way of getting the app's dependencies into the package."""

    @property
    def name(self) -> StrategyName:
        """The `--build` value."""

    @property
    def ships_python_packages(self) -> bool:
        """Whether `.python_packages` goes into the zip."""

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """The commands the build will run, in order (shown by the plan)."""

    def settings(self) -> tuple[SettingChange, ...]:
        """App-setting changes this strategy needs on the target app."""

    def environment(
        self, request: BuildRequest, reporter: BuildReporter
    ) -> BuildEnvironment | None:
        """What the build of `request` installs with; None: its builds are not cached."""

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Run the build for the app at `root`.

        A strategy that installs writes `<staging>/.python_packages` (an empty folder it owns,
        with room for its own scratch files) and never touches `root`; BuildError on failure.
        """
