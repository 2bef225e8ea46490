"""The Python language worker of the emulated Functions host (runs in its own process).

`funcpub.functionhost.host` starts it as ``python -I -S -B worker_main.py <wwwroot> <worker_dir>``
with the app settings as its environment. Like Azure's worker (Azure/azure-functions-python-worker:
loader.py, functions.py, dispatcher.py) it sees only the app, the app's
``.python_packages/lib/site-packages`` and its own copy of ``azure.functions``; it indexes v2 apps,
loads v1 functions as ``__app__.<folder>`` modules and invokes them with the real library.

It speaks JSON lines: requests on stdin, replies on a private duplicate of the original stdout.
File descriptor 1 is pointed at stderr, so ``print()``, raw writes and child processes of user code
land in the worker's log and never in the protocol.

This file must not import funcpub: only the standard library and ``azure.functions``.
"""

from __future__ import annotations

import base64
import concurrent.futures
import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import logging
import os
import secrets
import sys
import threading
import traceback
import typing
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

if typing.TYPE_CHECKING:
    import asyncio
    from types import ModuleType

    from azure.functions import FunctionRegister

Message = dict[str, Any]

APP_PACKAGE: Final = "__app__"
PACKAGES_DIR: Final = Path(".python_packages", "lib", "site-packages")
HTTP_TRIGGER: Final = "httptrigger"
HTTP_OUTPUT: Final = "http"
MODULE_NOT_FOUND_URL: Final = "https://aka.ms/functions-modulenotfound"
_THIS_FILE: Final = str(Path(__file__).absolute())
_IMPORTLIB_DIR: Final = str(Path(importlib.__file__ or "").parent)


class FunctionLoadError(RuntimeError):
    """A function whose signature does not fit its bindings (the real worker's own error)."""

    def __init__(self, function_name: str, message: str) -> None:
        super().__init__(f"cannot load the {function_name} function: {message}")


# --- what user code receives --------------------------------------------------------------


class Out:
    """An output binding parameter, as the real worker passes it (`set()` / `get()`)."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        """Set the value the binding sends."""
        self._value = val

    def get(self) -> Any:
        """The value set so far (None if none)."""
        return self._value


@dataclass(frozen=True, kw_only=True)
class TraceContext:
    """W3C trace context of the invocation."""

    trace_parent: str
    trace_state: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RetryContext:
    """Retry state: HTTP invocations are never retried."""

    retry_count: int = 0
    max_retry_count: int = 0
    exception: Any = None


@dataclass(frozen=True, kw_only=True)
class InvocationContext:
    """The `context` argument: the attributes of `azure.functions.Context`."""

    invocation_id: str
    function_name: str
    function_directory: str
    trace_context: TraceContext
    retry_context: RetryContext = field(default_factory=RetryContext)
    thread_local_storage: threading.local = field(default_factory=threading.local)


# --- the protocol pipe ----------------------------------------------------------------------


class Channel:
    """Private duplicates of stdin/stdout for the protocol; fds 0 and 1 are taken from user code."""

    def __init__(self) -> None:
        self._reader = os.fdopen(os.dup(0), "rb")
        self._writer = os.fdopen(os.dup(1), "wb")
        self._lock = threading.Lock()
        _detach_standard_streams()

    def receive(self) -> Message | None:
        """The next request, or None when the host closed the pipe."""
        line = self._reader.readline()
        return json.loads(line) if line else None

    def send(self, message: Message) -> None:
        """Write one reply line (thread-safe)."""
        data = json.dumps(message).encode() + b"\n"
        with self._lock:
            self._writer.write(data)
            self._writer.flush()


def _detach_standard_streams() -> None:
    """Give user code an empty stdin and make its stdout the log, down to the file descriptors."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = os.fdopen(0, encoding="utf-8", closefd=False)
    sys.stdout = sys.stderr


# --- environment ------------------------------------------------------------------------------


def configure_paths(wwwroot: Path, worker_dir: Path) -> None:
    """Search the app, then its shipped packages, then the worker's library, then the stdlib."""
    sys.path[:0] = [str(wwwroot), str(wwwroot / PACKAGES_DIR), str(worker_dir)]


def configure_logging() -> None:
    """Send every log record to stderr, which the host keeps as the worker's log."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    debug = os.environ.get("PYTHON_ENABLE_DEBUG_LOGGING", "").lower() in {"1", "true"}
    root.setLevel(logging.DEBUG if debug else logging.INFO)


def install_app_package(wwwroot: Path) -> None:
    """Register `__app__` as a package rooted at wwwroot, as the worker's loader does."""
    spec = importlib.machinery.ModuleSpec(APP_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(wwwroot)]
    sys.modules[APP_PACKAGE] = importlib.util.module_from_spec(spec)


def register_with_library() -> None:
    """Make `isinstance(x, func.Context)` / `func.Out` hold for what functions receive."""
    try:
        import azure.functions as func  # noqa: PLC0415 - importable only once sys.path is set
    except ImportError:
        logging.exception("The worker cannot import azure.functions")
        return
    func.Context.register(InvocationContext)
    func.Out.register(Out)


def thread_count() -> int | None:
    """PYTHON_THREADPOOL_THREAD_COUNT, or None for the executor's default (Python >= 3.9)."""
    value = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


# --- errors as the host sees them --------------------------------------------------------------


def serialize_exception(exc: BaseException) -> Message:
    """`Type: message` and the user's part of the stack, like the worker's RpcException."""
    return {"message": f"{type(exc).__name__}: {exc}", "stack": _user_stack(exc)}


def _user_stack(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    kept = [f for f in frames if not _is_worker_frame(f.filename)]
    return "".join(traceback.StackSummary.from_list(kept).format())


def _is_worker_frame(filename: str) -> bool:
    """The worker's own frames and importlib's, which the real worker also trims."""
    return (
        filename.startswith("<frozen ")
        or filename == _THIS_FILE
        or Path(filename).parent == Path(_IMPORTLIB_DIR)
    )


def explain_import_error(exc: ImportError) -> ImportError:
    """Append the worker's requirements.txt hint to an import error's message."""
    hint = (
        "Cannot find module. Please check the requirements.txt file for the missing module. "
        f"For more info, please refer the troubleshooting guide: {MODULE_NOT_FOUND_URL}. "
        f"Current sys.path: {sys.path}"
    )
    message = f"{(exc.msg or str(exc)).rstrip('.')}. {hint}"
    try:
        explained = type(exc)(message)
    except TypeError:
        explained = ImportError(message)
    return explained.with_traceback(exc.__traceback__)


def import_module(name: str) -> ModuleType:
    """Import user code; an ImportError carries the worker's hint."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise explain_import_error(exc) from exc


# --- loading ------------------------------------------------------------------------------------


def find_function_app(module: ModuleType, script: str) -> FunctionRegister:
    """The one top-level FunctionApp/AsgiFunctionApp/WsgiFunctionApp (worker: get_fx_app)."""
    from azure.functions import FunctionRegister  # noqa: PLC0415 - importable only once sys.path is set

    app: FunctionRegister | None = None
    for name in dir(module):
        value = getattr(module, name, None)
        if not isinstance(value, FunctionRegister):
            continue
        if app is not None:
            msg = (
                f"More than one {type(app).__name__} or other top level function app instances "
                "are defined."
            )
            raise ValueError(msg)
        app = value
    if app is None:
        msg = f"Could not find top level function app instances in {script}."
        raise ValueError(msg)
    return app


def load_entry_point(wwwroot: Path, name: str, script_file: Path, entry_point: str) -> Any:
    """Import a v1 script as `__app__.<folder>[.<module>]` and return its entry point."""
    try:
        relative = script_file.relative_to(wwwroot)
    except ValueError:
        msg = f"script path {script_file} is not relative to the specified directory {wwwroot}"
        raise RuntimeError(msg) from None
    stem, suffix = os.path.splitext(relative.name)  # noqa: PTH122 - splitext is the worker's own rule
    if suffix != ".py":
        msg = f"cannot load function {name}: invalid Python filename {script_file}"
        raise RuntimeError(msg)
    parts = [APP_PACKAGE, *relative.parts[:-1]]
    if stem.lower() != "__init__":
        parts.append(stem)
    entry = getattr(import_module(".".join(parts)), entry_point, None)
    if entry is None or not callable(entry):
        msg = f"cannot load function {name}: function {entry_point}() is not present in {relative}"
        raise RuntimeError(msg)
    return entry


@dataclass(frozen=True, kw_only=True)
class LoadedFunction:
    """A loaded function and how its parameters map to bindings."""

    name: str
    directory: str
    func: Callable[..., Any]
    trigger: tuple[str, str] | None  # (parameter, binding type)
    inputs: Mapping[str, str]  # other input parameters -> binding type
    outputs: Mapping[str, str]  # Out parameters -> binding type
    return_binding: str | None
    requires_context: bool
    is_async: bool


def describe_function(
    name: str, directory: str, func: Callable[..., Any], bindings: list[Message]
) -> LoadedFunction:
    """Check a function's signature against its bindings, as the worker's Registry does."""
    bound, return_binding = _split_bindings(name, bindings)
    params = dict(inspect.signature(func).parameters)
    hints = typing.get_type_hints(func)
    requires_context = "context" in params and "context" not in bound
    if requires_context:
        params.pop("context")
        _check_context(name, hints)
    _check_names(name, set(params), set(bound))
    for param in params:
        _check_direction(name, param, bound[param], hints)
    _check_return(name, return_binding, hints)
    return LoadedFunction(
        name=name,
        directory=directory,
        func=func,
        trigger=next(((p, _type(b)) for p, b in bound.items() if _is_trigger(b)), None),
        inputs={p: _type(b) for p, b in bound.items() if not _is_out(b) and not _is_trigger(b)},
        outputs={p: _type(b) for p, b in bound.items() if _is_out(b)},
        return_binding=return_binding,
        requires_context=requires_context,
        is_async=inspect.iscoroutinefunction(func),
    )


def _type(binding: Message) -> str:
    return str(binding.get("type", ""))


def _direction(binding: Message) -> str:
    return str(binding.get("direction", "in")).lower()


def _is_out(binding: Message) -> bool:
    return _direction(binding) == "out"


def _is_trigger(binding: Message) -> bool:
    return _type(binding).lower().endswith("trigger")


def _split_bindings(name: str, bindings: list[Message]) -> tuple[dict[str, Message], str | None]:
    bound: dict[str, Message] = {}
    return_binding: str | None = None
    for binding in bindings:
        if _direction(binding) == "inout":
            raise FunctionLoadError(name, '"inout" bindings are not supported')
        if binding.get("name") != "$return":
            bound[str(binding.get("name"))] = binding
        elif _is_out(binding):
            return_binding = _type(binding)
        else:
            raise FunctionLoadError(name, '"$return" binding must have direction set to "out"')
    return bound, return_binding


def _check_context(name: str, hints: Mapping[str, Any]) -> None:
    annotation = hints.get("context")
    if annotation is not None and getattr(annotation, "__name__", None) != "Context":
        expected = 'the "context" parameter is expected to be of type azure.functions.Context'
        msg = f"{expected}, got {annotation!r}"
        raise FunctionLoadError(name, msg)


def _check_names(name: str, params: set[str], bound: set[str]) -> None:
    declared = "the following parameters are declared in"
    if params - bound:
        msg = f"{declared} Python but not in function.json: {params - bound!r}"
        raise FunctionLoadError(name, msg)
    if bound - params:
        msg = f"{declared} function.json but not in Python: {bound - params!r}"
        raise FunctionLoadError(name, msg)


def _is_out_annotation(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and origin.__name__ == "Out"


def _check_direction(name: str, param: str, binding: Message, hints: Mapping[str, Any]) -> None:
    if param not in hints:
        return
    annotated_out = _is_out_annotation(hints[param])
    if _is_out(binding) and not annotated_out:
        msg = (
            f'binding {param} is declared to have the "out" direction, but its annotation in '
            "Python is not a subclass of azure.functions.Out"
        )
        raise FunctionLoadError(name, msg)
    if not _is_out(binding) and annotated_out:
        msg = (
            f'binding {param} is declared to have the "in" direction in function.json, but its '
            "annotation is azure.functions.Out in Python"
        )
        raise FunctionLoadError(name, msg)


def _check_return(name: str, binding: str | None, hints: Mapping[str, Any]) -> None:
    if binding is None or "return" not in hints:
        return
    annotation = hints["return"]
    if _is_out_annotation(annotation):
        raise FunctionLoadError(name, "return annotation should not be azure.functions.Out")
    if not isinstance(annotation, type):
        raise FunctionLoadError(name, f"has invalid non-type return annotation {annotation!r}")
    converter = _converter(binding)
    if converter is not None and not converter.check_output_type_annotation(annotation):
        msg = (
            f'Python return annotation "{annotation.__name__}" does not match binding type '
            f'"{binding}"'
        )
        raise FunctionLoadError(name, msg)


def _converter(binding: str) -> Any:
    """The library's converter for a binding type (None: the worker's generic binding)."""
    import azure.functions as func  # noqa: PLC0415 - importable only once sys.path is set

    # get_binding_registry() is untyped; the registry maps binding types to converter classes.
    get_registry: Callable[[], Any] = func.get_binding_registry
    return get_registry().get(binding)


# --- invocation ------------------------------------------------------------------------------


def encode_output(binding: str, value: Any) -> Any:
    """Encode a value with the binding's converter; what it refuses fails the invocation."""
    converter = _converter(binding)
    if converter is None:
        return value
    try:
        return converter.encode(value, expected_type=None)
    except NotImplementedError:
        msg = (
            f'unable to encode outgoing TypedData: unsupported type "{converter}" for Python type '
            f'"{type(value).__name__}"'
        )
        raise TypeError(msg) from None


def http_response(value: Any) -> Message:
    """What the http converter hands the host: a string, or status, headers and body."""
    datum = encode_output(HTTP_OUTPUT, value)
    if datum.type == "string":
        return {"kind": "string", "body": _b64(str(datum.value).encode())}
    parts = datum.value
    headers = {name: str(header.value) for name, header in parts["headers"].items()}
    cookies = [m.OutputString() for cookie in parts.get("cookies") or () for m in cookie.values()]
    if cookies:
        headers["Set-Cookie"] = ", ".join(cookies)
    return {
        "kind": "http",
        "status": int(parts["status_code"].value),
        "headers": headers,
        "body": _b64(parts["body"].value or b""),
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """One call of a function: its arguments and Out parameters."""

    function: LoadedFunction
    arguments: Mapping[str, Any]
    outs: Mapping[str, Out]

    def finish(self, result: Any) -> Message:
        """The reply: the HTTP response and which output bindings were set."""
        function = self.function
        if result is not None and function.return_binding is None:
            msg = f"function {function.name!r} without a $return binding returned a non-None value"
            raise RuntimeError(msg)
        outputs = {n: function.outputs[n] for n, out in self.outs.items() if out.get() is not None}
        for param, binding in outputs.items():
            encode_output(binding, self.outs[param].get())
        response = None
        if function.return_binding == HTTP_OUTPUT:
            response = http_response(result)
        elif function.return_binding is not None and result is not None:
            encode_output(function.return_binding, result)
            outputs["$return"] = function.return_binding
        http_outs = [p for p, binding in outputs.items() if binding == HTTP_OUTPUT]
        if response is None and http_outs:
            response = http_response(self.outs[http_outs[0]].get())
        return {"response": response, "outputs": outputs}


def prepare_invocation(function: LoadedFunction, message: Message) -> Invocation:
    """Build the arguments: the HTTP request, `context`, Out objects; other inputs get None."""
    outs = {param: Out() for param in function.outputs}
    arguments: dict[str, Any] = dict.fromkeys(function.inputs) | outs
    for param, binding in function.inputs.items():
        logging.warning("The emulator supplies no %s input: %s gets None", binding, param)
    if function.trigger is not None:
        param, binding = function.trigger
        arguments[param] = (
            _http_request(message["request"]) if binding.lower() == HTTP_TRIGGER else None
        )
    if function.requires_context:
        arguments["context"] = _context(function, str(message["invocation_id"]))
    return Invocation(function=function, arguments=arguments, outs=outs)


def _http_request(request: Message) -> Any:
    import azure.functions as func  # noqa: PLC0415 - importable only once sys.path is set

    return func.HttpRequest(
        method=str(request["method"]),
        url=str(request["url"]),
        headers=dict(request["headers"]),
        params=dict(request["params"]),
        route_params=dict(request["route_params"]),
        body=base64.b64decode(request["body"]),
    )


def _context(function: LoadedFunction, invocation_id: str) -> InvocationContext:
    trace_parent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
    context = InvocationContext(
        invocation_id=invocation_id,
        function_name=function.name,
        function_directory=function.directory,
        trace_context=TraceContext(trace_parent=trace_parent),
    )
    context.thread_local_storage.invocation_id = invocation_id
    return context


# --- the dispatcher ----------------------------------------------------------------------------


class Worker:
    """Serves index, load and invoke requests; sync functions in threads, async ones on a loop."""

    def __init__(self, wwwroot: Path, channel: Channel) -> None:
        self._wwwroot = wwwroot
        self._channel = channel
        self._functions: dict[str, LoadedFunction] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(thread_count(), "invocation")
        self._loop: asyncio.AbstractEventLoop | None = None  # started by the first async call

    def serve(self) -> None:
        """Answer requests until the host closes the pipe."""
        while (message := self._channel.receive()) is not None:
            self._dispatch(message)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _dispatch(self, message: Message) -> None:
        operation = message.get("op")
        if operation == "index":
            self._reply(message, lambda: self._index(str(message["script"])))
        elif operation == "load":
            self._reply(message, lambda: self._load(message))
        elif operation == "invoke":
            self._start_invocation(message)
        else:
            self._reply(message, lambda: _unknown(operation))

    def _reply(self, message: Message, produce: Callable[[], Message]) -> None:
        try:
            reply: Message = {"ok": True, **produce()}
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything, even SystemExit
            reply = {"ok": False, "exception": serialize_exception(exc)}
        self._channel.send({"id": message["id"], **reply})

    def _index(self, script: str) -> Message:
        module = import_module(Path(script).stem)
        app = find_function_app(module, script)
        return {"functions": [self._register(f) for f in app.get_functions()]}

    def _register(self, function: Any) -> Message:
        name = str(function.get_function_name())
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        user_function = function.get_user_function()
        loaded = describe_function(name, str(self._wwwroot), user_function, bindings)
        self._functions[name] = loaded
        return {"name": name, "bindings": bindings, "script": function.function_script_file}

    def _load(self, message: Message) -> Message:
        name = str(message["name"])
        script = Path(message["script_file"])
        entry = load_entry_point(self._wwwroot, name, script, message.get("entry_point") or "main")
        directory = str(message["directory"])
        self._functions[name] = describe_function(name, directory, entry, message["bindings"])
        return {}

    def _start_invocation(self, message: Message) -> None:
        function = self._functions.get(str(message["name"]))
        if function is None:
            self._reply(message, lambda: _not_loaded(message["name"]))
        elif function.is_async:
            self._run_async(self._invoke_async(function, message))
        else:
            self._pool.submit(self._invoke_sync, function, message)

    def _run_async(self, invocation: Coroutine[Any, Any, None]) -> None:
        """Run `invocation` on the loop of async functions, started on first use (asyncio
        takes a while to import, and most apps never need it)."""
        import asyncio  # noqa: PLC0415

        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, name="asyncio", daemon=True).start()
        asyncio.run_coroutine_threadsafe(invocation, self._loop)

    def _invoke_sync(self, function: LoadedFunction, message: Message) -> None:
        def run() -> Message:
            invocation = prepare_invocation(function, message)
            return invocation.finish(function.func(**invocation.arguments))

        self._reply(message, run)

    async def _invoke_async(self, function: LoadedFunction, message: Message) -> None:
        try:
            invocation = prepare_invocation(function, message)
            reply: Message = {
                "ok": True,
                **invocation.finish(await function.func(**invocation.arguments)),
            }
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything
            reply = {"ok": False, "exception": serialize_exception(exc)}
        self._channel.send({"id": message["id"], **reply})


def _unknown(operation: object) -> Message:
    msg = f"unknown request {operation!r}"
    raise ValueError(msg)


def _not_loaded(name: object) -> Message:
    msg = f"no function named {name!r} is loaded"
    raise RuntimeError(msg)


def main(argv: list[str]) -> int:
    """Set up the isolated environment, then serve the host until it closes the pipe."""
    wwwroot, worker_dir = Path(argv[1]).absolute(), Path(argv[2]).absolute()
    channel = Channel()
    configure_paths(wwwroot, worker_dir)
    configure_logging()
    install_app_package(wwwroot)
    register_with_library()
    Worker(wwwroot, channel).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
