"""`python -m funcpub.container.worker_proxy <container> <python args>`: python3 in a container.

Copies every absolute path among the arguments (and the working folder) into the container at
the same place, runs `python3 <args>` there with this process's environment (minus the host's
paths), and relays stdin, stdout and stderr until it exits; exits with its code.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import docker

from funcpub.build.base import NullReporter
from funcpub.container.lifecycle import BuildContainer, frames
from funcpub.errors import ContainerError

HOST_ONLY: Final = frozenset({"PATH", "HOME", "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "PYTHONHOME"})


def main(argv: Sequence[str]) -> int:
    """Run `python3 argv[1:]` in container `argv[0]`, relaying the standard streams."""
    container_id, *args = argv
    client = docker.from_env(version="auto")
    try:
        container = BuildContainer(client, client.containers.get(container_id), NullReporter())
        cwd = Path.cwd()
        paths = {str(p).lstrip("/"): p for p in (cwd, *map(Path, args)) if _absolute_and_here(p)}
        container.put(paths, {})
        environment = {k: v for k, v in os.environ.items() if k not in HOST_ONLY}
        api = client.api
        exec_id = api.exec_create(
            container_id, ["python3", *args], stdin=True, workdir=str(cwd), environment=environment
        )["Id"]
        sock = api.exec_start(exec_id, socket=True)
        threading.Thread(target=_pump_stdin, args=(sock,), daemon=True).start()
        outputs = {1: sys.stdout.buffer, 2: sys.stderr.buffer}
        for stream, data in frames(sock):
            target = outputs.get(stream, sys.stderr.buffer)
            target.write(data)
            target.flush()
        return int(api.exec_inspect(exec_id)["ExitCode"] or 0)
    except (ContainerError, docker.errors.DockerException) as error:
        print(f"cannot run python3 in the container: {error}", file=sys.stderr)
        return 125
    finally:
        client.close()


def _absolute_and_here(path: Path) -> bool:
    return path.is_absolute() and path.exists()


def _pump_stdin(sock: Any) -> None:
    raw: socket.socket = getattr(sock, "_sock", sock)
    while chunk := os.read(sys.stdin.fileno(), 65536):
        raw.sendall(chunk)
    raw.shutdown(socket.SHUT_WR)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
