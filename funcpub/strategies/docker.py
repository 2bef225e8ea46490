"""Docker build: the install of `--build local`, run with pip inside a linux/amd64 container.

For requirements with native code and no manylinux wheel (Core Tools' `--build-native-deps`), and
for a pinned build environment. The image comes from funcpub's Dockerfile (or the user's, or a
prebuilt one) and is reused while its inputs are unchanged (`funcpub.container`); then the local
build's binary check runs. The dependency cache keys the build by its image and network, so a
hit needs no engine (except to look up the ID of an `--image`). The container engine's client
(the docker SDK) is imported only when the engine is used, so other builds never load it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from funcpub.appsettings import SettingChange
from funcpub.build.base import BuildReporter, BuildResult
from funcpub.container.spec import APP, PLATFORM, ImageSpec, image_command, image_spec, install_argv
from funcpub.process import Command
from funcpub.strategies.base import BuildEnvironment, BuildRequest
from funcpub.strategies.local import NO_REMOTE_BUILD, checked_result, nothing_to_install


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

    def environment(self, request: BuildRequest, reporter: BuildReporter) -> BuildEnvironment:
        """The image and the network; `--pull` renews them.

        An image built from a Dockerfile is known by its content-hashed tag, without the engine;
        a prebuilt `--image` by the ID the engine has for it (pulled first when missing).
        """
        spec = image_spec(request.target.python_version, request.docker)
        network = request.docker.network or "default"
        image = _image_identity(spec, reporter)
        return BuildEnvironment(
            identity={"image": image, "network": network},
            describes=f"docker {image} (network {network}), {request.target.describe()}",
            renewed="--pull" if spec.pull else None,
        )

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Install in a container, copy `.python_packages` out, check the binaries."""
        if request.requirements is None:
            return nothing_to_install(reporter)
        from funcpub.container.install import install_in_container

        image = install_in_container(request, root=root, staging=staging, reporter=reporter)
        checked = checked_result(request, staging, (), built_on_target=True)
        return dataclasses.replace(checked, image=image)


def _image_identity(spec: ImageSpec, reporter: BuildReporter) -> str:
    if not spec.prebuilt:
        return spec.tag
    from funcpub.container.images import image_id

    return f"{spec.tag}@{image_id(spec, reporter)}"
