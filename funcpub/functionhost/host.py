"""The emulated Functions host: index a deployed app and invoke its HTTP functions for real.

The host side runs here; user code runs only in a worker subprocess (`worker_main.py`) started as
``python -I -S -B worker_main.py <wwwroot> <worker_dir>`` with cwd = wwwroot and the app settings
as its environment. The worker's `sys.path` is the app, `.python_packages/lib/site-packages` and a
folder holding only `azure.functions` and its dependencies (`prepare_worker_dir`), so an app that
forgot a requirement fails with the same ModuleNotFoundError as on Azure.

Indexing follows the host: with `function_app.py` (or `PYTHON_SCRIPT_FILE_NAME`) the worker
indexes the app (v2) and any failure means "0 functions found"; otherwise the host reads each
`*/function.json` (v1) and asks the worker to load every function, and a load error stays with
that function. Invocation answers like the host: a returned `HttpResponse` as is, a `str` as
`200 text/plain`, no HTTP output at all as an empty 200, and anything the worker fails on
(an exception, a `None` or `bytes` returned through the http binding, a timeout, a crash) as an
empty 500 with the details in `FunctionHost.logs`.
"""

from __future__ import annotations

import base64
import os
import sys
import threading
import time
import types
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from funcpub.errors import FuncpubError
from funcpub.functionhost.metadata import (
    IndexedFunction,
    V1Function,
    indexed_function,
    read_v1_metadata,
)
from funcpub.functionhost.worker import LogBuffer, Message, Worker, WorkerExitedError

WORKER_SCRIPT: Final = Path(__file__).with_name("worker_main.py")
DEFAULT_SCRIPT_FILE: Final = "function_app.py"
LOG_LINES: Final = 2000
INDEX_TIMEOUT: Final = 60.0
# Only these variables of our own environment reach user code; never credentials.
BASIC_ENVIRONMENT: Final = (
    "PATH",
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
    "TEMP",
    "TMP",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
)
NO_JOB_FUNCTIONS: Final = (
    "No job functions found. Try making your job classes and methods public. If you're using "
    "binding extensions (e.g. Azure Storage, ServiceBus, Timers, etc.) make sure you've called "
    "the registration method for the extension(s) in your startup code (e.g. "
    "builder.AddAzureStorage(), builder.AddServiceBus(), builder.AddTimers(), etc.)."
)
HTTP_REASON: Final = "This function was programmatically called via the host APIs."


@dataclass(frozen=True, kw_only=True)
class IndexResult:
    """What indexing found, the errors the host reported and its log lines."""

    functions: tuple[IndexedFunction, ...]
    errors: tuple[str, ...]
    log: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """No errors and at least one function."""
        return not self.errors and bool(self.functions)


@dataclass(frozen=True, kw_only=True)
class HttpCall:
    """An HTTP request routed to a function."""

    method: str
    url: str
    headers: Mapping[str, str] = field(hash=False)
    params: Mapping[str, str] = field(hash=False)
    route_params: Mapping[str, str] = field(hash=False)
    body: bytes


@dataclass(frozen=True, kw_only=True)
class HttpResult:
    """The HTTP response the host sends back."""

    status: int
    headers: Mapping[str, str] = field(hash=False)
    body: bytes


# --- the host ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Indexing:
    """An IndexResult plus the worker load errors that invocations must answer with 500."""

    result: IndexResult
    load_errors: Mapping[str, str]


class FunctionHost:
    """The Functions host of one deployed app (wwwroot) and its Python worker.

    `index()` is a host (re)start: it starts a fresh worker, indexes and loads the app, and
    keeps that worker for `invoke()` (a previous worker is stopped). Call it after every deploy.
    `invoke()` starts and indexes a worker itself when none runs, e.g. after a crash or timeout.
    The worker writes no bytecode (`-B`) unless `write_bytecode`: then its imports leave
    `__pycache__` folders next to their sources, so the next worker loads them faster.
    """

    def __init__(
        self,
        wwwroot: Path,
        *,
        app_settings: Mapping[str, str] | None = None,
        python: str | None = None,
        worker_dir: Path,
        write_bytecode: bool = False,
    ) -> None:
        self._wwwroot = wwwroot.absolute()
        self._settings = dict(app_settings or {})
        self._python = python or sys.executable
        self._worker_dir = worker_dir.absolute()
        self._write_bytecode = write_bytecode
        self._lock = threading.Lock()
        self._log = LogBuffer(LOG_LINES)
        self._worker: Worker | None = None
        self._load_errors: Mapping[str, str] = {}

    def __enter__(self) -> FunctionHost:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def logs(self) -> tuple[str, ...]:
        """The last lines the host and the worker (stderr: logging, print) wrote."""
        return self._log.lines()

    def index(self, timeout: float = INDEX_TIMEOUT) -> IndexResult:
        """Start a fresh worker, index and load the app; user-code problems become `errors`."""
        if not self._wwwroot.is_dir():  # nothing deployed yet: the host finds no functions
            log = _found_log((), "Host")
            self._log.add("\n".join(log))
            return IndexResult(functions=(), errors=(), log=log)
        worker = self._spawn()
        indexing = self._index_with(worker, timeout)
        self._adopt(worker, indexing.load_errors)
        return indexing.result

    def invoke(self, function: IndexedFunction, call: HttpCall, timeout: float = 230) -> HttpResult:
        """Run an HTTP function with `call` and return the host's response (500 on failure)."""
        if not function.is_http:
            msg = f"{function.name} is a {function.trigger} function, not an HTTP one"
            raise ValueError(msg)
        invocation_id = str(uuid.uuid4())
        started = time.monotonic()
        self._log.add(
            f"Executing 'Functions.{function.name}' (Reason='{HTTP_REASON}', Id={invocation_id})"
        )
        worker, load_errors = self._running_worker()
        if function.name in load_errors:
            return self._failed(function, invocation_id, started, load_errors[function.name])
        try:
            reply = worker.request(_invoke_request(function, call, invocation_id), timeout)
        except TimeoutError:
            self._log.add(
                f"Timeout value of {_timespan(timeout)} exceeded by function "
                f"'Functions.{function.name}' (Id: '{invocation_id}'). Initiating cancellation."
            )
            self._discard(worker)
            return self._failed(function, invocation_id, started, "Result: Failure\nTimeout")
        except WorkerExitedError as exc:
            self._discard(worker)
            return self._failed(function, invocation_id, started, str(exc))
        if not reply["ok"]:
            return self._failed(function, invocation_id, started, _failure(reply["exception"]))
        return self._succeeded(function, invocation_id, started, reply)

    def close(self, *, graceful: bool = True) -> None:
        """Stop the worker: let it exit, or (not `graceful`) kill it at once."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop() if graceful else worker.kill()

    # -- worker lifecycle --

    def _spawn(self) -> Worker:
        flags = ["-I", "-S"] if self._write_bytecode else ["-I", "-S", "-B"]
        args = [*flags, str(WORKER_SCRIPT), str(self._wwwroot), str(self._worker_dir)]
        self._log.add(
            f"Starting worker process with FileName:{self._python} "
            f"WorkingDirectory:{self._wwwroot} Arguments:{' '.join(args)}"
        )
        try:
            return Worker([self._python, *args], cwd=self._wwwroot, env=self._env(), log=self._log)
        except OSError as exc:
            msg = f"Cannot start the Python worker {self._python}: {exc.strerror or exc}"
            hint = "Pass python= an existing interpreter and wwwroot= an existing folder."
            raise FuncpubError(msg, hint=hint) from None

    def _env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in BASIC_ENVIRONMENT if name in os.environ}
        env["AzureWebJobsScriptRoot"] = str(self._wwwroot)
        return env | self._settings

    def _adopt(self, worker: Worker, load_errors: Mapping[str, str]) -> None:
        with self._lock:
            previous, self._worker = self._worker, worker
            self._load_errors = types.MappingProxyType(dict(load_errors))
        if previous is not None:
            previous.stop()

    def _running_worker(self) -> tuple[Worker, Mapping[str, str]]:
        with self._lock:
            if self._worker is not None and self._worker.alive():
                return self._worker, self._load_errors
            worker = self._spawn()
            load_errors = self._index_with(worker, INDEX_TIMEOUT).load_errors
            self._worker, self._load_errors = worker, types.MappingProxyType(dict(load_errors))
            return worker, self._load_errors

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            if self._worker is worker:
                self._worker = None

    # -- indexing --

    def _index_with(self, worker: Worker, timeout: float) -> _Indexing:
        deadline = time.monotonic() + timeout
        script = self._settings.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT_FILE
        try:
            if (self._wwwroot / script).is_file():
                indexing = self._index_v2(worker, script, deadline)
            else:
                indexing = self._index_v1(worker, deadline)
        except (TimeoutError, WorkerExitedError) as exc:
            worker.kill()
            reason = str(exc) or f"The worker did not answer within {timeout:g} s."
            error = f"Worker failed to index functions\n{reason}"
            log = (*error.splitlines(), "0 functions loaded", NO_JOB_FUNCTIONS)
            indexing = _Indexing(
                result=IndexResult(functions=(), errors=(error,), log=log), load_errors={}
            )
        for line in indexing.result.log:
            self._log.add(line)
        return indexing

    def _index_v2(self, worker: Worker, script: str, deadline: float) -> _Indexing:
        reply = worker.request({"op": "index", "script": script}, deadline - time.monotonic())
        if not reply["ok"]:
            error = "Worker failed to index functions\n" + _failure(reply["exception"])
            log = (
                "Reading functions metadata (Worker)",
                *error.splitlines(),
                "0 functions found (Worker)",
                "0 functions loaded",
                NO_JOB_FUNCTIONS,
            )
            return _Indexing(
                result=IndexResult(functions=(), errors=(error,), log=log), load_errors={}
            )
        functions = tuple(
            indexed_function(str(f["name"]), f["bindings"], str(f["script"]))
            for f in reply["functions"]
        )
        log = _found_log(functions, "Worker")
        return _Indexing(
            result=IndexResult(functions=functions, errors=(), log=log), load_errors={}
        )

    def _index_v1(self, worker: Worker, deadline: float) -> _Indexing:
        metadata, errors = read_v1_metadata(self._wwwroot)
        log = list(_found_log(tuple(m.indexed for m in metadata), "Host"))
        if errors:
            log += [f"The following {len(errors)} functions are in error:", *errors]
        load_errors: dict[str, str] = {}
        for function in metadata:
            reply = worker.request(_load_request(function), deadline - time.monotonic())
            if not reply["ok"]:
                name = function.indexed.name
                load_errors[name] = _failure(reply["exception"])
                errors.append(f"Function '{name}' load error: {reply['exception']['message']}")
                log += [
                    f"Worker failed to load function: '{name}' with functionId: '{uuid.uuid4()}'.",
                    *load_errors[name].splitlines(),
                ]
        result = IndexResult(
            functions=tuple(m.indexed for m in metadata), errors=tuple(errors), log=tuple(log)
        )
        return _Indexing(result=result, load_errors=load_errors)

    # -- invocation results --

    def _failed(
        self, function: IndexedFunction, invocation_id: str, started: float, details: str
    ) -> HttpResult:
        self._log.add(_executed(function, invocation_id, started, "Failed"))
        self._log.add(
            "System.Private.CoreLib: Exception while executing function: "
            f"Functions.{function.name}. System.Private.CoreLib: {details}"
        )
        return HttpResult(status=500, headers={}, body=b"")

    def _succeeded(
        self, function: IndexedFunction, invocation_id: str, started: float, reply: Message
    ) -> HttpResult:
        for name, binding in reply["outputs"].items():
            self._log.add(
                f"Function 'Functions.{function.name}' set its {binding} output '{name}'; "
                "the emulator does not deliver it."
            )
        self._log.add(_executed(function, invocation_id, started, "Succeeded"))
        return _http_result(reply["response"])


# --- helpers of the host -------------------------------------------------------------------------


def _failure(exception: Mapping[str, Any]) -> str:
    text = f"Result: Failure\nException: {exception['message']}"
    stack = str(exception.get("stack") or "").rstrip()
    return f"{text}\nStack: {stack.lstrip()}" if stack else text


def _found_log(functions: tuple[IndexedFunction, ...], source: str) -> tuple[str, ...]:
    count = len(functions)
    lines = [f"Reading functions metadata ({source})", f"{count} functions found ({source})"]
    lines.append(f"{count} functions loaded")
    if functions:
        lines += [
            "Found the following functions:",
            *(f"Host.Functions.{f.name}" for f in functions),
        ]
    else:
        lines.append(NO_JOB_FUNCTIONS)
    return tuple(lines)


def _executed(function: IndexedFunction, invocation_id: str, started: float, outcome: str) -> str:
    duration = round((time.monotonic() - started) * 1000)
    details = f"{outcome}, Id={invocation_id}, Duration={duration}ms"
    return f"Executed 'Functions.{function.name}' ({details})"


def _timespan(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _load_request(function: V1Function) -> Message:
    return {
        "op": "load",
        "name": function.indexed.name,
        "directory": str(function.directory),
        "script_file": str(function.script_file),
        "entry_point": function.entry_point,
        "bindings": [dict(b) for b in function.indexed.bindings],
    }


def _invoke_request(function: IndexedFunction, call: HttpCall, invocation_id: str) -> Message:
    return {
        "op": "invoke",
        "name": function.name,
        "invocation_id": invocation_id,
        "request": {
            "method": call.method.upper(),
            "url": call.url,
            "headers": dict(call.headers),
            "params": dict(call.params),
            "route_params": dict(call.route_params),
            "body": base64.b64encode(call.body).decode("ascii"),
        },
    }


def _http_result(response: Mapping[str, Any] | None) -> HttpResult:
    """The host's answer to the worker's http output (none set: ASP.NET's empty 200)."""
    if response is None:
        return HttpResult(status=200, headers={}, body=b"")
    body = base64.b64decode(response["body"])
    if response["kind"] == "string":
        return HttpResult(
            status=200, headers={"Content-Type": "text/plain; charset=utf-8"}, body=body
        )
    return HttpResult(status=int(response["status"]), headers=dict(response["headers"]), body=body)
