"""Fixtures of the docker tests: the engine, the registry-free base image, leftover checks.

Without an engine the docker tests skip with the reason, except under CI=true, where they fail:
CI must exercise the real engine (`scripts/docker-setup` provides one and the base image).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from funcpub.container.engine import connect
from funcpub.container.images import LABEL
from funcpub.container.lifecycle import container_prefix
from funcpub.errors import ContainerError

BASE_IMAGE_ENV = "DOCKER_TEST_BASE_IMAGE"
DEFAULT_BASE_IMAGE = "funcpub-ci-base:bookworm"
SETUP = "run scripts/docker-setup (as root) or start Docker and build the base image"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it in CI, where the engine must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the docker tests must run; {SETUP})")
    pytest.skip(f"{reason}; {SETUP}")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of the engine DOCKER_HOST names (funcpub's own connection)."""
    try:
        with connect() as client:
            yield client
    except ContainerError as error:
        unavailable(f"no Docker engine: {error.message}")


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The image tests build from: Debian with Python, pip and gcc, made without a registry."""
    image = os.environ.get(BASE_IMAGE_ENV) or DEFAULT_BASE_IMAGE
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        unavailable(f"the base image {image} does not exist")
    return image


def funcpub_containers(client: docker.DockerClient, pid: int | None = None) -> set[str]:
    """Names of the build containers process `pid` (default: this one) made that still exist.

    Only one process's: other test runs may use the same engine at the same time.
    """
    prefix = container_prefix(pid or os.getpid())
    listed = client.containers.list(
        all=True, filters={"label": f"{LABEL}=container", "name": prefix}
    )
    return {str(box.name) for box in listed if str(box.name).startswith(prefix)}


@pytest.fixture
def no_leftover_containers(docker_client: docker.DockerClient) -> Iterator[None]:
    """The test must leave no build container of this process behind (listed before and after)."""
    before = funcpub_containers(docker_client)
    yield
    assert funcpub_containers(docker_client) == before
