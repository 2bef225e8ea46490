"""Validation over the fixture apps in tests/projects: one broken app per rule, plus good ones."""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funcpub import versions
from funcpub.ignore import select_files
from funcpub.project import FunctionProject
from funcpub.validate import (
    CHECKS,
    RULES,
    Finding,
    Report,
    files,
    host,
    imports,
    requirements,
    v1,
    v2,
    validate,
)
from funcpub.validate import versions as version_checks
from funcpub.validate.base import sort_key

PROJECTS = Path(__file__).parents[1] / "projects"
SCENARIO = re.compile(r"fp(\d{3})-")
BROKEN = sorted(p.name for p in PROJECTS.iterdir() if SCENARIO.match(p.name))
GOOD = ("v1-good", "v2-good")
# (python_version, functions_version) for the scenarios about versions; others use a good pair.
VERSIONS = {
    "fp701-unknown-runtime": ("3.12", "5"),
    "fp702-python-unavailable": ("3.6", "4"),
    "fp703-python-eol": ("3.9", "4"),
    "fp704-python-preview": ("3.15", "4"),
}
CopyProject = Callable[[str], Path]
Setup = Callable[[Path, pytest.MonkeyPatch], None]


def link_outside(root: Path, _: pytest.MonkeyPatch) -> None:
    """A symlink that leaves the app: the file walk refuses it (not committable to git)."""
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the app\n")
    (root / "data").symlink_to(outside, target_is_directory=True)


def preview_python(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No preview row exists in the data today: add Python 3.15 as a preview on runtime 4."""
    matrix = dict(versions._matrix())
    runtime, rows = matrix["4"]
    preview = versions.Support(status="preview", end=None)
    matrix["4"] = (runtime, {**rows, "3.15": preview})
    monkeypatch.setattr(versions, "_matrix", lambda: matrix)


SETUP: dict[str, Setup] = {
    "fp604-link-outside-app": link_outside,
    "fp704-python-preview": preview_python,
}


def code_of(scenario: str) -> str:
    match = SCENARIO.match(scenario)
    assert match is not None
    return f"FP{match.group(1)}"


def run(root: Path, scenario: str) -> Report:
    python, runtime = VERSIONS.get(scenario, ("3.12", "4"))
    return validate(FunctionProject.load(root), python_version=python, functions_version=runtime)


def prepare(scenario: str, project_copy: CopyProject, monkeypatch: pytest.MonkeyPatch) -> Path:
    if scenario not in SETUP:
        return PROJECTS / scenario
    root = project_copy(scenario)
    SETUP[scenario](root, monkeypatch)
    return root


@pytest.mark.parametrize("scenario", BROKEN)
def test_broken_scenario_yields_exactly_its_code(
    scenario: str, project_copy: CopyProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = run(prepare(scenario, project_copy, monkeypatch), scenario)
    expected = code_of(scenario)
    assert {f.code for f in report.findings} == {expected}, report.findings
    assert report.ok == (RULES[expected].severity == "warning")
    for finding in report.findings:
        assert finding.message
        assert finding.hint
        assert finding.severity == RULES[expected].severity


@pytest.mark.parametrize("scenario", GOOD)
def test_good_scenarios_have_no_findings(scenario: str) -> None:
    report = run(PROJECTS / scenario, scenario)
    assert report.findings == ()
    assert report.ok


@pytest.mark.parametrize(
    ("scenario", "path", "line"),
    [
        ("fp102-host-json-invalid", "host.json", 3),
        ("fp103-host-version", "host.json", 2),
        ("fp202-requirement-syntax", "requirements.txt", 4),
        ("fp207-include-cycle", "more.txt", 2),
        ("fp301-function-json-invalid", "HttpFunc/function.json", 4),
        ("fp307-binding-without-parameter", "HttpFunc/__init__.py", 4),
        ("fp309-out-annotation", "HttpFunc/__init__.py", 5),
        ("fp402-two-apps", "function_app.py", 10),
        ("fp404-duplicate-routes", "function_app.py", 17),
        ("fp405-arg-name-mismatch", "function_app.py", 7),
        ("fp501-syntax-error", "helpers.py", 4),
        ("fp504-implicit-relative-import", "HttpFunc/__init__.py", 3),
        ("fp605-local-settings-invalid", "local.settings.json", 5),
    ],
)
def test_findings_point_at_the_line(scenario: str, path: str, line: int) -> None:
    (finding,) = run(PROJECTS / scenario, scenario).findings
    assert (finding.path, finding.line) == (path, line)


def test_every_problem_is_reported_at_once() -> None:
    report = run(PROJECTS / "multi-error", "multi-error")
    codes = [f.code for f in report.findings]
    assert sorted(set(codes)) == [
        "FP103",  # host.json version 3.0
        "FP104",  # extensionBundle version without brackets
        "FP202",  # flask==
        "FP204",  # azure-functions-worker
        "FP303",  # QueueFunc/run.py missing
        "FP305",  # neither function has a trigger
        "FP501",  # broken.py
        "FP502",  # from __app__.shared import missing
        "FP606",  # dotnet-isolated
    ]
    assert codes.count("FP305") == 2
    assert not report.ok
    assert report.warnings == ()
    assert report.errors == report.findings


def test_findings_are_sorted_by_path_line_and_code() -> None:
    findings = run(PROJECTS / "multi-error", "multi-error").findings
    assert list(findings) == sorted(findings, key=sort_key)
    assert findings[0].path == "HttpFunc/__init__.py"


def test_report_splits_errors_and_warnings() -> None:
    error = Finding(code="FP101", severity="error", message="m")
    warning = Finding(code="FP201", severity="warning", message="m", path="a", line=2)
    report = Report(findings=(error, warning))
    assert (report.errors, report.warnings, report.ok) == ((error,), (warning,), False)
    assert Report(findings=(warning,)).ok
    assert (warning.location, error.location) == ("a:2", "")


# --- the registry ---------------------------------------------------------------------------------


def test_every_rule_has_a_scenario() -> None:
    assert sorted(RULES) == sorted(code_of(s) for s in BROKEN)


def test_rule_codes_are_stable_and_grouped_by_family() -> None:
    families = {
        "1": host,
        "2": requirements,
        "3": v1,
        "4": v2,
        "5": imports,
        "6": files,
        "7": version_checks,
    }
    for family, module in families.items():
        for rule in module.RULES:
            assert re.fullmatch(rf"FP{family}\d\d", rule.code), rule
            assert RULES[rule.code] is rule
    titles = [rule.title for rule in RULES.values()]
    assert len(titles) == len(set(titles))
    assert all(rule.severity in ("error", "warning") for rule in RULES.values())


def test_checks_are_plain_functions_listed_once() -> None:
    assert len(CHECKS) == len(set(CHECKS))
    assert all(check.__doc__ for check in CHECKS)


# --- selection, versions, secrets ----------------------------------------------------------------


def test_an_explicit_selection_is_used(project_copy: CopyProject) -> None:
    root = project_copy("v1-good")
    (root / ".funcignore").write_text("shared_code/\n")
    project = FunctionProject.load(root)
    selection = select_files(root, ship_python_packages=True, funcignore=())
    assert validate(project, selection=selection).findings == ()
    codes = {f.code for f in validate(project).findings}
    assert codes == {"FP502"}


def test_link_outside_is_reported_with_the_walk_message(
    project_copy: CopyProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = prepare("fp604-link-outside-app", project_copy, monkeypatch)
    (finding,) = run(root, "fp604-link-outside-app").findings
    assert "data points outside the app folder" in finding.message
    assert finding.hint is not None


def test_unreadable_funcignore_is_a_finding_not_a_crash(project_copy: CopyProject) -> None:
    root = project_copy("v2-good")
    (root / ".funcignore").write_bytes(b"caf\xe9/\n")
    project = FunctionProject.load(root)
    assert project.funcignore == ()
    assert [f.code for f in validate(project).findings] == ["FP604"]


def test_versions_are_skipped_when_not_given() -> None:
    project = FunctionProject.load(PROJECTS / "fp703-python-eol")
    assert validate(project).findings == ()
    assert validate(project, python_version="3.9").findings == ()


def test_eol_message_names_the_end_date_and_the_way_out() -> None:
    (finding,) = run(PROJECTS / "fp703-python-eol", "fp703-python-eol").findings
    assert "since 2025-10-31" in finding.message
    assert finding.hint is not None
    assert "3.11, 3.12, 3.13" in finding.hint


def test_retired_runtime_points_to_runtime_4() -> None:
    project = FunctionProject.load(PROJECTS / "v2-good")
    (finding,) = validate(project, python_version="3.8", functions_version="3").findings
    assert finding.code == "FP703"
    assert finding.hint is not None
    assert "runtime 4.x" in finding.hint
    assert versions.support("3", "3.8") == versions.Support(
        status="eol", end=datetime.date(2022, 12, 13)
    )


def test_setting_values_never_appear_in_messages(project_copy: CopyProject) -> None:
    (finding,) = run(PROJECTS / "fp606-worker-runtime", "fp606-worker-runtime").findings
    assert "'node'" in finding.message
    assert "c2VjcmV0" not in finding.message
    root = project_copy("fp606-worker-runtime")
    secret = "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0"
    settings_text = f'{{"Values": {{"FUNCTIONS_WORKER_RUNTIME": "{secret}"}}}}'
    (root / "local.settings.json").write_text(settings_text)
    (finding,) = validate(FunctionProject.load(root)).findings
    assert "c2VjcmV0" not in f"{finding.message} {finding.hint}"
    assert "to a value" in finding.message


# --- robustness ----------------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host_json=_TEXT, function_json=_TEXT, script=_TEXT, requirements_txt=_TEXT, app=_TEXT)
def test_no_content_makes_validation_raise(
    host_json: str, function_json: str, script: str, requirements_txt: str, app: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "Fn").mkdir()
        (root / "host.json").write_text(host_json, encoding="utf-8")
        (root / "Fn" / "function.json").write_text(function_json, encoding="utf-8")
        (root / "Fn" / "__init__.py").write_text(script, encoding="utf-8")
        (root / "requirements.txt").write_text(requirements_txt, encoding="utf-8")
        (root / "function_app.py").write_text(app, encoding="utf-8")
        report = validate(FunctionProject.load(root), python_version="3.12", functions_version="4")
        assert all(f.code in RULES for f in report.findings)


def test_funcignore_findings_name_the_line() -> None:
    scenario = "fp603-funcignore-excludes-required"
    found = [(f.path, f.line, f.message) for f in run(PROJECTS / scenario, scenario).findings]
    assert found == [
        (
            ".funcignore",
            2,
            "host.json (the host configuration) is excluded from the package by "
            "the .funcignore line '*.json'",
        ),
        (
            ".funcignore",
            2,
            "HttpFunc/function.json (the bindings of HttpFunc) is excluded from "
            "the package by the .funcignore line '*.json'",
        ),
    ]


def test_required_files_left_out_by_a_builtin_exclude(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    (tmp_path / "requirements.txt").write_text("azure-functions\n")
    (tmp_path / "htmlcov").mkdir()
    (tmp_path / "htmlcov" / "jobs.py").write_text(
        "import azure.functions as func\nbp = func.Blueprint()\n\n"
        "@bp.route()\ndef report(req):\n    return 1\n"
    )
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\nfrom htmlcov.jobs import bp\n"
        "app = func.FunctionApp()\napp.register_functions(bp)\n"
    )
    (finding,) = validate(FunctionProject.load(tmp_path)).findings
    assert (finding.code, finding.path) == ("FP603", "htmlcov/jobs.py")
    assert "built-in exclude" in finding.message
    assert finding.hint == "Add the line !htmlcov/jobs.py to .funcignore to ship it."
