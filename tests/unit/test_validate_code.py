"""FP3xx-FP5xx details: entry points, bindings vs parameters, decorators, and app imports."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from funcpub.project import FunctionProject
from funcpub.validate import Finding, validate
from funcpub.validate.v1 import is_out_annotation, returns_value
from funcpub.validate.v2 import FUNCTION_NAME, route_key

HOST = '{"version": "2.0", "extensionBundle": {"id": "Microsoft.Azure.Functions.ExtensionBundle", '
HOST += '"version": "[4.*, 5.0.0)"}}'
HTTP_JSON = """
    {"bindings": [
        {"type": "httpTrigger", "direction": "in", "name": "req"},
        {"type": "http", "direction": "out", "name": "$return"}
    ]}
"""


def findings(root: Path, files: dict[str, str]) -> list[Finding]:
    files = {"host.json": HOST, "requirements.txt": "azure-functions\n", **files}
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return list(validate(FunctionProject.load(root)).findings)


def codes(root: Path, files: dict[str, str]) -> list[str]:
    return [finding.code for finding in findings(root, files)]


def v1_app(code: str, **extra: str) -> dict[str, str]:
    return {"Fn/function.json": HTTP_JSON, "Fn/__init__.py": code, **extra}


def v2_app(code: str, **extra: str) -> dict[str, str]:
    header = "import azure.functions as func\napp = func.FunctionApp()\n"
    return {"function_app.py": header + textwrap.dedent(code), **extra}


# --- imports -------------------------------------------------------------------------------------


def test_v2_function_app_cannot_import_relatively(tmp_path: Path) -> None:
    app = v2_app(
        """
        from . import helpers

        @app.route()
        def ping(req):
            return helpers.X
        """,
        **{"helpers.py": "X = 1\n"},
    )
    (finding,) = findings(tmp_path, app)
    assert (finding.code, finding.path, finding.line) == ("FP503", "function_app.py", 4)
    assert finding.hint is not None
    assert "absolute imports" in finding.hint


def test_v2_packages_import_siblings_but_not_above_themselves(tmp_path: Path) -> None:
    app = v2_app(
        """
        from pkg.mod import VALUE

        @app.route()
        def ping(req):
            return VALUE
        """,
        **{
            "pkg/__init__.py": "",
            "pkg/mod.py": "from .sibling import VALUE\nfrom ..top import OTHER\n",
            "pkg/sibling.py": "VALUE = 1\n",
            "top.py": "OTHER = 2\n",
        },
    )
    assert [(f.code, f.path, f.line) for f in findings(tmp_path, app)] == [
        ("FP503", "pkg/mod.py", 2)
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "from __app__ import shared_code",
        "from __app__.shared_code import helpers, CONSTANT",
        "import __app__.shared_code.helpers",
        "from __app__.shared_code._speed import fast",
        "from __app__.namespace.deep import thing",
        "from . import sibling",
        "from .sibling import anything_at_all",
        "from .. import shared_code",
        "try:\n    from __app__.optional import x\nexcept ImportError:\n    x = None",
        "try:\n    import __app__.optional\nexcept (ValueError, ModuleNotFoundError):\n    pass",
    ],
)
def test_app_imports_that_resolve(tmp_path: Path, statement: str) -> None:
    code = f"{statement}\n\ndef main(req):\n    return 1\n"
    files = v1_app(
        code,
        **{
            "Fn/sibling.py": "",
            "shared_code/__init__.py": "CONSTANT = 1\n",
            "shared_code/helpers.py": "",
            "shared_code/_speed.cpython-312-x86_64-linux-gnu.so": "",
            "namespace/deep.py": "thing = 1\n",
        },
    )
    assert codes(tmp_path, files) == []


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("from __app__ import nothing", "nothing is not a module of __app__"),
        ("import __app__.nowhere", "module nowhere does not ship"),
        ("from __app__.shared_code import helpers, UNDEFINED", "UNDEFINED is not a module of"),
        ("from . import missing", "missing is not a module of Fn"),
        ("from ..nowhere import x", "module nowhere does not ship"),
    ],
)
def test_app_imports_that_do_not_resolve(tmp_path: Path, statement: str, message: str) -> None:
    files = v1_app(
        f"{statement}\n\ndef main(req):\n    return 1\n",
        **{"shared_code/__init__.py": "CONSTANT = 1\n", "shared_code/helpers.py": ""},
    )
    (finding,) = findings(tmp_path, files)
    assert (finding.code, finding.path, finding.line) == ("FP502", "Fn/__init__.py", 1)
    assert message in finding.message


def test_dynamic_init_names_are_not_second_guessed(tmp_path: Path) -> None:
    files = v1_app(
        "from __app__.shared_code import anything\n\ndef main(req):\n    return 1\n",
        **{"shared_code/__init__.py": "def __getattr__(name):\n    return name\n"},
    )
    assert codes(tmp_path, files) == []


def test_code_under_python_packages_is_not_checked(tmp_path: Path) -> None:
    files = v1_app(
        "def main(req):\n    return 1\n",
        **{".python_packages/lib/site-packages/bad.py": "def (:\n"},
    )
    assert codes(tmp_path, files) == []


# --- v1 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("func.Out[str]", True),
        ("Out[func.QueueMessage]", True),
        ("azure.functions.Out[str]", True),
        ("func.Out", True),
        ("'func.Out[str]'", True),
        ("str", False),
        ("typing.List[str]", False),
        ("'not valid ]'", False),
    ],
)
def test_out_annotations(annotation: str, expected: bool) -> None:
    node = ast.parse(f"x: {annotation}").body[0]
    assert isinstance(node, ast.AnnAssign)
    assert is_out_annotation(node.annotation) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return 1", True),
        ("if x:\n        return func.HttpResponse('a')\n    return", True),
        ("return", False),
        ("return None", False),
        ("def inner():\n        return 1\n    inner()", False),
        ("class C:\n        y = (lambda: 1)\n    pass", False),
    ],
)
def test_returns_value(body: str, expected: bool) -> None:
    node = ast.parse(f"def main(x):\n    {body}\n").body[0]
    assert isinstance(node, ast.FunctionDef)
    assert returns_value(node) is expected


QUEUE_OUT = """
    {"bindings": [
        {"type": "queueTrigger", "direction": "in", "name": "msg", "queueName": "a"},
        {"type": "queue", "direction": "out", "name": "out", "queueName": "b"}
    ]}
"""


def test_unannotated_output_parameters_are_accepted(tmp_path: Path) -> None:
    files = {"Fn/function.json": QUEUE_OUT, "Fn/__init__.py": "def main(msg, out):\n    pass\n"}
    assert codes(tmp_path, files) == []


def test_an_input_annotated_as_out_is_flagged(tmp_path: Path) -> None:
    code = "import azure.functions as func\n\ndef main(msg: func.Out[str], out):\n    pass\n"
    files = {"Fn/function.json": QUEUE_OUT, "Fn/__init__.py": code}
    (finding,) = findings(tmp_path, files)
    assert (finding.code, finding.line) == ("FP309", 3)
    assert "'in' binding" in finding.message


def test_context_needs_no_binding_and_async_entry_points_count(tmp_path: Path) -> None:
    files = v1_app("async def main(req, context):\n    return 'ok'\n")
    assert codes(tmp_path, files) == []


def test_a_nested_entry_point_is_not_top_level(tmp_path: Path) -> None:
    files = v1_app("class Handler:\n    def main(self, req):\n        return 1\n")
    assert codes(tmp_path, files) == ["FP304"]


def test_script_outside_the_app_is_reported(tmp_path: Path) -> None:
    config = HTTP_JSON.replace('{"bindings"', '{"scriptFile": "../../elsewhere.py", "bindings"')
    files = {"Fn/function.json": config}
    (finding,) = findings(tmp_path / "app", files)
    assert finding.code == "FP303"
    assert "outside the app folder" in finding.message


def test_schema_problems_are_listed_one_by_one(tmp_path: Path) -> None:
    config = '{"entryPoint": 3, "bindings": [7, {"type": "x", "direction": "up", "name": ""}]}'
    found = findings(tmp_path, {"Fn/function.json": config})
    messages = [f.message for f in found if f.code == "FP302"]
    assert messages == [
        'Fn/function.json: "entryPoint" must be a non-empty string',
        "Fn/function.json: bindings[0] is not an object",
        'Fn/function.json: bindings[1] has no "name" string',
        "Fn/function.json: bindings[1] direction 'up' is not in, out or inout",
    ]


# --- v2 ------------------------------------------------------------------------------------------


def test_v2_context_and_durable_parameter_names(tmp_path: Path) -> None:
    app = {
        "function_app.py": """
            import azure.durable_functions as df
            app = df.DFApp()

            @app.orchestration_trigger(context_name="ctx")
            def orchestrator(ctx):
                return 1

            @app.activity_trigger(input_name="city")
            def hello(city: str, context) -> str:
                return city

            @app.route(route="start")
            @app.durable_client_input(client_name="client")
            async def start(req, client):
                return 1
        """
    }
    assert codes(tmp_path, app) == []


def test_computed_arg_names_are_not_guessed(tmp_path: Path) -> None:
    app = v2_app(
        """
        NAME = "msg"

        @app.queue_trigger(arg_name=NAME, queue_name="q", connection="C")
        def process(message, extra):
            pass
        """
    )
    assert codes(tmp_path, app) == []


def test_route_trigger_arg_name_defaults_to_req(tmp_path: Path) -> None:
    app = v2_app(
        """
        @app.route()
        def ping(request):
            return 1
        """
    )
    assert codes(tmp_path, app) == ["FP405", "FP406"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("items/{id}", "/Items/{name}/"),
        ("items/{id:int}", "items/{key:int}"),
        ("{*path}", "{*rest}"),
    ],
)
def test_routes_that_clash(first: str, second: str) -> None:
    assert route_key(first) == route_key(second)


def test_routes_with_different_constraints_do_not_clash() -> None:
    assert route_key("items/{id:int}") != route_key("items/{id:alpha}")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Hello", True),
        ("hello_world-2", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("1st", False),
        ("has space", False),
        ("dot.ted", False),
        ("", False),
    ],
)
def test_function_names(name: str, valid: bool) -> None:
    assert bool(FUNCTION_NAME.fullmatch(name)) is valid


def test_asgi_app_is_one_valid_function(tmp_path: Path) -> None:
    app = {
        "function_app.py": """
            import azure.functions as func
            from fastapi import FastAPI

            app = func.AsgiFunctionApp(app=FastAPI(), http_auth_level=func.AuthLevel.ANONYMOUS)
        """
    }
    assert codes(tmp_path, app) == []
