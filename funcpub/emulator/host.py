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
import concurrent.futures
import contextlib
import importlib.metadata
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import types
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final

from packaging.requirements import Requirement

from funcpub.errors import FuncpubError

Message = dict[str, Any]

WORKER_SCRIPT: Final = Path(__file__).with_name("worker_main.py")
WORKER_LIBRARY: Final = "azure-functions"
DEFAULT_SCRIPT_FILE: Final = "function_app.py"
FUNCTION_JSON: Final = "function.json"
HTTP_TRIGGER: Final = "httptrigger"
DEFAULT_AUTH_LEVEL: Final = "function"
LOG_LINES: Final = 2000
INDEX_TIMEOUT: Final = 60.0
STOP_GRACE: Final = 1.0
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
class IndexedFunction:
    """A function as the host indexed it."""

    name: str
    trigger: str  # binding type, e.g. "httpTrigger", "timerTrigger"
    route: str | None  # http only: the route template (default: the function name)
    methods: tuple[str, ...]  # upper-case; () = all
    auth_level: str | None  # "anonymous" | "function" | "admin" (http only)
    bindings: tuple[Mapping[str, Any], ...] = field(hash=False)  # as the host received them
    script: str  # relpath of the script file

    @property
    def is_http(self) -> bool:
        """Whether an HTTP request triggers it."""
        return self.trigger.lower() == HTTP_TRIGGER


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


# --- the worker's library folder -----------------------------------------------------------------


def prepare_worker_dir(directory: Path) -> Path:
    """Fill `directory` with `azure.functions` and its runtime dependencies, and return it.

    Each import root is a symlink into this environment (a copy where links are not allowed):
    `azure/functions`, `werkzeug`, `markupsafe` and their `.dist-info`. There is no
    `azure/__init__.py`, so `azure` stays a namespace package that an app's own `azure-*`
    packages in `.python_packages` extend, as on Azure.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for distribution in _runtime_distributions(WORKER_LIBRARY):
        for root in _import_roots(distribution):
            source = Path(str(distribution.locate_file(root)))
            _link(source, directory.joinpath(*root.parts))
    return directory


def _runtime_distributions(name: str) -> Iterator[importlib.metadata.Distribution]:
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        try:
            distribution = importlib.metadata.distribution(current)
        except importlib.metadata.PackageNotFoundError:
            continue
        key = distribution.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        yield distribution
        pending.extend(_runtime_requirements(distribution))


def _runtime_requirements(distribution: importlib.metadata.Distribution) -> list[str]:
    requirements = [Requirement(r) for r in distribution.requires or ()]
    return [r.name for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]


def _import_roots(distribution: importlib.metadata.Distribution) -> set[PurePosixPath]:
    """Top-level packages, modules and .dist-info; inside namespace packages, one level down."""
    files = [PurePosixPath(str(f)) for f in distribution.files or ()]
    names = {str(f) for f in files}
    roots: set[PurePosixPath] = set()
    for file in files:
        parts = file.parts
        if parts[0] in {"..", "__pycache__"} or parts[0].endswith(".data"):
            continue
        depth = 1
        while depth < len(parts) - 1 and "/".join(parts[:depth]) + "/__init__.py" not in names:
            if parts[0].endswith(".dist-info"):
                break
            depth += 1
        roots.add(PurePosixPath(*parts[:depth]))
    return roots


def _link(source: Path, target: Path) -> None:
    if target.is_symlink() and target.readlink() == source:
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(source, target_is_directory=source.is_dir())
    except OSError:
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)


# --- the worker process --------------------------------------------------------------------------


class WorkerExitedError(Exception):
    """The worker process ended while requests were pending."""


class _LogBuffer:
    """The last lines of host and worker output (thread-safe)."""

    def __init__(self, size: int) -> None:
        self._lines: deque[str] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        with self._lock:
            self._lines.extend(text.splitlines() or [""])

    def lines(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._lines)


class _Worker:
    """A worker subprocess and the JSON-lines channel to it."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: _LogBuffer):
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


# --- the host ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _V1Function:
    """A v1 function as the host read it from function.json."""

    indexed: IndexedFunction
    directory: Path
    script_file: Path
    entry_point: str


class _MetadataError(Exception):
    """A function.json the host cannot use."""


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
    """

    def __init__(
        self,
        wwwroot: Path,
        *,
        app_settings: Mapping[str, str] | None = None,
        python: str | None = None,
        worker_dir: Path,
    ) -> None:
        self._wwwroot = wwwroot.absolute()
        self._settings = dict(app_settings or {})
        self._python = python or sys.executable
        self._worker_dir = worker_dir.absolute()
        self._lock = threading.Lock()
        self._log = _LogBuffer(LOG_LINES)
        self._worker: _Worker | None = None
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

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()

    # -- worker lifecycle --

    def _spawn(self) -> _Worker:
        args = ["-I", "-S", "-B", str(WORKER_SCRIPT), str(self._wwwroot), str(self._worker_dir)]
        self._log.add(
            f"Starting worker process with FileName:{self._python} "
            f"WorkingDirectory:{self._wwwroot} Arguments:{' '.join(args)}"
        )
        try:
            return _Worker([self._python, *args], cwd=self._wwwroot, env=self._env(), log=self._log)
        except OSError as exc:
            msg = f"Cannot start the Python worker {self._python}: {exc.strerror or exc}"
            hint = "Pass python= an existing interpreter and wwwroot= an existing folder."
            raise FuncpubError(msg, hint=hint) from None

    def _env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in BASIC_ENVIRONMENT if name in os.environ}
        env["AzureWebJobsScriptRoot"] = str(self._wwwroot)
        return env | self._settings

    def _adopt(self, worker: _Worker, load_errors: Mapping[str, str]) -> None:
        with self._lock:
            previous, self._worker = self._worker, worker
            self._load_errors = types.MappingProxyType(dict(load_errors))
        if previous is not None:
            previous.stop()

    def _running_worker(self) -> tuple[_Worker, Mapping[str, str]]:
        with self._lock:
            if self._worker is not None and self._worker.alive():
                return self._worker, self._load_errors
            worker = self._spawn()
            load_errors = self._index_with(worker, INDEX_TIMEOUT).load_errors
            self._worker, self._load_errors = worker, types.MappingProxyType(dict(load_errors))
            return worker, self._load_errors

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if self._worker is worker:
                self._worker = None

    # -- indexing --

    def _index_with(self, worker: _Worker, timeout: float) -> _Indexing:
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

    def _index_v2(self, worker: _Worker, script: str, deadline: float) -> _Indexing:
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
            _indexed_function(str(f["name"]), f["bindings"], str(f["script"]))
            for f in reply["functions"]
        )
        log = _found_log(functions, "Worker")
        return _Indexing(
            result=IndexResult(functions=functions, errors=(), log=log), load_errors={}
        )

    def _index_v1(self, worker: _Worker, deadline: float) -> _Indexing:
        metadata, errors = _read_v1_metadata(self._wwwroot)
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


def _indexed_function(
    name: str, bindings: Sequence[Mapping[str, Any]], script: str
) -> IndexedFunction:
    frozen = tuple(types.MappingProxyType(dict(b)) for b in bindings)
    trigger = next((b for b in frozen if str(b.get("type", "")).lower().endswith("trigger")), None)
    trigger_type = str(trigger.get("type", "")) if trigger is not None else ""
    http = trigger if trigger_type.lower() == HTTP_TRIGGER else None
    return IndexedFunction(
        name=name,
        trigger=trigger_type,
        route=(str(http.get("route") or "") or name) if http is not None else None,
        methods=tuple(str(m).upper() for m in http.get("methods") or ())
        if http is not None
        else (),
        auth_level=str(http.get("authLevel") or DEFAULT_AUTH_LEVEL).lower()
        if http is not None
        else None,
        bindings=frozen,
        script=script,
    )


def _read_v1_metadata(wwwroot: Path) -> tuple[list[_V1Function], list[str]]:
    functions: list[_V1Function] = []
    errors: list[str] = []
    for directory in sorted(p for p in wwwroot.iterdir() if (p / FUNCTION_JSON).is_file()):
        try:
            functions.append(_read_function_json(wwwroot, directory))
        except _MetadataError as exc:
            errors.append(f"Function '{directory.name}' load error: {exc}")
    return functions, errors


def _read_function_json(wwwroot: Path, directory: Path) -> _V1Function:
    try:
        data = json.loads((directory / FUNCTION_JSON).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        msg = f"Unable to parse {FUNCTION_JSON}: {exc}"
        raise _MetadataError(msg) from None
    bindings = data.get("bindings") if isinstance(data, dict) else None
    if not isinstance(bindings, list) or not all(isinstance(b, dict) for b in bindings):
        msg = f"{FUNCTION_JSON} must have a 'bindings' array of objects."
        raise _MetadataError(msg)
    _check_triggers(bindings)
    script_file = _script_file(directory, data.get("scriptFile"))
    script = os.path.relpath(script_file, wwwroot).replace(os.sep, "/")
    return _V1Function(
        indexed=_indexed_function(directory.name, bindings, script),
        directory=directory,
        script_file=script_file,
        entry_point=str(data.get("entryPoint") or "main"),
    )


def _check_triggers(bindings: list[Mapping[str, Any]]) -> None:
    triggers = [b for b in bindings if str(b.get("type", "")).lower().endswith("trigger")]
    if not triggers:
        msg = "No trigger binding specified. A function must have a trigger input binding."
        raise _MetadataError(msg)
    if len(triggers) > 1:
        msg = (
            "Multiple trigger bindings defined. A function can only have a single trigger binding."
        )
        raise _MetadataError(msg)


def _script_file(directory: Path, script_file: object) -> Path:
    if script_file:
        path = Path(os.path.normpath(directory.absolute() / str(script_file)))
        if not path.is_file():
            msg = (
                "Invalid script file name configuration. The 'scriptFile' property is set to a "
                "file that does not exist."
            )
            raise _MetadataError(msg)
        return path
    path = directory / "__init__.py"
    if not path.is_file():
        msg = (
            "Unable to determine the primary function script. Make sure at least one script file "
            "is present. Try renaming your entry point script to 'run' or alternatively you can "
            "specify the name of the entry point script explicitly by adding a 'scriptFile' "
            "property to your function metadata."
        )
        raise _MetadataError(msg)
    return path.absolute()


def _load_request(function: _V1Function) -> Message:
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
