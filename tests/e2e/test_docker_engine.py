"""A docker build when the engine cannot be used: exit 5 with what to do, quickly, no traceback.

No engine is needed: each test points DOCKER_HOST at a Unix socket of its own that refuses,
never answers, or refuses this user.
"""

from __future__ import annotations

import errno
import gc
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from funcpub.cli import run
from funcpub.container.engine import ENGINE_HINT, PERMISSION_HINT, PROBE_TIMEOUT
from tests.e2e.conftest import MakeApp

# The docker SDK leaves the socket of a failed connect(2) to the garbage collector
# (docker/transport/unixconn.py): collected in the fixture's teardown, its warning ignored.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning"),
]


def pack(capsys: pytest.CaptureFixture[str], app: Path) -> tuple[int, str, float]:
    """`pack --build docker` of `app`: exit code, output, seconds."""
    started = time.monotonic()
    code = run(["pack", str(app), "--build", "docker", "-o", str(app.parent / "out.zip")])
    captured = capsys.readouterr()
    return code, captured.out + captured.err, time.monotonic() - started


def assert_engine_error(code: int, output: str, app: Path, *, hint: str) -> None:
    assert code == 5, output
    assert f"hint: {hint.split(';', maxsplit=1)[0]}" in output
    assert "Traceback" not in output
    assert not (app.parent / "out.zip").exists()


@pytest.fixture
def engine_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A Unix socket file DOCKER_HOST names, bound by no engine (the test decides the rest)."""
    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    with server:
        yield server
    gc.collect()


def test_a_socket_nobody_listens_on_is_refused_with_the_engine_hint(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, engine_socket: socket.socket
) -> None:
    """The file of a stopped engine's socket: connecting is refused."""
    app = make_app("alpha")
    code, output, seconds = pack(capsys, app)
    assert_engine_error(code, output, app, hint=ENGINE_HINT)
    assert f"cannot reach a container engine at unix://{engine_socket.getsockname()}" in output
    assert "Connection refused" in output
    assert seconds < PROBE_TIMEOUT


def test_an_engine_that_never_answers_fails_after_the_probe_timeout(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, engine_socket: socket.socket
) -> None:
    """A hung engine: the connection is accepted (backlog), no answer ever comes."""
    engine_socket.listen(8)
    app = make_app("alpha")
    code, output, seconds = pack(capsys, app)
    assert_engine_error(code, output, app, hint=ENGINE_HINT)
    assert "cannot reach a container engine" in output
    assert "timed out" in output
    assert PROBE_TIMEOUT <= seconds < PROBE_TIMEOUT + 15


def test_permission_denied_on_the_socket_has_the_permission_hint(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    engine_socket: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What connect(2) raises for a user outside the docker group (root passes any file mode)."""

    def refused(sock: socket.socket, address: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    engine_socket.listen(8)
    monkeypatch.setattr(socket.socket, "connect", refused)
    app = make_app("alpha")
    code, output, _ = pack(capsys, app)
    assert_engine_error(code, output, app, hint=PERMISSION_HINT)
    address = f"unix://{engine_socket.getsockname()}"
    assert f"no permission to use the container engine at {address}" in output
    assert "docker group" in output
