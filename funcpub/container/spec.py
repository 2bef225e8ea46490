"""What a docker build runs: the image (funcpub's Dockerfile, the user's, or a prebuilt one) and
the install command inside it.

Pure: tags and commands come from the Dockerfile's content and the build arguments, so a plan can
show them without a container engine (`funcpub.container.install` runs them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import funcpub
from funcpub.errors import ContainerError
from funcpub.ignore import PYTHON_PACKAGES
from funcpub.options import DockerSettings

PLATFORM: Final = "linux/amd64"
PYTHON: Final = "python3"  # the build image's interpreter
APP: Final = "funcpub/app"  # the install's working folder; relpaths here are from `/`
OUTPUT: Final = "/funcpub/out"  # where the install writes `.python_packages`
DOCKERFILE: Final = "Dockerfile"
BASE_IMAGE_ARG: Final = "BASE_IMAGE"  # the build argument naming the base image
IMAGE_REPOSITORY: Final = "funcpub-build"
BUILDENV: Final = "mcr.microsoft.com/azure-functions/python:4-python{version}-buildenv"
# Older versions' build images carry a host version instead of `4`.
BUILDENV_EXCEPTIONS: Final[Mapping[str, str]] = {
    "3.9": "mcr.microsoft.com/azure-functions/python:3.0.15066-python3.9-buildenv",
}


def dockerfiles_dir() -> Path:
    """funcpub's `dockerfiles/`: inside the installed package, else beside it (a checkout)."""
    package = Path(funcpub.__file__).parent
    for candidate in (package / "dockerfiles", package.parent / "dockerfiles"):
        if (candidate / DOCKERFILE).is_file():
            return candidate
    msg = f"funcpub's Dockerfile is missing (looked in {package / 'dockerfiles'})"
    raise ContainerError(msg, hint="reinstall funcpub, or pass --dockerfile or --image")


def default_base_image(python_version: str) -> str:
    """Microsoft's Functions Python build image for `python_version`."""
    return BUILDENV_EXCEPTIONS.get(python_version) or BUILDENV.format(version=python_version)


@dataclass(frozen=True, kw_only=True)
class ImageSpec:
    """Which image a docker build runs in, and how it comes to exist."""

    tag: str  # what containers are created from
    dockerfile: Path | None  # None: a prebuilt image (`--image`), pulled when missing
    build_args: Mapping[str, str]
    pull: bool

    @property
    def prebuilt(self) -> bool:
        """An image used as it is."""
        return self.dockerfile is None


def image_spec(python_version: str, settings: DockerSettings) -> ImageSpec:
    """The image of a build: `--image`, else a content-hashed tag of the Dockerfile's build."""
    if settings.image is not None:
        return ImageSpec(tag=settings.image, dockerfile=None, build_args={}, pull=settings.pull)
    dockerfile = settings.dockerfile or dockerfiles_dir() / DOCKERFILE
    build_args = {
        "PYTHON_VERSION": python_version,
        BASE_IMAGE_ARG: settings.base_image or default_base_image(python_version),
    }
    tag = f"{IMAGE_REPOSITORY}:py{python_version}-{_content_hash(dockerfile, build_args)}"
    return ImageSpec(tag=tag, dockerfile=dockerfile, build_args=build_args, pull=settings.pull)


def _content_hash(dockerfile: Path, build_args: Mapping[str, str]) -> str:
    try:
        content = dockerfile.read_bytes()
    except OSError as error:
        msg = f"cannot read the Dockerfile {dockerfile}: {error.strerror or error}"
        raise ContainerError(msg, hint="pass the path of a readable Dockerfile") from None
    digest = hashlib.sha256(content)
    digest.update(json.dumps({"args": dict(build_args), "platform": PLATFORM}).encode())
    return digest.hexdigest()[:16]


def image_command(spec: ImageSpec) -> tuple[str, ...]:
    """The `docker` command that makes the image (what funcpub does through the API)."""
    if spec.dockerfile is None:
        return ("docker", "pull", "--platform", PLATFORM, spec.tag)
    args = [
        arg for key, value in spec.build_args.items() for arg in ("--build-arg", f"{key}={value}")
    ]
    pull = ("--pull", "--no-cache") if spec.pull else ()
    return (
        *("docker", "build", "--platform", PLATFORM, *pull, *args),
        *("-t", spec.tag, "-f", str(spec.dockerfile), str(spec.dockerfile.parent)),
    )


def install_argv(requirements: str) -> tuple[str, ...]:
    """The pip command run in the container (its own platform is the target's)."""
    target = f"{OUTPUT}/{PYTHON_PACKAGES}/lib/site-packages"
    return (
        *(PYTHON, "-m", "pip", "install", "--target", target),
        *("--no-compile", "--progress-bar", "off", "-r", requirements),
    )
