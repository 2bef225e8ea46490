"""The build image: funcpub's Dockerfile (or the user's, or a prebuilt image), built once.

An image built from a Dockerfile is tagged by a hash of the Dockerfile, its build arguments and
the platform, so a second run with the same inputs reuses it; `pull` pulls the base image and
builds again. Only the Dockerfile is sent as build context: nothing of the app is in any layer.
An image that cannot be pulled (no registry, or only loaded locally) is used as the engine has
it, with a warning; only a missing one is an error.
"""

from __future__ import annotations

import io
import shlex
import tarfile
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import docker

from funcpub.build.base import BuildReporter
from funcpub.container.engine import connect, engine_errors
from funcpub.container.spec import (
    BASE_IMAGE_ARG,
    DOCKERFILE,
    PLATFORM,
    ImageSpec,
    image_command,
)
from funcpub.errors import ContainerError
from funcpub.requirements import redact

LABEL: Final = "io.funcpub.build"  # on every image and container funcpub makes
TAIL_LINES: Final = 30


def ensure_image(client: docker.DockerClient, spec: ImageSpec, reporter: BuildReporter) -> str:
    """Make sure `spec.tag` exists for linux/amd64 (build or pull it); return the tag."""
    present = not spec.pull and _exists(client, spec.tag)
    if present:
        reporter.step(f"reusing the build image {spec.tag}")
    elif spec.prebuilt:
        _refresh(client, spec.tag, reporter)
    else:
        _build(client, spec, reporter)
    _check_platform(client, spec.tag)
    return spec.tag


def image_id(spec: ImageSpec, reporter: BuildReporter) -> str:
    """The engine's ID of a prebuilt image (pulled first when missing, or with `pull`)."""
    with connect() as client:
        ensure_image(client, spec, reporter)
        with engine_errors(f"inspecting the image {spec.tag}"):
            return str(client.images.get(spec.tag).id)


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


def _refresh(client: docker.DockerClient, reference: str, reporter: BuildReporter) -> bool:
    """Pull `reference`; when that fails, keep the engine's copy if it has one (False)."""
    try:
        _pull(client, reference, reporter)
    except ContainerError as error:
        if not _exists(client, reference):
            raise
        reporter.warn(f"{error.message}; using the image the engine has")
        return False
    return True


def _build(client: docker.DockerClient, spec: ImageSpec, reporter: BuildReporter) -> None:
    assert spec.dockerfile is not None
    pull = spec.pull and _refresh_base(client, spec, reporter)
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
            pull=pull,
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


def _refresh_base(client: docker.DockerClient, spec: ImageSpec, reporter: BuildReporter) -> bool:
    """`--pull`: pull BASE_IMAGE first (when the Dockerfile uses it), so that a base the engine
    has but cannot pull builds from the local copy instead of failing the build."""
    assert spec.dockerfile is not None
    base = spec.build_args.get(BASE_IMAGE_ARG)
    if base is None or BASE_IMAGE_ARG not in spec.dockerfile.read_text(errors="replace"):
        return True
    return _refresh(client, base, reporter)


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
