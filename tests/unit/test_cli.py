"""The command line, in-process: exit codes, messages, JSON and the error boundary."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from funcpub.errors import ERROR_CLASSES
from tests.clirun import EXAMPLE, invoke

DOCS = Path(__file__).parents[2] / "docs"
HELLO_FILES = [
    "blueprints/__init__.py",
    "blueprints/health.py",
    "function_app.py",
    "host.json",
    "requirements.txt",
    "shared/__init__.py",
    "shared/greeting.py",
]


def tree_state(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under root with its mtime and content hash."""
    return {
        str(path.relative_to(root)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    import shutil

    destination = tmp_path / "hello"
    shutil.copytree(EXAMPLE, destination)
    return destination


def test_validate_example_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "validate", str(EXAMPLE))
    assert code == 0
    assert "valid (v2 model, functions: " in out
    assert "hello" in out and "health" in out


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke(capsys, "validate", str(EXAMPLE), "--json")
    assert code == 0
    document = json.loads(out)
    assert document["ok"] is True
    assert document["errors"] == 0
    assert sorted(f["name"] for f in document["functions"]) == ["health", "hello"]
    assert "settings" not in err  # --json keeps stderr quiet too


def test_validate_broken_app_lists_every_problem(
    capsys: pytest.CaptureFixture[str], hello: Path
) -> None:
    (hello / "host.json").write_text('{"version": "1.0"}', encoding="utf-8")
    (hello / "requirements.txt").write_text("azure-functions\nazure-functions-worker\n", "utf-8")
    (hello / "shared" / "greeting.py").write_text("def greet(name:\n", encoding="utf-8")
    code, out, err = invoke(capsys, "validate", str(hello))
    assert code == 3
    assert re.search(r"host\.json(:\d+)?: error FP\d+ .*2\.0", out)
    assert re.search(r"requirements\.txt:2: error FP\d+ .*azure-functions-worker", out)
    assert re.search(r"shared/greeting\.py:1: error FP\d+ ", out)
    assert out.count("hint:") >= 3
    assert "invalid" in out
    assert "Traceback" not in out + err


def test_settings_are_printed_with_their_source(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = invoke(capsys, "validate", str(EXAMPLE), "--python-version", "3.12")
    assert re.search(r"python-version\s+3\.12\s+\(command line\)", err)
    assert re.search(r"functions-version\s+4\s+\(default\)", err)


def test_quiet_hides_settings(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = invoke(capsys, "-q", "validate", str(EXAMPLE))
    assert code == 0
    assert "settings" not in err


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["validate", "{missing}"], 2, "does not exist"),
        (["validate", "{file}"], 2, "is not a directory"),
        (["validate", "{app}", "--python-version", "three"], 2, "python-version must look like"),
        (["validate", "--no-such-option"], 2, "No such option"),
        (["publish", "-bad-name-", "{app}", "--dry-run"], 2, "not a valid function app name"),
        (["publish", "app1", "{app}", "--build", "cloud", "--dry-run"], 2, "build must be one of"),
        (["pack", "{app}", "--build", "remote"], 2, "cannot run a remote build"),
        (["pack", "{app}", "--list-included", "--list-ignored"], 2, "cannot be combined"),
        (["publish", "app1", "{app}", "--emulator", "--cloud", "AzureCloud"], 2, "--emulator"),
        (["validate", "{app}", "--python-version", "3.99"], 3, "3.99"),
    ],
    ids=[
        "missing-dir",
        "dir-is-file",
        "bad-python",
        "unknown-option",
        "bad-app-name",
        "bad-build",
        "pack-remote",
        "pack-two-lists",
        "emulator-and-cloud",
        "unknown-python",
    ],
)
def test_user_mistakes_exit_with_their_code_and_no_traceback(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    hello: Path,
    argv: list[str],
    code: int,
    words: str,
) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("not an app", encoding="utf-8")
    paths = {"missing": str(tmp_path / "nope"), "file": str(a_file), "app": str(hello)}
    exit_code, out, err = invoke(capsys, *(arg.format(**paths) for arg in argv))
    assert exit_code == code
    assert words in out + err
    assert "Traceback" not in out + err


def test_pack_writes_a_reproducible_zip_of_the_shipped_files(
    capsys: pytest.CaptureFixture[str], hello: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    code, out, _ = invoke(capsys, "pack", str(hello), "--build", "none", "-o", str(first))
    assert code == 0
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == HELLO_FILES
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert digest in out
    (hello / "function_app.py").touch()
    code, out, _ = invoke(
        capsys, "pack", str(hello), "--build", "none", "-o", str(second), "--json"
    )
    assert code == 0
    assert json.loads(out)["sha256"] == digest == hashlib.sha256(second.read_bytes()).hexdigest()
    assert json.loads(out)["file_count"] == len(HELLO_FILES)


def test_pack_output_inside_the_app_is_not_packed_into_itself(
    capsys: pytest.CaptureFixture[str], hello: Path
) -> None:
    target = hello / "app.zip"
    for _ in range(2):
        assert invoke(capsys, "pack", str(hello), "--build", "none", "-o", str(target))[0] == 0
    with zipfile.ZipFile(target) as archive:
        assert "app.zip" not in archive.namelist()


def test_pack_lists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "-q", "pack", str(EXAMPLE), "--build", "none", "--list-included")
    assert code == 0
    assert out.splitlines() == HELLO_FILES
    code, out, _ = invoke(capsys, "-q", "pack", str(EXAMPLE), "--build", "none", "--list-ignored")
    assert code == 0
    ignored = out.splitlines()
    assert {"README.md", "local.settings.json", ".funcignore", "tests/"} <= set(ignored)


def test_pack_refuses_an_invalid_app_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], hello: Path, tmp_path: Path
) -> None:
    (hello / "host.json").unlink()
    destination = tmp_path / "app.zip"
    code, out, err = invoke(capsys, "pack", str(hello), "--build", "none", "-o", str(destination))
    assert code == 3
    assert "nothing was packed" in err
    assert "host.json" in out
    assert not destination.exists()


def test_dry_run_prints_the_plan_without_network_or_writes(
    capsys: pytest.CaptureFixture[str], hello: Path
) -> None:
    before = tree_state(hello.parent)
    code, out, _ = invoke(capsys, "publish", "my-app", str(hello), "--build", "local", "--dry-run")
    assert code == 0
    assert tree_state(hello.parent) == before
    for words in ("plan for my-app", "hello", "health", "uv pip install", "x86_64-manylinux_2_36"):
        assert words in out
    assert "FUNCTIONS_WORKER_RUNTIME" in out
    assert "SCM_DO_BUILD_DURING_DEPLOYMENT" in out


def test_dry_run_json_document(capsys: pytest.CaptureFixture[str], hello: Path) -> None:
    code, out, _ = invoke(
        capsys,
        "publish", "my-app", str(hello),
        "--build", "local", "--installer", "pip", "--python-version", "3.12",
        "--slot", "staging", "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0
    plan = json.loads(out)
    assert plan["app_name"] == "my-app"
    assert plan["slot"] == "staging"
    assert plan["strategy"] == "local"
    assert plan["ok"] is True
    assert plan["files"]["count"] == len(HELLO_FILES)
    assert sorted(f["name"] for f in plan["functions"]) == ["health", "hello"]
    argv = plan["commands"][0]["argv"]
    assert argv[1:4] == ["-m", "pip", "install"]
    assert "manylinux_2_28_x86_64" in argv and "cp312" in argv
    changes = {c["key"]: c["value"] for c in plan["setting_changes"]}
    assert changes["linuxFxVersion"] == "Python|3.12"
    assert changes["FUNCTIONS_EXTENSION_VERSION"] == "~4"


# How each plan gets the package, for the planned build: (hosting plan, the start of the path).
LOCAL_DELIVERY = {
    "Elastic Premium (EP1-EP3)": "Kudu zipdeploy: POST /api/zipdeploy?isAsync=true",
    "Dedicated (App Service plan)": "Kudu zipdeploy: POST /api/zipdeploy?isAsync=true",
    "Linux Consumption (Y1)": "upload to the app's storage account (blob container"
    " function-releases), then set WEBSITE_RUN_FROM_PACKAGE",
    "Flex Consumption (FC1)": "OneDeploy: POST /api/publish?RemoteBuild=false",
    "Windows (any plan)": "refused: Python function apps run on Linux only",
}
REMOTE_DELIVERY = LOCAL_DELIVERY | {
    "Elastic Premium (EP1-EP3)": "Kudu zipdeploy: POST /api/zipdeploy?isAsync=true (Oryx builds",
    "Linux Consumption (Y1)": "Kudu zipdeploy: POST /api/zipdeploy?isAsync=true (Oryx builds on"
    " the SCM site, which stores the result in the app's storage)",
    "Flex Consumption (FC1)": "OneDeploy: POST /api/publish?RemoteBuild=true",
}


@pytest.mark.parametrize(
    ("build", "expected"), [("local", LOCAL_DELIVERY), ("remote", REMOTE_DELIVERY)]
)
def test_dry_run_shows_the_delivery_of_every_plan(
    capsys: pytest.CaptureFixture[str], hello: Path, build: str, expected: dict[str, str]
) -> None:
    code, out, _ = invoke(capsys, "publish", "my-app", str(hello), "--build", build, "--dry-run")
    assert code == 0
    section = out.split("delivery (decided from the app's hosting plan)\n")[1]
    rows = " ".join(section.split("app setting changes")[0].split())
    for hosting_plan, delivery in expected.items():
        assert f"{hosting_plan} {delivery}" in rows
    code, out, _ = invoke(
        capsys, "publish", "my-app", str(hello), "--build", build, "--dry-run", "--json"
    )
    assert code == 0
    rows_json = json.loads(out)["delivery"]
    assert [row["hosting_plan"] for row in rows_json] == list(expected)
    for row in rows_json:
        assert row["delivery"].startswith(expected[row["hosting_plan"]])


def test_dry_run_of_a_remote_build_drops_python_packages(
    capsys: pytest.CaptureFixture[str], hello: Path
) -> None:
    site = hello / ".python_packages" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "dep.py").write_text("x = 1\n", encoding="utf-8")
    code, out, _ = invoke(capsys, "publish", "my-app", str(hello), "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["strategy"] == "remote"
    assert plan["ships_python_packages"] is False
    assert plan["files"]["count"] == len(HELLO_FILES)
    assert {c["key"] for c in plan["setting_changes"]} >= {"SCM_DO_BUILD_DURING_DEPLOYMENT"}
    warning = (
        "leaving the app's .python_packages out of the package: the remote build installs"
        " requirements.txt on Azure"
    )
    assert plan["warnings"] == [warning]
    code, _, err = invoke(capsys, "publish", "my-app", str(hello), "--dry-run")
    assert code == 0
    assert warning in " ".join(err.split())


def test_index_credentials_in_requirements_stop_a_remote_build(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = str(Path(__file__).parents[1] / "projects" / "fp209-index-credentials")
    code, out, _ = invoke(capsys, "publish", "my-app", app, "--dry-run")
    assert code == 3
    assert "error FP209" in out
    assert "not-a-real-token" not in out
    code, out, _ = invoke(capsys, "publish", "my-app", app, "--dry-run", "--build", "local")
    assert code == 0
    assert "warning FP209" in out


def test_dry_run_of_an_invalid_app_exits_3(capsys: pytest.CaptureFixture[str], hello: Path) -> None:
    (hello / "function_app.py").write_text("import azure.functions as func\n", encoding="utf-8")
    code, out, _ = invoke(capsys, "publish", "my-app", str(hello), "--dry-run")
    assert code == 3
    assert "error" in out


def test_no_color(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, err = invoke(capsys, "publish", "my-app", str(EXAMPLE), "--dry-run")
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", out + err)


def test_internal_errors_are_reported_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("funcpub.cli.common.validate", explode)
    code, out, err = invoke(capsys, "validate", str(EXAMPLE))
    assert code == 1
    assert "internal error: RuntimeError: boom" in err
    assert "please report" in err
    assert "Traceback" not in out + err


def test_ctrl_c_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("funcpub.cli.common.validate", interrupt)
    code, _, err = invoke(capsys, "validate", str(EXAMPLE))
    assert code == 130
    assert "interrupted" in err


def test_exit_code_table_in_docs_matches_the_error_classes() -> None:
    table = (DOCS / "exit-codes.md").read_text(encoding="utf-8")
    for error_class in ERROR_CLASSES:
        assert f"| {error_class.exit_code} | `{error_class.__name__}` |" in table


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--version")
    assert code == 0
    assert out.startswith("funcpub 0.")


def test_every_validation_rule_is_documented() -> None:
    from funcpub.validate import RULES

    table = (DOCS / "validation.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"| `{rule.code}` | {rule.severity} | {rule.title} |" in table


def test_every_builtin_exclude_is_documented() -> None:
    from funcpub.ignore import BUILTIN_EXCLUDES

    page = (DOCS / "funcignore.md").read_text(encoding="utf-8")
    for pattern in BUILTIN_EXCLUDES:
        assert f"`{pattern}`" in page


def test_pack_sets_the_package_hash_as_a_pipeline_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    destination = tmp_path / "app.zip"
    code, _, err = invoke(capsys, "pack", str(EXAMPLE), "--build", "none", "-o", str(destination))
    assert code == 0
    digest = hashlib.sha256(destination.read_bytes()).hexdigest()
    assert f"##vso[task.setvariable variable=funcpubPackageSha256;isoutput=true]{digest}" in err


def test_help_before_a_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, "--help", "pack")
    assert code == 0
    for command in ("validate", "pack", "publish", "lock", "settings", "emulator", "cache"):
        assert re.search(rf"│ {command} ", out), command
    code, out, _ = invoke(capsys, "pack", "--help")
    assert code == 0
    assert "--build" in out
