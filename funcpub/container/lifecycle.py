"""A build container: created idle, commands run in it with `exec`, always removed afterwards.

Removal happens on success, on failure and on Ctrl-C (`FUNCPUB_KEEP_CONTAINER=1` keeps it, for
debugging). The container is removed by the name funcpub gave it, so a Ctrl-C that lands while
the engine creates it (before its ID is known here) removes it too. Command output streams line
by line to the reporter, with credentials hidden; the last lines are kept for the error message.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shlex
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from secrets import token_hex
from typing import Any, Final

import docker
import docker.errors
from docker.models.containers import Container
from docker.utils.socket import frames_iter

from funcpub.build.base import BuildReporter
from funcpub.container.archive import extract_output_archive, write_input_archive
from funcpub.container.engine import engine_errors
from funcpub.container.images import LABEL
from funcpub.container.spec import PLATFORM
from funcpub.errors import BuildError, ContainerError
from funcpub.options import KEEP_CONTAINER_ENV
from funcpub.process import TAIL_LINES, CommandResult
from funcpub.requirements import redact

IDLE: Final = ("tail", "-f", "/dev/null")  # PID 1 of the container: waits for exec'd commands
NAME_PREFIX: Final = "funcpub-build-"  # then the process ID and a random part
_NEWLINES: Final = re.compile(r"\r\n|\r|\n")


class BuildContainer:
    """A running container of the build image."""

    def __init__(
        self,
        client: docker.DockerClient,
        container: Container,
        reporter: BuildReporter,
        secrets: Iterable[str] = (),
    ) -> None:
        self._client = client
        self._container = container
        self._reporter = reporter
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    @property
    def id(self) -> str:
        """The container's id."""
        return str(self._container.id)

    def hide(self, text: str) -> str:
        """`text` without URL credentials or any secret this container was given."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact(text)

    def put(self, files: Mapping[str, Path], texts: Mapping[str, str]) -> None:
        """Copy host files and generated texts in, at their relpaths under `/`."""
        with tempfile.TemporaryFile() as archive:
            write_input_archive(archive, files, texts)
            with engine_errors("copying files into the build container"):
                self._container.put_archive("/", archive)

    def get(self, path: str, destination: Path, *, owner: tuple[int, int] | None = None) -> bool:
        """Copy `path` out into `destination`, owned by `owner` (default: this user).

        False when `path` does not exist in the container.
        """
        with engine_errors("copying the build out of the container"):
            try:
                chunks, _ = self._container.get_archive(path)
            except docker.errors.NotFound:
                return False
            extract_output_archive(chunks, destination, owner=owner or invoking_user())
        return True

    def run(
        self,
        argv: Sequence[str],
        *,
        workdir: str,
        environment: Mapping[str, str] | None = None,
        timeout: float,
        quiet: bool = False,
    ) -> CommandResult:
        """Run `argv` in the container to its end, streaming its output; the caller judges."""
        display = self.hide(shlex.join(argv))
        if not quiet:
            self._reporter.command(f"[container] {display}")
        api = self._client.api
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        started = time.monotonic()
        with engine_errors("running a command in the build container"):
            exec_id = api.exec_create(
                self.id, list(argv), workdir=workdir, environment=dict(environment or {})
            )["Id"]
            with _Watchdog(timeout, self._container.kill) as watchdog:
                for line in _lines(_exec_output(api, exec_id)):
                    shown = self.hide(line)
                    tail.append(shown)
                    if not quiet:
                        self._reporter.output(shown)
            if watchdog.fired:
                msg = f"{display} did not finish within {timeout:g} s and was stopped"
                raise BuildError(msg, hint="\n".join(tail) or None)
            code = api.exec_inspect(exec_id)["ExitCode"]
        return CommandResult(
            display=display,
            returncode=int(code if code is not None else -1),
            tail=tuple(tail),
            seconds=time.monotonic() - started,
        )


class _Watchdog:
    """Calls `stop` once `timeout` seconds pass inside the block."""

    def __init__(self, timeout: float, stop: Callable[[], object]) -> None:
        self.fired = False
        self._stop = stop
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(docker.errors.DockerException):
            self._stop()


def _exec_output(api: docker.APIClient, exec_id: str) -> Iterator[bytes]:
    """Start an exec and yield its output (stdout and stderr)."""
    for _stream, data in frames(api.exec_start(exec_id, socket=True)):
        yield data


def frames(sock: Any) -> Iterator[tuple[int, bytes]]:
    """(stream, data) of an exec's socket (1 stdout, 2 stderr) to its end, then close it."""
    try:
        yield from frames_iter(sock, tty=False)  # type: ignore[no-untyped-call]
    finally:
        # docker-py keeps the HTTP response on the socket; closing it releases the connection.
        response = getattr(sock, "_response", None)
        (response or sock).close()


def invoking_user() -> tuple[int, int]:
    """(uid, gid) of this process: who owns what comes out of a container."""
    if hasattr(os, "getuid"):
        return os.getuid(), os.getgid()
    return 0, 0  # pragma: no cover - Windows: files get the user's default ownership


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Output lines of a byte stream (UTF-8 split anywhere; progress bars' \\r end lines too)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = _NEWLINES.split(pending)
        yield from (line.rstrip() for line in complete if line.strip())
    pending += decoder.decode(b"", final=True)
    if pending.strip():
        yield pending.rstrip()


def container_prefix(pid: int) -> str:
    """The start of the names of the build containers process `pid` makes."""
    return f"{NAME_PREFIX}{pid}-"


@contextmanager
def build_container(
    client: docker.DockerClient,
    image: str,
    *,
    network: str | None,
    reporter: BuildReporter,
    secrets: Iterable[str] = (),
) -> Iterator[BuildContainer]:
    """A started container of `image` (linux/amd64), removed when the block ends, however."""
    name = container_prefix(os.getpid()) + token_hex(4)
    try:
        with engine_errors(f"creating a container of {image}"):
            container = client.containers.create(
                image,
                name=name,
                entrypoint=list(IDLE),
                command=[],
                platform=PLATFORM,
                network_mode=network,
                labels={LABEL: "container"},
                detach=True,
            )
        with engine_errors("starting the build container"):
            container.start()
        yield BuildContainer(client, container, reporter, secrets)
    finally:
        _remove(client.api, name, reporter)


def _remove(api: docker.APIClient, name: str, reporter: BuildReporter) -> None:
    """Remove the container `name` (gone already, or never created: nothing to do)."""
    try:
        with (
            engine_errors("removing the build container"),
            contextlib.suppress(docker.errors.NotFound),
        ):
            if os.environ.get(KEEP_CONTAINER_ENV) == "1":
                api.inspect_container(name)
                reporter.warn(
                    f"keeping the build container {name} ({KEEP_CONTAINER_ENV}=1); "
                    f"remove it with: docker rm -f {name}"
                )
            else:
                api.remove_container(name, force=True)
    except ContainerError as error:
        reporter.warn(f"{error.message}; remove it with: docker rm -f {name}")
