"""The build image: funcpub's Dockerfile (or the user's, or a prebuilt image), built once.

An image built from a Dockerfile is tagged by a hash of the Dockerfile, its build arguments and
the platform, so a second run with the same inputs reuses it; `pull` pulls the base image and
builds again. Only the Dockerfile is sent as build context: nothing of the app is in any layer.
"""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import tarfile
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import docker

import funcpub
from funcpub.build.base import BuildReporter
from funcpub.container.engine import engine_errors
from funcpub.errors import ContainerError
from funcpub.options import DockerSettings
from funcpub.requirements import redact

PLATFORM: Final = "linux/amd64"
ARCHITECTURE: Final = "amd64"
DOCKERFILE: Final = "Dockerfile"
IMAGE_REPOSITORY: Final = "funcpub-build"
LABEL: Final = "io.funcpub.build"  # on every image and container funcpub makes
TAIL_LINES: Final = 30
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
        "BASE_IMAGE": settings.base_image or default_base_image(python_version),
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


def ensure_image(client: docker.DockerClient, spec: ImageSpec, reporter: BuildReporter) -> str:
    """Make sure `spec.tag` exists for linux/amd64 (build or pull it); return the tag."""
    present = not spec.pull and _exists(client, spec.tag)
    if present:
        reporter.step(f"reusing the build image {spec.tag}")
    elif spec.prebuilt:
        _pull(client, spec.tag, reporter)
    else:
        _build(client, spec, reporter)
    _check_platform(client, spec.tag)
    return spec.tag


def _exists(client: docker.DockerClient, tag: str) -> bool:
    with engine_errors(f"looking up the image {tag}"):
        try:
            client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
    return True


def _pull(client: docker.DockerClient, reference: str, reporter: BuildReporter) -> None:
    reporter.step(f"pulling {reference} ({PLATFORM})")
    try:
        with engine_errors(f"pulling {reference}"):
            client.images.pull(reference, platform=PLATFORM)
    except ContainerError as error:
        msg = f"cannot pull the image {reference}: {error.message}"
        hint = "check the name and `docker login`, or build it locally and pass its tag"
        raise ContainerError(msg, hint=hint) from None


def _build(client: docker.DockerClient, spec: ImageSpec, reporter: BuildReporter) -> None:
    assert spec.dockerfile is not None
    reporter.step(f"building the image {spec.tag} from {spec.dockerfile} ({PLATFORM})")
    reporter.command(shlex.join(image_command(spec)))
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with engine_errors(f"building {spec.tag}"):
        stream = client.api.build(
            fileobj=_context(spec.dockerfile),
            custom_context=True,
            tag=spec.tag,
            buildargs=dict(spec.build_args),
            platform=PLATFORM,
            pull=spec.pull,
            nocache=spec.pull,
            rm=True,
            forcerm=True,
            labels={LABEL: "image"},
            decode=True,
        )
        error = _follow(stream, tail, reporter)
    if error is not None:
        shown = "\n".join(tail)
        msg = f"building the image from {spec.dockerfile} failed: {error}\n{shown}"
        raise ContainerError(msg, hint="fix the Dockerfile (or its BASE_IMAGE); -v shows the build")


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


def _context(dockerfile: Path) -> io.BytesIO:
    """A build context holding only the Dockerfile."""
    data = dockerfile.read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(DOCKERFILE)
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def _follow(
    stream: Iterable[dict[str, Any]], tail: deque[str], reporter: BuildReporter
) -> str | None:
    """Show the build's output lines; the error message it ends with, if any."""
    for event in stream:
        if "error" in event:
            return redact(str(event.get("error", "")).strip())
        for raw in str(event.get("stream", "")).splitlines():
            line = redact(raw.rstrip())
            if line:
                tail.append(line)
                reporter.output(line)
    return None


def _check_platform(client: docker.DockerClient, tag: str) -> None:
    with engine_errors(f"inspecting the image {tag}"):
        attrs = client.images.get(tag).attrs
    platform = f"{attrs.get('Os', '?')}/{attrs.get('Architecture', '?')}"
    if platform != PLATFORM:
        msg = f"the image {tag} is for {platform}; Azure runs {PLATFORM}"
        raise ContainerError(msg, hint=f"build or pull it with --platform {PLATFORM}")
