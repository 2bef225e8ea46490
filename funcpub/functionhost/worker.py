"""The worker subprocess of the emulated host, and the JSON-lines channel to it.

Requests go to the worker's stdin, one JSON object a line with an `id`; replies come back on its
stdout with the same `id`. Its stderr (logging, `print`) goes to the host's log.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

Message = dict[str, Any]

STOP_GRACE: Final = 1.0


class WorkerExitedError(Exception):
    """The worker process ended while requests were pending."""


class LogBuffer:
    """The last lines of host and worker output (thread-safe)."""

    def __init__(self, size: int) -> None:
        self._lines: deque[str] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        """Append the lines of `text`."""
        with self._lock:
            self._lines.extend(text.splitlines() or [""])

    def lines(self) -> tuple[str, ...]:
        """The kept lines, oldest first."""
        with self._lock:
            return tuple(self._lines)


class Worker:
    """A worker subprocess and the JSON-lines channel to it."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: LogBuffer):
        pipe = subprocess.PIPE
        self._process = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdin=pipe, stdout=pipe, stderr=pipe
        )
        self._log = log
        self._pending: dict[int, concurrent.futures.Future[Message]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._exit_message: str | None = None
        self._threads = (
            threading.Thread(target=self._read_replies, name="worker-replies", daemon=True),
            threading.Thread(target=self._read_log, name="worker-log", daemon=True),
        )
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self._process.pid

    def alive(self) -> bool:
        """Whether the process runs and its channel is open."""
        return self._exit_message is None and self._process.poll() is None

    def request(self, message: Message, timeout: float) -> Message:
        """Send one request and wait for its reply (TimeoutError, WorkerExitedError)."""
        future: concurrent.futures.Future[Message] = concurrent.futures.Future()
        with self._lock:
            if self._exit_message is not None:
                raise WorkerExitedError(self._exit_message)
            request_id = next(self._ids)
            self._pending[request_id] = future
            self._write({"id": request_id, **message})
        try:
            return future.result(timeout=max(timeout, 0.001))
        except concurrent.futures.TimeoutError:
            raise TimeoutError from None
        finally:
            with self._lock:
                self._pending.pop(request_id, None)

    def _write(self, message: Message) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except OSError:
            pass  # the worker died; the reply reader fails the pending request

    def stop(self) -> None:
        """Close the channel and let the worker exit; kill it if it lingers."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.kill()
        self._join()

    def kill(self) -> None:
        """End the worker now."""
        self._process.kill()
        self._process.wait()
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        self._join()

    def _join(self) -> None:
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=STOP_GRACE)

    def _read_replies(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        with stdout:
            for line in stdout:
                try:
                    reply = json.loads(line)
                except ValueError:
                    self._log.add(f"Unreadable message from the worker: {line[:200]!r}")
                    continue
                self._resolve(reply)
        code = self._process.wait()
        self._fail_pending(
            f"Language Worker Process exited. Pid={self.pid}.\npython exited with code {code}"
        )

    def _resolve(self, reply: Message) -> None:
        with self._lock:
            future = self._pending.get(reply.get("id", -1))
        if future is not None and not future.done():
            future.set_result(reply)

    def _fail_pending(self, message: str) -> None:
        with self._lock:
            self._exit_message = message
            pending = list(self._pending.values())
        for future in pending:
            if not future.done():
                future.set_exception(WorkerExitedError(message))

    def _read_log(self) -> None:
        stderr: IO[bytes] | None = self._process.stderr
        assert stderr is not None
        with stderr:
            for raw in stderr:
                self._log.add(raw.decode("utf-8", "replace").rstrip("\r\n"))
