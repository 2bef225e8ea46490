"""The connection to the container engine, and the one translation of its errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import docker
import docker.constants
import docker.errors
import requests

from funcpub.errors import ContainerError

ENGINE_HINT: Final = (
    "start Docker (or Podman's docker-compatible socket) and check that `docker info` works; "
    "point DOCKER_HOST at another engine"
)
# An engine answers its version and a ping at once; one that accepts but never answers (hung)
# fails after this many seconds, not after the SDK's minute per call.
PROBE_TIMEOUT: Final = 10
PERMISSION_HINT: Final = (
    "add your user to the docker group (then log in again), or use a rootless engine through "
    "DOCKER_HOST"
)


def engine_address() -> str:
    """Where the engine is expected: DOCKER_HOST, else the platform's default."""
    default = "npipe:////./pipe/docker_engine" if os.name == "nt" else "unix:///var/run/docker.sock"
    return os.environ.get("DOCKER_HOST") or default


def _check_socket(address: str) -> None:
    """A Unix socket that is missing or not ours fails here, before the SDK tries it."""
    if not address.startswith("unix://"):
        return
    path = Path(address.removeprefix("unix://"))
    if not path.exists():
        msg = f"cannot reach a container engine at {address}: {path} does not exist"
        raise ContainerError(msg, hint=ENGINE_HINT)
    if not os.access(path, os.R_OK | os.W_OK):
        msg = f"no permission to use the container engine at {address}"
        raise ContainerError(msg, hint=PERMISSION_HINT)


@contextmanager
def engine_errors(doing: str) -> Iterator[None]:
    """Turn the SDK's and the transport's exceptions while `doing` into ContainerError."""
    try:
        yield
    except docker.errors.APIError as error:
        explanation = error.explanation or str(error)
        msg = f"the container engine refused {doing}: {_text(explanation)}"
        raise ContainerError(msg, hint=ENGINE_HINT) from None
    except (docker.errors.DockerException, requests.RequestException) as error:
        raise _unreachable(doing, error) from None


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _unreachable(doing: str, error: BaseException) -> ContainerError:
    text = str(error)
    address = engine_address()
    if "Permission denied" in text:
        msg = f"no permission to use the container engine at {address} ({doing})"
        return ContainerError(msg, hint=PERMISSION_HINT)
    msg = f"cannot reach a container engine at {address} ({doing}): {text}"
    return ContainerError(msg, hint=ENGINE_HINT)


@contextmanager
def connect() -> Iterator[docker.DockerClient]:
    """A client of the engine the environment names (API version negotiated), closed after."""
    _check_socket(engine_address())
    with engine_errors("the connection"):
        client = docker.from_env(version="auto", timeout=PROBE_TIMEOUT)
        client.ping()
    client.api.timeout = docker.constants.DEFAULT_TIMEOUT_SECONDS
    try:
        yield client
    finally:
        client.close()
