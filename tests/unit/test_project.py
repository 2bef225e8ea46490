"""The project model: a function app read statically (json + ast), never imported."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from funcpub.errors import ConfigError
from funcpub.project import (
    FunctionInfo,
    FunctionProject,
    binding_type,
    parse_module,
    read_json,
)

PROJECTS = Path(__file__).parents[1] / "projects"


def write_app(root: Path, files: dict[str, str]) -> FunctionProject:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return FunctionProject.load(root)


def by_name(project: FunctionProject) -> dict[str, FunctionInfo]:
    return {function.name: function for function in project.functions}


# --- loading -------------------------------------------------------------------------------------


def test_missing_root_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as info:
        FunctionProject.load(tmp_path / "nope")
    assert info.value.exit_code == 2
    assert info.value.hint is not None
    assert "host.json" in info.value.hint


def test_a_file_as_root_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text("{}")
    with pytest.raises(ConfigError, match="is not a directory") as info:
        FunctionProject.load(tmp_path / "host.json")
    assert info.value.hint is not None
    assert "holds host.json" in info.value.hint


def test_root_is_made_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECTS)
    project = FunctionProject.load(Path("v2-good"))
    assert project.root == PROJECTS / "v2-good"
    assert project.root.is_absolute()


def test_broken_content_never_raises(tmp_path: Path) -> None:
    project = write_app(
        tmp_path,
        {
            "host.json": "{ nope",
            "local.settings.json": "[1, 2]",
            "Broken/function.json": '"just a string"',
            "Weird/function.json": '{"bindings": [1, {"type": 3}], "scriptFile": 7}',
            "Weird/__init__.py": "def main(:\n",
        },
    )
    assert project.host_json is None
    assert project.local_settings is None
    assert project.requirements_path is None
    assert project.model == "v1"
    broken, weird = project.functions
    assert (broken.name, broken.trigger, broken.script, broken.bindings) == (
        "Broken",
        None,
        "Broken/__init__.py",
        (),
    )
    assert (weird.script, weird.entry_point, weird.line, weird.bindings) == (
        "Weird/__init__.py",
        "main",
        None,
        (),
    )


def test_relpath_is_posix_and_may_leave_the_root() -> None:
    project = FunctionProject.load(PROJECTS / "v1-good")
    assert project.relpath(project.root / "HttpFunc" / "function.json") == "HttpFunc/function.json"
    assert project.relpath(Path("host.json")) == "host.json"
    assert project.relpath(project.root.parent / "x.txt") == "../x.txt"


# --- v1 ------------------------------------------------------------------------------------------


def test_v1_good_project() -> None:
    project = FunctionProject.load(PROJECTS / "v1-good")
    assert project.model == "v1"
    assert project.host_json is not None
    assert project.host_json["version"] == "2.0"
    assert project.requirements_path == project.root / "requirements.txt"
    assert project.local_settings is not None
    assert project.funcignore == ("tests/",)
    functions = by_name(project)
    http = functions["HttpFunc"]
    assert (http.trigger, http.script, http.entry_point, http.line) == (
        "httpTrigger",
        "HttpFunc/__init__.py",
        "main",
        7,
    )
    assert (http.route, http.methods, http.auth_level) == ("HttpFunc", ("GET",), "anonymous")
    assert http.config == "HttpFunc/function.json"
    assert [(b.type, b.direction, b.name) for b in http.bindings] == [
        ("httpTrigger", "in", "req"),
        ("http", "out", "$return"),
    ]
    queue = functions["QueueFunc"]
    assert (queue.trigger, queue.script, queue.entry_point, queue.line) == (
        "queueTrigger",
        "QueueFunc/main.py",
        "handle",
        8,
    )
    assert (queue.route, queue.methods, queue.auth_level) == (None, (), None)


def test_v1_route_and_auth_come_from_the_binding(tmp_path: Path) -> None:
    project = write_app(
        tmp_path,
        {
            "Api/function.json": """
                {"bindings": [{"type": "HttpTrigger", "direction": "IN", "name": "req",
                               "route": "items/{id}", "authLevel": "Function"}]}
            """,
        },
    )
    (api,) = project.functions
    assert (api.route, api.auth_level, api.methods) == ("items/{id}", "function", ())
    assert api.bindings[0].direction == "in"
    assert api.trigger == "HttpTrigger"


# --- v2 ------------------------------------------------------------------------------------------


def test_v2_good_project_follows_the_blueprint() -> None:
    project = FunctionProject.load(PROJECTS / "v2-good")
    assert project.model == "v2"
    functions = by_name(project)
    assert list(functions) == ["hello", "nightly", "add_item", "process_item"]
    hello = functions["hello"]
    assert (hello.trigger, hello.script, hello.entry_point, hello.line) == (
        "httpTrigger",
        "function_app.py",
        "hello",
        11,
    )
    assert (hello.route, hello.methods, hello.auth_level) == ("hello/{name}", ("GET",), "anonymous")
    nightly = functions["nightly"]
    assert (nightly.trigger, nightly.entry_point, nightly.route) == (
        "timerTrigger",
        "cleanup",
        None,
    )
    assert [(b.type, b.name, b.line) for b in nightly.bindings] == [("timerTrigger", "timer", 16)]
    add = functions["add_item"]
    assert (add.script, add.route, add.methods, add.auth_level) == (
        "blueprints/items.py",
        "items",
        ("POST",),
        "function",
    )
    assert [(b.type, b.direction, b.name) for b in add.bindings] == [
        ("httpTrigger", "in", "req"),
        ("http", "out", "$return"),
        ("queue", "out", "msg"),
    ]
    assert functions["process_item"].trigger == "queueTrigger"


@pytest.mark.parametrize(
    ("imports", "constructor"),
    [
        ("import azure.functions as func", "func.FunctionApp()"),
        ("import azure.functions as af", "af.FunctionApp()"),
        ("import azure.functions", "azure.functions.FunctionApp()"),
        ("from azure import functions", "functions.FunctionApp()"),
        ("from azure.functions import FunctionApp", "FunctionApp()"),
        ("from azure.functions import FunctionApp as FA", "FA()"),
        ("from azure.functions import *", "FunctionApp()"),
        ("import azure.durable_functions as df", "df.DFApp()"),
    ],
    ids=lambda value: value,
)
def test_function_app_under_any_import_style(
    tmp_path: Path, imports: str, constructor: str
) -> None:
    source = f"{imports}\napp = {constructor}\n\n@app.route()\ndef ping(req):\n    return 1\n"
    project = write_app(tmp_path, {"function_app.py": source})
    assert [(f.name, f.route, f.auth_level) for f in project.functions] == [
        ("ping", "ping", "function")
    ]


def test_an_unrelated_function_app_class_is_not_an_app(tmp_path: Path) -> None:
    source = """
        from mylib import FunctionApp
        app = FunctionApp()

        @app.route()
        def ping(req):
            return 1
    """
    project = write_app(tmp_path, {"function_app.py": source})
    assert project.model == "v2"
    assert project.functions == ()


def test_asgi_app_registers_one_catch_all_function(tmp_path: Path) -> None:
    source = """
        import azure.functions as func
        from fastapi import FastAPI

        api = FastAPI()
        app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
    """
    project = write_app(tmp_path, {"function_app.py": source})
    (function,) = project.functions
    assert (function.name, function.route, function.auth_level, function.line) == (
        "http_app_func",
        "/{*route}",
        "anonymous",
        6,
    )


def test_function_name_overrides_and_route_defaults_to_it(tmp_path: Path) -> None:
    source = """
        import azure.functions as func
        app = func.FunctionApp(func.AuthLevel.ADMIN)

        @app.function_name("Renamed")
        @app.route(methods=("get", func.HttpMethod.POST), trigger_arg_name="request")
        async def original(request):
            return 1
    """
    project = write_app(tmp_path, {"function_app.py": source})
    (function,) = project.functions
    assert (function.name, function.entry_point, function.route) == (
        "Renamed",
        "original",
        "Renamed",
    )
    assert (function.methods, function.auth_level) == (("GET", "POST"), "admin")
    assert function.bindings[0].name == "request"


def test_blueprint_registered_by_module_attribute(tmp_path: Path) -> None:
    files = {
        "function_app.py": """
            import azure.functions as func
            import pkg.jobs as jobs
            app = func.FunctionApp()
            app.register_blueprint(jobs.bp)
        """,
        "pkg/jobs/__init__.py": """
            from azure.functions import Blueprint
            bp = Blueprint()

            @bp.schedule(schedule="0 0 * * * *", arg_name="t")
            def hourly(t):
                pass

            @bp.event_hub_message_trigger(arg_name="e", event_hub_name="h", connection="C")
            def events(e):
                pass
        """,
    }
    project = write_app(tmp_path, files)
    assert [(f.name, f.trigger, f.script) for f in project.functions] == [
        ("hourly", "timerTrigger", "pkg/jobs/__init__.py"),
        ("events", "eventHubTrigger", "pkg/jobs/__init__.py"),
    ]


def test_unregistered_or_unresolvable_blueprints_add_nothing(tmp_path: Path) -> None:
    files = {
        "function_app.py": """
            import azure.functions as func
            from elsewhere import bp as remote
            from local_bp import bp
            app = func.FunctionApp()
            local = func.Blueprint()
            app.register_functions(remote)

            @local.route()
            def never(req):
                return 1
        """,
        "local_bp.py": """
            import azure.functions as func
            bp = func.Blueprint()

            @bp.route()
            def unregistered(req):
                return 1
        """,
    }
    assert write_app(tmp_path, files).functions == ()


def test_v2_and_v1_together_are_mixed() -> None:
    project = FunctionProject.load(PROJECTS / "fp601-mixed-model")
    assert project.model == "mixed"
    assert {f.name for f in project.functions} == {"HttpFunc", "hello"}


def test_nothing_at_all_is_model_none() -> None:
    project = FunctionProject.load(PROJECTS / "fp602-no-functions")
    assert (project.model, project.functions) == ("none", ())


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("route", "httpTrigger"),
        ("schedule", "timerTrigger"),
        ("timer_trigger", "timerTrigger"),
        ("queue_trigger", "queueTrigger"),
        ("blob_trigger", "blobTrigger"),
        ("event_grid_trigger", "eventGridTrigger"),
        ("event_hub_message_trigger", "eventHubTrigger"),
        ("service_bus_queue_trigger", "serviceBusTrigger"),
        ("service_bus_topic_trigger", "serviceBusTrigger"),
        ("cosmos_db_trigger", "cosmosDBTrigger"),
        ("orchestration_trigger", "orchestrationTrigger"),
        ("blob_input", "blob"),
        ("cosmos_db_input", "cosmosDB"),
        ("durable_client_input", "durableClient"),
        ("event_grid_output", "eventGrid"),
        ("service_bus_topic_output", "serviceBus"),
        ("function_name", None),
        ("retry", None),
    ],
)
def test_decorator_names_map_to_binding_types(method: str, expected: str | None) -> None:
    assert binding_type(method) == expected


def test_generic_decorators_take_their_type_argument() -> None:
    call = ast.parse('x(arg_name="a", type="kafkaTrigger")', mode="eval").body
    assert isinstance(call, ast.Call)
    assert binding_type("generic_trigger", call) == "kafkaTrigger"
    assert binding_type("generic_input_binding") == "generic"


# --- helpers -------------------------------------------------------------------------------------


def test_read_json_accepts_what_the_host_accepts(tmp_path: Path) -> None:
    path = tmp_path / "host.json"
    path.write_text('\ufeff{\n  // a comment\n  "version": "2.0", /* more */\n  "a": [1, 2,],\n}\n')
    assert read_json(path) == ({"version": "2.0", "a": [1, 2]}, None)


def test_read_json_reports_the_line_of_the_first_error(tmp_path: Path) -> None:
    path = tmp_path / "host.json"
    path.write_text('{\n  "version": "2.0"\n  "x": 1\n}\n')
    value, problem = read_json(path)
    assert value is None
    assert problem is not None
    assert (problem.message, problem.line) == ("Expecting ',' delimiter", 3)


def test_read_json_of_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "host.json"
    path.write_bytes(b"\xff\xfe\x00")
    value, problem = read_json(path)
    assert value is None
    assert problem is not None
    assert problem.message == "is not UTF-8 text"


def test_parse_module_caches_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    first = parse_module(path)
    assert isinstance(first, ast.Module)
    assert parse_module(path) is first
    path.write_text("x = (\n")
    error = parse_module(path)
    assert isinstance(error, SyntaxError)
    assert error.lineno == 1


def test_parse_module_never_warns_about_user_code(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text('PATTERN = "\\d+"\n')  # an invalid escape: SyntaxWarning on 3.12+
    assert isinstance(parse_module(path), ast.Module)


def test_parse_module_of_a_missing_file(tmp_path: Path) -> None:
    error = parse_module(tmp_path / "missing.py")
    assert isinstance(error, SyntaxError)
    assert "cannot read" in str(error)
