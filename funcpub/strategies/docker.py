"""Docker build: the install of `--build local`, run with pip inside a linux/amd64 container.

For requirements with native code and no manylinux wheel (Core Tools' `--build-native-deps`), and
for a pinned build environment. The image comes from funcpub's Dockerfile (or the user's, or a
prebuilt one) and is reused while its inputs are unchanged; the requirements and the local files
they reference go in as a tar stream, `.python_packages` comes back out the same way into the
staging folder, owned by this user, and then the local build's binary check runs.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from funcpub.appsettings import SettingChange
from funcpub.build.base import BuildReporter, BuildResult
from funcpub.build.tools import STEP_TIMEOUT, failure_message
from funcpub.container.engine import connect
from funcpub.container.images import PLATFORM, ensure_image, image_command, image_spec
from funcpub.container.inputs import APP, OUTPUT, container_inputs
from funcpub.container.lifecycle import BuildContainer, build_container
from funcpub.errors import BuildError, ContainerError
from funcpub.process import Command
from funcpub.strategies.base import PYTHON_PACKAGES, BuildRequest
from funcpub.strategies.local import NO_REMOTE_BUILD, checked_result

PYTHON: Final = "python3"
PIP_ENVIRONMENT: Final = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_NO_WARN_SCRIPT_LOCATION": "1",
    "PYTHONUNBUFFERED": "1",
}
INSTALL_HINT: Final = (
    "check requirements.txt, the index settings and the image's build tools (a missing "
    "system library: use --dockerfile with a BASE_IMAGE that has it); -v shows the full output"
)


def install_argv(requirements: str) -> tuple[str, ...]:
    """The pip command run in the container (its own platform is the target's)."""
    target = f"{OUTPUT}/{PYTHON_PACKAGES}/lib/site-packages"
    return (
        *(PYTHON, "-m", "pip", "install", "--target", target),
        *("--no-compile", "--progress-bar", "off", "-r", requirements),
    )


@dataclass(frozen=True)
class DockerStrategy:
    """`--build docker`."""

    name: Literal["docker"] = "docker"
    ships_python_packages: bool = True

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """Build (or reuse, or pull) the image, then install inside a container from it."""
        spec = image_spec(request.target.python_version, request.docker)
        verb = "pull the image when missing" if spec.prebuilt else "build the image"
        refresh = "" if spec.pull else " (reused when present)"
        make = Command(argv=image_command(spec), where="here", purpose=f"{verb}{refresh}")
        if request.requirements is None:
            return (make,)
        network = request.docker.network or "the engine's default"
        install = Command(
            argv=install_argv(f"/{APP}/{request.requirements}"),
            where="container",
            purpose=f"install dependencies in a {PLATFORM} container of {spec.tag} "
            f"(network: {network}; files go in and out as tar streams)",
        )
        return (make, install)

    def settings(self) -> tuple[SettingChange, ...]:
        """Keep Azure from rebuilding what the container built."""
        return (NO_REMOTE_BUILD,)

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Install in a container, copy `.python_packages` out, check the binaries."""
        if request.requirements is None:
            reporter.step("no requirements.txt: there are no dependencies to install")
            return BuildResult(python_packages=None)
        version = request.target.python_version
        spec = image_spec(version, request.docker)
        inputs = container_inputs(root, request.requirements, os.environ)
        with connect() as client:
            image = ensure_image(client, spec, reporter)
            reporter.step(f"installing dependencies in a {PLATFORM} container of {image}")
            with build_container(
                client,
                image,
                network=request.docker.network,
                reporter=reporter,
                secrets=inputs.secrets,
            ) as container:
                _check_python(container, image, version)
                container.put(inputs.files, inputs.texts)
                result = container.run(
                    install_argv(inputs.requirements),
                    workdir=f"/{APP}",
                    environment={**inputs.environment, **PIP_ENVIRONMENT},
                    timeout=STEP_TIMEOUT,
                )
                if not result.ok:
                    what = "installing the requirements in the build container failed"
                    raise BuildError(failure_message(what, result), hint=INSTALL_HINT)
                container.get(f"{OUTPUT}/{PYTHON_PACKAGES}", staging)
        checked = checked_result(request, staging, (), built_on_target=True)
        return dataclasses.replace(checked, image=image)


def _check_python(container: BuildContainer, image: str, version: str) -> None:
    """ContainerError unless the image's `python3` is the app's Python version."""
    probe = (PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    result = container.run(probe, workdir="/", timeout=60, quiet=True)
    found = result.tail[-1] if result.ok and result.tail else None
    if found == version:
        return
    has = f"Python {found}" if found else f"no working {PYTHON} ({result.tail_text(5)})"
    msg = f"the image {image} has {has}; the app needs Python {version}"
    raise ContainerError(msg, hint="use an image (or BASE_IMAGE) of the app's Python version")
