"""FP1xx details: extension bundle ranges and host.json line lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funcpub.project import FunctionProject
from funcpub.validate import validate
from funcpub.validate.host import bundle_range_problem, key_line


@pytest.mark.parametrize(
    "text",
    [
        "[4.*, 5.0.0)",
        "[4.0.0, 5.0.0)",
        "(3.3.0, 4.0.0]",
        " [2.*,3.0.0) ",
        "[4.0.0, )",
        "4.*",
        "4.2.1",
        "[4.0.0]",
    ],
)
def test_valid_ranges(text: str) -> None:
    assert bundle_range_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("4.*, 5.0.0", "not a range in brackets"),
        ("[4.*, 5.0.0", "not a range in brackets"),
        ("{4.*, 5.0.0}", "not a range in brackets"),
        ("[4.*; 5.0.0)", "two bounds"),
        ("[1.0, 2.0, 3.0)", "two bounds"),
        ("[4.x, 5.0.0)", "'4.x'"),
        ("[4.*, latest)", "'latest'"),
        ("[, ]", "no bounds"),
        ("[5.0.0, 4.0.0)", "lower bound 5.0.0 not below its upper bound 4.0.0"),
        ("[4.*, 4.0.0)", "not below"),
        ("[]", "two bounds"),
        ("(4.0.0)", "two bounds"),
    ],
)
def test_invalid_ranges_say_why(text: str, problem: str) -> None:
    message = bundle_range_problem(text)
    assert message is not None
    assert problem in message


@given(st.text(max_size=40))
def test_range_parser_never_raises(text: str) -> None:
    bundle_range_problem(text)


def test_key_line_finds_the_member() -> None:
    text = '{\n  "version": "2.0",\n  "extensionBundle": {\n    "id": "x"\n  }\n}\n'
    assert (key_line(text, "version"), key_line(text, "id"), key_line(text, "nope")) == (2, 4, None)


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ('"bundle"', "not an object"),
        ('{"version": "[4.*, 5.0.0)"}', 'no "id" string'),
        ('{"id": "Microsoft.Azure.Functions.ExtensionBundle"}', 'no "version" range string'),
    ],
)
def test_bundle_shape_problems(tmp_path: Path, bundle: str, message: str) -> None:
    (tmp_path / "host.json").write_text(f'{{"version": "2.0", "extensionBundle": {bundle}}}')
    (tmp_path / "requirements.txt").write_text("azure-functions\n")
    (tmp_path / "helpers.py").write_text("")
    findings = [f for f in validate(FunctionProject.load(tmp_path)).findings if f.code == "FP104"]
    assert [f.line for f in findings] == [1]
    assert message in findings[0].message


def test_explicit_extensions_replace_the_bundle(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    (tmp_path / "requirements.txt").write_text("azure-functions\n")
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\napp = func.FunctionApp()\n\n"
        '@app.queue_trigger(arg_name="m", queue_name="q", connection="C")\ndef f(m):\n    pass\n'
    )
    assert [f.code for f in validate(FunctionProject.load(tmp_path)).findings] == ["FP106"]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "extensions.json").write_text("{}")
    assert validate(FunctionProject.load(tmp_path)).findings == ()
