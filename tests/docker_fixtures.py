"""Fixtures of the docker tests: the engine, the registry-free base image, leftover checks.

Without an engine the docker tests skip with the reason, except under CI=true, where they fail:
CI must exercise the real engine (`scripts/docker-setup` provides one and the base image).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import docker
import docker.errors
import pytest

from funcpub.container.engine import connect, engine_address
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


class EngineForwarder:
    """A Unix socket at `path` that relays every connection to the engine's own socket."""

    def __init__(self, path: Path, engine: str) -> None:
        self.connections = 0
        self._engine = engine
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:  # closed: the test is over
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        """Relay both ways until both sides are done, then close both."""
        with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(self._engine)
            back = threading.Thread(target=_relay, args=(upstream, client), daemon=True)
            back.start()
            _relay(client, upstream)
            back.join()


def _relay(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until `source` ends, then end `sink`'s writing side."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:  # one side went away: wake the other direction's wait too
        with suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)


@contextmanager
def forwarded_engine(path: Path) -> Iterator[EngineForwarder]:
    """The engine of this machine (a Unix socket) reachable at `path` too, while open."""
    address = engine_address()
    if not address.startswith("unix://"):
        pytest.skip(f"forwarding needs an engine on a Unix socket, not {address}")
    forwarder = EngineForwarder(path, address.removeprefix("unix://"))
    try:
        yield forwarder
    finally:
        forwarder.close()
