"""The emulated Functions host: indexing and invoking real apps in an isolated Python worker."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funcpub.emulator.routing import match_route
from funcpub.functionhost import (
    NO_JOB_FUNCTIONS,
    FunctionHost,
    HttpCall,
    HttpResult,
    IndexedFunction,
    IndexResult,
    prepare_worker_dir,
)

ROOT = Path(__file__).parents[2]
PROJECTS = ROOT / "tests" / "projects"
HELLO = ROOT / "examples" / "hello"
emulator = pytest.mark.emulator


@pytest.fixture(scope="module")
def worker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_worker_dir(tmp_path_factory.mktemp("worker") / "lib")


HostFactory = Callable[..., FunctionHost]


@pytest.fixture(scope="module")
def make_host(worker_dir: Path) -> Iterator[HostFactory]:
    """Hosts that the module shares and closes at its end."""
    hosts: list[FunctionHost] = []

    def make(wwwroot: Path, settings: Mapping[str, str] | None = None) -> FunctionHost:
        host = FunctionHost(wwwroot, app_settings=settings, worker_dir=worker_dir)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()


@pytest.fixture(scope="module")
def hello(make_host: HostFactory) -> tuple[FunctionHost, IndexResult]:
    host = make_host(HELLO)
    return host, host.index()


@pytest.fixture(scope="module")
def v2_good(make_host: HostFactory) -> tuple[FunctionHost, IndexResult]:
    host = make_host(PROJECTS / "v2-good")
    return host, host.index()


@pytest.fixture(scope="module")
def v1_good(make_host: HostFactory) -> tuple[FunctionHost, IndexResult]:
    host = make_host(PROJECTS / "v1-good")
    return host, host.index()


@pytest.fixture(scope="module")
def v1_partial(make_host: HostFactory) -> tuple[FunctionHost, IndexResult]:
    host = make_host(PROJECTS / "host-v1-partial")
    return host, host.index()


@pytest.fixture(scope="module")
def behaviours(make_host: HostFactory) -> tuple[FunctionHost, IndexResult]:
    host = make_host(PROJECTS / "host-behaviours", {"GREETING": "hi"})
    return host, host.index()


def http_call(
    method: str = "GET",
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    route_params: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> HttpCall:
    return HttpCall(
        method=method,
        url="https://app.example/api/test",
        headers=headers or {},
        params=params or {},
        route_params=route_params or {},
        body=body,
    )


def by_name(result: IndexResult) -> dict[str, IndexedFunction]:
    return {f.name: f for f in result.functions}


def request(
    indexed: tuple[FunctionHost, IndexResult], method: str, path: str, **kwargs: object
) -> HttpResult:
    """Route `path` like the host and invoke the function it selects."""
    host, result = indexed
    matched = match_route(result.functions, method, path)
    assert matched is not None, f"no route for {method} {path}"
    function, values = matched
    call = http_call(method, route_params=values, **kwargs)  # type: ignore[arg-type]
    return host.invoke(function, call)


def logged(host: FunctionHost, text: str, *, within: float = 5.0) -> bool:
    """Whether the host logged `text`; the worker's stderr is read by a thread, so wait a bit."""
    deadline = time.monotonic() + within
    while not any(text in line for line in host.logs):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# --- the worker's library folder ---------------------------------------------------------------


def test_worker_dir_holds_only_azure_functions_and_its_dependencies(tmp_path: Path) -> None:
    directory = prepare_worker_dir(tmp_path / "lib")
    assert prepare_worker_dir(tmp_path / "lib") == directory  # idempotent
    assert (directory / "azure" / "functions" / "__init__.py").is_file()
    assert not (directory / "azure" / "__init__.py").exists()  # `azure` stays a namespace
    assert (directory / "werkzeug").exists()
    assert not {"requests", "funcpub", "pytest", "typer"} & {p.name for p in directory.iterdir()}


# --- indexing ------------------------------------------------------------------------------------


@emulator
def test_index_examples_hello(hello: tuple[FunctionHost, IndexResult]) -> None:
    _, result = hello
    assert result.ok
    functions = by_name(result)
    assert sorted(functions) == ["health", "hello"]
    assert functions["hello"].trigger == "httpTrigger"
    assert functions["hello"].route == "hello"
    assert functions["hello"].methods == ("GET", "POST")
    assert functions["health"].methods == ("GET",)
    assert {f.auth_level for f in result.functions} == {"anonymous"}
    assert {f.script for f in result.functions} == {"function_app.py"}
    assert "2 functions found (Worker)" in result.log
    assert "Host.Functions.hello" in result.log


@emulator
def test_index_v2_good(v2_good: tuple[FunctionHost, IndexResult]) -> None:
    _, result = v2_good
    functions = by_name(result)
    assert result.ok and sorted(functions) == ["add_item", "hello", "nightly", "process_item"]
    add_item, hello = functions["add_item"], functions["hello"]
    assert (add_item.route, add_item.methods, add_item.auth_level) == (
        "items",
        ("POST",),
        "function",
    )
    assert (hello.route, hello.methods, hello.auth_level) == ("hello/{name}", ("GET",), "anonymous")
    nightly = functions["nightly"]
    assert (nightly.trigger, nightly.route, nightly.methods, nightly.auth_level) == (
        "timerTrigger",
        None,
        (),
        None,
    )
    assert functions["process_item"].trigger == "queueTrigger"
    assert {"type": "queue", "name": "msg"}.items() <= dict(add_item.bindings[0]).items()


@emulator
def test_index_v1_good(v1_good: tuple[FunctionHost, IndexResult]) -> None:
    _, result = v1_good
    functions = by_name(result)
    assert result.ok and sorted(functions) == ["HttpFunc", "QueueFunc"]
    http = functions["HttpFunc"]
    assert (http.trigger, http.route, http.methods, http.auth_level) == (
        "httpTrigger",
        "HttpFunc",
        ("GET",),
        "anonymous",
    )
    assert http.script == "HttpFunc/__init__.py"
    assert (functions["QueueFunc"].trigger, functions["QueueFunc"].script) == (
        "queueTrigger",
        "QueueFunc/main.py",
    )
    assert result.log[:3] == (
        "Reading functions metadata (Host)",
        "2 functions found (Host)",
        "2 functions loaded",
    )


@emulator
def test_missing_requirement_fails_indexing_like_azure(
    project_copy: Callable[[str], Path], worker_dir: Path
) -> None:
    assert importlib.util.find_spec("requests") is not None  # installed here, not in the worker
    with FunctionHost(project_copy("host-missing-dependency"), worker_dir=worker_dir) as host:
        result = host.index()
    assert not result.ok and result.functions == ()
    (error,) = result.errors
    assert error.startswith("Worker failed to index functions\nResult: Failure\n")
    assert (
        "Exception: ModuleNotFoundError: No module named 'requests'. Cannot find module." in error
    )
    assert "function_app.py" in error  # the user's stack, not the worker's
    assert "0 functions found (Worker)" in result.log
    assert NO_JOB_FUNCTIONS in result.log


@emulator
def test_shipped_requirement_is_found_in_python_packages(
    project_copy: Callable[[str], Path], worker_dir: Path
) -> None:
    wwwroot = project_copy("host-missing-dependency")
    stub = wwwroot / ".python_packages" / "lib" / "site-packages" / "requests" / "__init__.py"
    stub.parent.mkdir(parents=True)
    stub.write_text('__version__ = "0.0-stub"\n', encoding="utf-8")
    with FunctionHost(wwwroot, worker_dir=worker_dir) as host:
        result = host.index()
        assert result.ok, result.errors
        response = host.invoke(result.functions[0], http_call())
    assert (response.status, response.body) == (200, b"requests 0.0-stub")


@emulator
def test_v1_load_errors_stay_with_their_function(
    v1_partial: tuple[FunctionHost, IndexResult],
) -> None:
    host, result = v1_partial
    assert sorted(by_name(result)) == ["Broken", "Good", "Mismatch", "NoOutput"]
    errors = "\n".join(result.errors)
    assert (
        "Function 'Broken' load error: ModuleNotFoundError: "
        "No module named 'missing_dependency_xyz'" in errors
    )
    assert (
        "Function 'Mismatch' load error: FunctionLoadError: cannot load the Mismatch function: the "
        "following parameters are declared in Python but not in function.json: {'extra'}"
    ) in errors
    assert "Function 'BadJson' load error: Unable to parse function.json" in errors
    assert not result.ok
    assert any(line.startswith("Worker failed to load function: 'Broken'") for line in result.log)
    good = request(v1_partial, "GET", "good/Ada")
    assert (good.status, good.body) == (200, b"Good greets Ada!")
    assert request(v1_partial, "GET", "broken") == HttpResult(status=500, headers={}, body=b"")
    assert logged(host, "Executed 'Functions.Broken' (Failed")


@emulator
def test_v1_function_without_http_output_answers_empty_200(
    v1_partial: tuple[FunctionHost, IndexResult],
) -> None:
    response = request(v1_partial, "POST", "NoOutput", body=b"12345")
    assert response == HttpResult(status=200, headers={}, body=b"")
    assert logged(v1_partial[0], "INFO: NoOutput received 5 bytes")


# --- invocation ----------------------------------------------------------------------------------


@emulator
@pytest.mark.parametrize(
    ("method", "params", "body", "status", "expected"),
    [
        ("GET", {"name": "Ada"}, b"", 200, b"Hello, Ada!"),
        ("GET", {}, b"", 200, b"Hello, world!"),
        ("POST", {}, b"not json", 400, b"The body must be a JSON object."),
        ("POST", {}, b'{"name": "Bo"}', 200, b"Hello, Bo!"),
    ],
    ids=["query", "missing-name", "bad-body", "json-body"],
)
def test_invoke_examples_hello(
    hello: tuple[FunctionHost, IndexResult],
    method: str,
    params: dict[str, str],
    body: bytes,
    status: int,
    expected: bytes,
) -> None:
    response = request(hello, method, "hello", params=params, body=body)
    assert (response.status, response.body) == (status, expected)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@emulator
def test_invoke_blueprint_health_returns_json(hello: tuple[FunctionHost, IndexResult]) -> None:
    response = request(hello, "GET", "health")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"status": "ok"}


@emulator
def test_invoke_v2_good(v2_good: tuple[FunctionHost, IndexResult]) -> None:
    assert request(v2_good, "GET", "hello/Ada").body == b"Hello, Ada"
    added = request(v2_good, "POST", "items", body=b"apple")
    assert (added.status, added.body) == (202, b"")
    assert logged(v2_good[0], "set its queue output 'msg'")


@emulator
def test_invoke_v1_good_with_app_package_imports(v1_good: tuple[FunctionHost, IndexResult]) -> None:
    response = request(v1_good, "GET", "httpfunc", params={"name": "Ada"})
    assert (response.status, response.body) == (200, b"Hello, Ada!")


@emulator
def test_user_exception_is_an_empty_500_with_the_traceback_in_the_log(
    behaviours: tuple[FunctionHost, IndexResult],
) -> None:
    assert request(behaviours, "GET", "boom") == HttpResult(status=500, headers={}, body=b"")
    host = behaviours[0]
    assert logged(host, "Executed 'Functions.boom' (Failed")
    assert logged(host, "Exception: ValueError: boom: secret detail that must not reach the client")
    assert logged(host, "raise ValueError")


@emulator
def test_print_and_raw_writes_do_not_break_the_protocol(
    behaviours: tuple[FunctionHost, IndexResult],
) -> None:
    response = request(behaviours, "GET", "noisy")
    assert (response.status, response.body) == (200, b"quiet reply")
    host = behaviours[0]
    assert logged(host, '{"id": 1, "ok": true, "response": null, "outputs": {}}')
    assert logged(host, "raw bytes on file descriptor 1")
    assert logged(host, "WARNING: noisy was called")


@emulator
def test_async_function(behaviours: tuple[FunctionHost, IndexResult]) -> None:
    assert request(behaviours, "GET", "later", params={"n": "7"}).body == b"async 7"


@emulator
def test_request_reaches_the_function(behaviours: tuple[FunctionHost, IndexResult]) -> None:
    response = request(behaviours, "POST", "echo", headers={"X-Test": "yes"}, body=b"\x00\xffdata")
    assert (response.status, response.body) == (201, b"\x00\xffdata")
    assert response.headers["X-Method"] == "POST"
    assert response.headers["X-Test"] == "yes"
    assert response.headers["X-Function"] == "echo"
    assert len(response.headers["X-Invocation"]) == 36


@emulator
def test_route_parameters_reach_the_function(behaviours: tuple[FunctionHost, IndexResult]) -> None:
    assert json.loads(request(behaviours, "GET", "items/42").body) == {"id": "42"}
    assert match_route(behaviours[1].functions, "GET", "items/abc") is None


@emulator
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "text",
            HttpResult(
                status=200,
                headers={"Content-Type": "text/plain; charset=utf-8"},
                body=b"plain text",
            ),
        ),
        ("nothing", HttpResult(status=500, headers={}, body=b"")),
        ("raw", HttpResult(status=500, headers={}, body=b"")),
    ],
    ids=["str", "none", "bytes"],
)
def test_return_values_through_the_http_binding(
    behaviours: tuple[FunctionHost, IndexResult], path: str, expected: HttpResult
) -> None:
    assert request(behaviours, "GET", path) == expected
    if expected.status == 500:
        assert logged(behaviours[0], "TypeError: unable to encode outgoing TypedData")


@emulator
def test_app_settings_are_the_environment(behaviours: tuple[FunctionHost, IndexResult]) -> None:
    view = json.loads(request(behaviours, "GET", "environment").body)
    wwwroot = str(PROJECTS / "host-behaviours")
    assert view["GREETING"] == "hi"
    assert view["cwd"] == wwwroot
    assert view["AzureWebJobsScriptRoot"] == wwwroot
    assert view["modules"] == []


@emulator
def test_parent_environment_does_not_leak(
    monkeypatch: pytest.MonkeyPatch, worker_dir: Path
) -> None:
    monkeypatch.setenv("FUNCPUB_HOST_TEST_SECRET", "s3cret")
    function = IndexedFunction(
        name="environment",
        trigger="httpTrigger",
        route="environment",
        methods=(),
        auth_level="anonymous",
        bindings=(),
        script="function_app.py",
    )
    with FunctionHost(PROJECTS / "host-behaviours", worker_dir=worker_dir) as host:
        view = json.loads(host.invoke(function, http_call()).body)  # no index(): started lazily
    assert view["FUNCPUB_HOST_TEST_SECRET"] is None
    assert view["GREETING"] is None


@emulator
def test_worker_restarts_after_a_crash(behaviours: tuple[FunctionHost, IndexResult]) -> None:
    assert request(behaviours, "GET", "crash") == HttpResult(status=500, headers={}, body=b"")
    assert logged(behaviours[0], "python exited with code 3")
    assert request(behaviours, "GET", "later", params={"n": "1"}).body == b"async 1"


@emulator
def test_timeout_is_a_500_and_restarts_the_worker(
    behaviours: tuple[FunctionHost, IndexResult],
) -> None:
    host, result = behaviours
    sleepy = by_name(result)["sleepy"]
    outcome: list[HttpResult] = []
    started = time.monotonic()
    slow = threading.Thread(
        target=lambda: outcome.append(host.invoke(sleepy, http_call(), timeout=1.5))
    )
    slow.start()
    time.sleep(0.2)
    assert request(behaviours, "GET", "text").status == 200  # other calls run meanwhile
    slow.join()
    assert outcome == [HttpResult(status=500, headers={}, body=b"")]
    assert time.monotonic() - started < 10
    assert logged(host, "Timeout value of 00:00:01 exceeded by function 'Functions.sleepy'")
    assert request(behaviours, "GET", "text").status == 200


def test_invoking_a_non_http_function_is_refused(tmp_path: Path) -> None:
    timer = IndexedFunction(
        name="tick",
        trigger="timerTrigger",
        route=None,
        methods=(),
        auth_level=None,
        bindings=(),
        script="function_app.py",
    )
    with (
        FunctionHost(tmp_path, worker_dir=tmp_path) as host,
        pytest.raises(ValueError, match="not an HTTP"),
    ):
        host.invoke(timer, http_call())


def test_nothing_deployed_yet_means_no_functions(tmp_path: Path) -> None:
    with FunctionHost(tmp_path / "wwwroot", worker_dir=tmp_path) as host:
        result = host.index()
    assert (result.functions, result.errors, result.ok) == ((), (), False)
    assert NO_JOB_FUNCTIONS in result.log


def test_index_result_ok_needs_functions_and_no_errors() -> None:
    function = http_function("f", "f")
    assert IndexResult(functions=(function,), errors=(), log=()).ok
    assert not IndexResult(functions=(), errors=(), log=()).ok
    assert not IndexResult(functions=(function,), errors=("boom",), log=()).ok


# --- routing -----------------------------------------------------------------------------------


def http_function(name: str, route: str | None, methods: tuple[str, ...] = ()) -> IndexedFunction:
    return IndexedFunction(
        name=name,
        trigger="httpTrigger",
        route=route,
        methods=methods,
        auth_level="anonymous",
        bindings=(),
        script="function_app.py",
    )


ROUTES = (
    http_function("hello", "hello", ("GET", "POST")),
    http_function("by_id", "items/{id:int}"),
    http_function("by_name", "items/{name:alpha}"),
    http_function("special", "items/special"),
    http_function("files", "files/{*path}"),
    http_function("user", "users/{id:guid}"),
    http_function("page", "pages/{number?}"),
    http_function("lang", "docs/{lang=en}"),
    http_function("report", "reports/{name}.{ext}"),
    http_function("ranged", "ranged/{n:int:range(1,10)}"),
    http_function("short", "codes/{code:length(3)}"),
    http_function("pattern", "orders/{code:regex(^[a-z]{{2}}\\d+$)}"),
    http_function("readonly", "readonly", ("GET",)),
    http_function("default_route", None),
    http_function("named", "named/{first}/{last}"),
    http_function("unregistrable", "broken/{unclosed"),
    IndexedFunction(
        name="timer",
        trigger="timerTrigger",
        route=None,
        methods=(),
        auth_level=None,
        bindings=(),
        script="function_app.py",
    ),
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "hello", ("hello", {})),
        ("post", "HELLO/", ("hello", {})),
        ("DELETE", "hello", None),
        ("GET", "items/42", ("by_id", {"id": "42"})),
        ("GET", "items/abc", ("by_name", {"name": "abc"})),
        ("GET", "items/special", ("special", {})),
        ("GET", "Items/SPECIAL", ("special", {})),
        ("GET", "items/a1", None),
        ("GET", "items/99999999999", None),
        ("GET", "files/a/b/c.txt", ("files", {"path": "a/b/c.txt"})),
        ("GET", "files", ("files", {})),
        (
            "GET",
            "users/3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            ("user", {"id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}),
        ),
        ("GET", "users/not-a-guid", None),
        ("GET", "pages", ("page", {})),
        ("GET", "pages/2", ("page", {"number": "2"})),
        ("GET", "pages/2/3", None),
        ("GET", "docs", ("lang", {"lang": "en"})),
        ("GET", "docs/it", ("lang", {"lang": "it"})),
        ("GET", "reports/q1.pdf", ("report", {"name": "q1", "ext": "pdf"})),
        ("GET", "ranged/5", ("ranged", {"n": "5"})),
        ("GET", "ranged/11", None),
        ("GET", "codes/abc", ("short", {"code": "abc"})),
        ("GET", "codes/abcd", None),
        ("GET", "orders/ab12", ("pattern", {"code": "ab12"})),
        ("GET", "orders/abc", None),
        ("POST", "readonly", None),
        ("GET", "default_route", ("default_route", {})),
        (
            "GET",
            "named/Ada%20Augusta/Lovelace?x=1",
            ("named", {"first": "Ada Augusta", "last": "Lovelace"}),
        ),
        ("GET", "timer", None),
        ("GET", "nothing/here", None),
        ("GET", "broken/x", None),
        ("GET", "", None),
    ],
)
def test_match_route(method: str, path: str, expected: tuple[str, dict[str, str]] | None) -> None:
    matched = match_route(ROUTES, method, path)
    assert (None if matched is None else (matched[0].name, matched[1])) == expected


def test_literal_route_beats_parameter_whatever_the_order() -> None:
    functions = [http_function("param", "{anything}"), http_function("literal", "status")]
    assert match_route(functions, "GET", "status") == (functions[1], {})
    assert match_route(functions, "GET", "other") == (functions[0], {"anything": "other"})


@given(st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True), min_size=1, max_size=4))
def test_literal_routes_match_in_any_case(segments: list[str]) -> None:
    route = "/".join(segments)
    function = http_function("f", route)
    assert match_route([function], "GET", route.swapcase()) == (function, {})
    params = http_function("p", "/".join(f"{{p{i}}}" for i in range(len(segments))))
    assert match_route([params], "GET", route) == (
        params,
        {f"p{i}": s for i, s in enumerate(segments)},
    )


@emulator
def test_asgi_app_gets_every_path(make_host: HostFactory) -> None:
    host = make_host(PROJECTS / "host-asgi")
    result = host.index()
    (function,) = result.functions
    assert (function.name, function.route, function.auth_level) == (
        "http_app_func",
        "/{*route}",
        "anonymous",
    )
    matched = match_route(result.functions, "PUT", "deep/path")
    assert matched is not None and matched[1] == {"route": "deep/path"}
    call = HttpCall(
        method="PUT",
        url="https://app.example/api/deep/path",
        headers={},
        params={},
        route_params=matched[1],
        body=b"payload",
    )
    response = host.invoke(function, call)
    assert (response.status, response.body) == (200, b"PUT /api/deep/path payload")
