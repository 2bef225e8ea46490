"""The build image on a real engine: `--pull`, a prebuilt `--image`, missing and foreign images.

No registry is reachable here (as on an offline build agent): every pull fails, quickly.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest

from funcpub.cli import run
from funcpub.container.spec import PLATFORM, dockerfiles_dir
from tests.e2e.conftest import MakeApp
from tests.e2e.test_docker_build import IN_CONTAINER, MISS, built_tag, pack

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("no_leftover_containers")]

PULL_HINT = "hint: check the name and `docker login`"


@pytest.fixture
def made(docker_client: docker.DockerClient) -> Iterator[set[str]]:
    """Names and IDs of the images the test makes, removed afterwards."""
    images: set[str] = set()
    yield images
    for image in images:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(image, force=True)


@pytest.fixture
def image_name(made: set[str]) -> str:
    """A name no image has yet (removed afterwards)."""
    name = f"funcpub-image-test:{time.time_ns()}"
    made.add(name)
    return name


@pytest.fixture
def build_image(docker_client: docker.DockerClient, image_name: str) -> Callable[..., str]:
    """`docker build` (the SDK's arguments) tagged `image_name`; returns the name."""

    def build(**arguments: Any) -> str:
        docker_client.images.build(tag=image_name, rm=True, **arguments)
        return image_name

    return build


def test_pull_builds_the_image_again_from_the_local_base_when_it_cannot_be_pulled(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
    made: set[str],
) -> None:
    app = make_app("alpha")
    dockerfile = app.parent / "Dockerfile"
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN date +%s%N > /built-at\n")
    own = ("--dockerfile", str(dockerfile), "--no-smoke")
    code, first = pack(capsys, app, base_image, *own)
    assert code == 0, first
    tag = built_tag(first)
    made.add(str(docker_client.images.get(tag).id))
    code, pulled = pack(capsys, app, base_image, *own, "--pull")
    made.add(str(docker_client.images.get(tag).id))
    assert code == 0, pulled
    assert f"warning: cannot pull the image {base_image}" in pulled
    assert "using the image the engine has" in pulled
    assert f"building the image {tag}" in pulled  # although the tag exists
    assert "dependencies: --pull, resolving them again" in pulled
    assert IN_CONTAINER in pulled
    assert len(made) == 2  # built again (no layer cache): another image under the tag


def test_a_prebuilt_image_is_used_as_it_is(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    build_image: Callable[..., str],
) -> None:
    """An image made from funcpub's Dockerfile by hand (`docker build -t …`), then `--image`."""
    image_name = build_image(
        path=str(dockerfiles_dir()),
        buildargs={"PYTHON_VERSION": "3.11", "BASE_IMAGE": base_image},
        platform=PLATFORM,
    )
    app = make_app("alpha")
    code, output = pack(capsys, app, base_image, "--no-smoke", "--image", image_name)
    assert code == 0, output
    assert f"reusing the build image {image_name}" in output
    assert "building the image" not in output
    assert "pulling" not in output
    assert f"{IN_CONTAINER} of {image_name}" in output
    assert MISS in output
    assert "dependencies: alpha==1.0, beta==1.0" in output


@pytest.mark.parametrize(
    "options",
    [("--image", "{missing}"), ("--base-image", "{missing}", "--pull")],
    ids=["image", "base-image-with-pull"],
)
def test_an_image_that_is_neither_here_nor_pullable_is_a_container_error(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    docker_client: docker.DockerClient,
    image_name: str,
    options: tuple[str, ...],
) -> None:
    app = make_app("alpha")
    argv = ["pack", str(app), "--build", "docker", "--network", "none", "--no-smoke"]
    started = time.monotonic()
    code = run([*argv, *(option.format(missing=image_name) for option in options)])
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code == 5, output
    assert f"error: cannot pull the image {image_name}" in output
    assert PULL_HINT in output
    assert "Traceback" not in output
    assert seconds < 30
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_name)


def test_an_image_for_another_platform_is_refused(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    build_image: Callable[..., str],
) -> None:
    """A linux/arm64 image (one file, no RUN: no emulator needed to make it)."""
    image_name = build_image(
        fileobj=_context({"Dockerfile": b"FROM scratch\nADD hello.txt /\n", "hello.txt": b"hi\n"}),
        custom_context=True,
        platform="linux/arm64",
    )
    app = make_app("alpha")
    code, output = pack(capsys, app, base_image, "--no-smoke", "--image", image_name)
    assert code == 5, output
    assert f"error: the image {image_name} is for linux/arm64; Azure runs linux/amd64" in output
    assert "hint: build or pull it with --platform linux/amd64" in output
    assert IN_CONTAINER not in output
    assert "Traceback" not in output


def _context(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer
