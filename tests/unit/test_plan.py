"""make_plan: pure, complete, and different per strategy."""

from __future__ import annotations

from pathlib import Path

import pytest

from funcpub.ignore import select_files
from funcpub.options import Options, StrategyName, resolve_options
from funcpub.plan import Plan, make_plan, plan_to_dict
from funcpub.project import FunctionProject
from funcpub.validate import validate

EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"


def plan_for(build: StrategyName, *, app_name: str | None = "my-app", **cli: str) -> Plan:
    project = FunctionProject.load(EXAMPLE)
    options: Options = resolve_options("publish", project.root, {"build": build, **cli}, {})
    selection = select_files(project.root, ship_python_packages=build != "remote")
    report = validate(project, selection=selection)
    return make_plan(project, options, selection=selection, report=report, app_name=app_name)


def test_the_plan_describes_the_app() -> None:
    plan = plan_for("local")
    assert plan.model == "v2"
    assert {(f.name, f.trigger, f.route) for f in plan.functions} == {
        ("hello", "httpTrigger", "hello"),
        ("health", "httpTrigger", "health"),
    }
    assert plan.files.count == 7
    assert plan.files.largest[0].path == "function_app.py"
    shipped = [
        *("function_app.py", "host.json", "requirements.txt"),
        *("blueprints/__init__.py", "blueprints/health.py", "shared/__init__.py"),
        "shared/greeting.py",
    ]
    assert plan.files.total_bytes == sum((EXAMPLE / path).stat().st_size for path in shipped)
    assert plan.ok


@pytest.mark.parametrize(
    ("build", "wheres", "first_words"),
    [
        ("local", ["here"], ["uv", "pip", "install"]),
        ("docker", ["here", "container"], ["docker", "build", "--platform"]),
        ("remote", ["azure"], ["python", "-m", "pip"]),
        ("none", [], []),
    ],
    ids=str,
)
def test_commands_per_strategy(
    build: StrategyName, wheres: list[str], first_words: list[str]
) -> None:
    plan = plan_for(build)
    assert [c.where for c in plan.commands] == wheres
    if first_words:
        assert list(plan.commands[0].argv[: len(first_words)]) == first_words


def test_pip_installer_lists_every_manylinux_tag_and_the_abi() -> None:
    argv = plan_for("local", installer="pip", **{"python-version": "3.13"}).commands[0].argv
    platforms = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--platform"]
    assert platforms[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_28_x86_64" in platforms
    assert "manylinux2014_x86_64" in platforms
    assert argv[argv.index("--abi") + 1] == "cp313"
    assert "--only-binary=:all:" in argv


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ("remote", {"SCM_DO_BUILD_DURING_DEPLOYMENT": "true", "ENABLE_ORYX_BUILD": "true"}),
        ("local", {"SCM_DO_BUILD_DURING_DEPLOYMENT": "false"}),
        ("none", {"SCM_DO_BUILD_DURING_DEPLOYMENT": "false"}),
    ],
    ids=str,
)
def test_setting_changes(build: StrategyName, expected: dict[str, str]) -> None:
    changes = {c.key: c for c in plan_for(build).setting_changes}
    assert changes["FUNCTIONS_WORKER_RUNTIME"].value == "python"
    assert changes["linuxFxVersion"].scope == "site config"
    for key, value in expected.items():
        assert changes[key].value == value


def test_remote_build_removes_run_from_package() -> None:
    change = {c.key: c for c in plan_for("remote").setting_changes}["WEBSITE_RUN_FROM_PACKAGE"]
    assert (change.action, change.value) == ("remove", None)


def test_pack_plans_have_no_setting_changes() -> None:
    assert plan_for("local", app_name=None).setting_changes == ()


def test_plan_to_dict_is_json_ready() -> None:
    import json

    data = plan_to_dict(plan_for("local"))
    assert json.loads(json.dumps(data))["target"]["uv_platform"] == "x86_64-manylinux_2_36"
    assert data["commands"][0]["display"].startswith("uv pip install --target")
