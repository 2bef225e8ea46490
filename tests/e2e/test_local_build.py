"""`funcpub pack --build local` for real: uv and pip against the offline wheelhouse."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from funcpub.build.base import NullReporter
from funcpub.build.smoke import find_interpreter
from funcpub.cli import run
from tests.e2e.conftest import MakeApp
from tests.wheelhouse import NEW_GLIBC_LIBRARY, NEW_GLIBC_NEEDS

pytestmark = pytest.mark.subprocess

SITE = ".python_packages/lib/site-packages"
PYENV_VERSIONS = Path("/root/.pyenv/versions")
INSTALLERS = pytest.mark.parametrize("installer", ["uv", "pip"])


def pack(
    capsys: pytest.CaptureFixture[str], app: Path, *args: str, installer: str = "uv"
) -> tuple[int, str, str]:
    argv = ["pack", str(app), "--build", "local", "--installer", installer, *args]
    code = run([*argv, "-o", str(app.parent / "out.zip")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def names(app: Path) -> set[str]:
    with zipfile.ZipFile(app.parent / "out.zip") as archive:
        return set(archive.namelist())


@INSTALLERS
def test_installs_for_the_target_with_markers_sources_and_binaries(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    app = make_app("alpha", "puresd", "fastgreet")
    code, _, err = pack(capsys, app, "--no-smoke", installer=installer)
    assert code == 0, err
    shipped = names(app)
    for path in ("alpha/__init__.py", "beta/__init__.py", "puresd/__init__.py"):
        assert f"{SITE}/{path}" in shipped
    assert any(n.startswith(f"{SITE}/fastgreet/_fastgreet.") for n in shipped)
    assert {"function_app.py", "host.json", "shared/greeting.py"} <= shipped
    # Markers are the target's: no Windows-only dependency, no 3.12-only one on 3.11.
    assert not any(n.startswith((f"{SITE}/winonly/", f"{SITE}/newer/")) for n in shipped)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in shipped)
    assert "built from source (pure Python): puresd==1.0" in err
    assert "alpha==1.0, beta==1.0, fastgreet==1.0, puresd==1.0" in err
    assert not (app / ".python_packages").exists()


def test_python_312_gets_its_marked_dependency(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha")
    code, _, err = pack(capsys, app, "--no-smoke", "--python-version", "3.12")
    assert code == 0, err
    assert f"{SITE}/newer/__init__.py" in names(app)


def test_pip_warns_that_it_evaluates_markers_for_this_machine(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha")
    code, _, err = pack(capsys, app, "--no-smoke", "--python-version", "3.12", installer="pip")
    assert code == 0, err
    assert "pip evaluates environment markers for this machine" in err


@INSTALLERS
def test_a_native_sdist_stops_the_build_and_the_project_is_untouched(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    app = make_app("alpha", "nativesd")
    previous = app / ".python_packages" / "lib" / "site-packages" / "mine.py"
    previous.parent.mkdir(parents=True)
    previous.write_text("KEEP = True\n", encoding="utf-8")
    code, _, err = pack(capsys, app, "--write-python-packages", installer=installer)
    assert code == 4
    assert "nativesd==1.0" in err
    assert "--build docker" in err
    assert "--build remote" in err
    assert previous.read_text(encoding="utf-8") == "KEEP = True\n"
    assert sorted(p.name for p in app.iterdir() if p.name.startswith(".python")) == [
        ".python_packages"
    ]
    assert not (app.parent / "out.zip").exists()


# What each installer says when no wheel of maconly suits the target (and it has no sdist).
NO_WHEEL_REASONS = {
    "uv": "Wheels are available for `maconly` (v1.0) on the following platform: "
    "`macosx_11_0_arm64`",
    "pip": "No matching distribution found for maconly",
}


@INSTALLERS
def test_a_wheel_only_for_macos_is_refused(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    code, _, err = pack(capsys, make_app("maconly"), "--no-smoke", installer=installer)
    assert code == 4
    assert "error: installing the requirements failed" in err
    assert NO_WHEEL_REASONS[installer] in err


@INSTALLERS
def test_the_binary_check_names_the_package_and_the_file(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    code, _, err = pack(capsys, make_app("wrongabi"), "--no-smoke", installer=installer)
    assert code == 4
    assert "1 file(s) will not run on Linux x86_64, Debian 12 (bookworm), glibc 2.36" in err
    problem = "wrongabi==1.0: wrongabi/_speed.cpython-39-x86_64-linux-gnu.so: "
    assert problem + "an extension module for CPython 3.9, not 3.11" in err


@INSTALLERS
def test_a_library_needing_a_newer_glibc_than_the_target_is_refused(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    host_glibc = platform.libc_ver()[1]
    if Version(host_glibc or "0") < Version(NEW_GLIBC_NEEDS.removeprefix("GLIBC_")):
        pytest.skip(
            f"the library needs {NEW_GLIBC_NEEDS} only when linked with it (here {host_glibc})"
        )
    app = make_app("newglibc")
    code, _, err = pack(capsys, app, "--no-smoke", "--python-version", "3.8", installer=installer)
    assert code == 4
    assert "1 file(s) will not run on Linux x86_64, Debian 11 (bullseye), glibc 2.31" in err
    problem = f"newglibc==1.0: newglibc/{NEW_GLIBC_LIBRARY}: needs {NEW_GLIBC_NEEDS}, "
    assert problem + "newer than the target's glibc 2.31" in err


def test_the_same_requirements_give_the_same_files_with_uv_and_pip(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha", "puresd", "fastgreet")
    shipped = {}
    for each in ("uv", "pip"):
        code, _, err = pack(capsys, app, "--no-smoke", "--no-cache", installer=each)
        assert code == 0, err
        shipped[each] = names(app)
    assert shipped["uv"] == shipped["pip"]
    assert f"{SITE}/puresd-1.0.dist-info/RECORD" in shipped["uv"]


def test_the_bytes_do_not_depend_on_the_state_of_the_uv_cache(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    app = make_app("alpha", "puresd", "fastgreet")
    digests = []
    for uv_cache in ("first", "first", "second"):  # cold, warm, another cold one
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / uv_cache))
        code, _, err = pack(capsys, app, "--no-smoke", "--no-cache")
        assert code == 0, err
        digests.append(hashlib.sha256((app.parent / "out.zip").read_bytes()).hexdigest())
    assert digests[0] == digests[1] == digests[2]


@INSTALLERS
def test_index_credentials_are_never_printed(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    installer: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app("beta")
    requirements = app / "requirements.txt"
    lines = requirements.read_text(encoding="utf-8").replace("--no-index\n", "")
    index = "--index-url https://user:s3cret@127.0.0.1:9/simple\n"
    requirements.write_text(index + lines + "nosuchpackage\n", encoding="utf-8")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    code, out, err = pack(capsys, app, "--no-smoke", "-v", installer=installer)
    assert code == 4
    assert "s3cret" not in out + err
    assert "127.0.0.1:9" in err  # the index was reported, its password not


def test_the_smoke_import_catches_a_missing_module(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    function_app = (
        "import importlib\n\nimport azure.functions as func\n\n"
        'importlib.import_module("alpha")\n\napp = func.FunctionApp()\n\n\n'
        '@app.route(route="x")\ndef x(req: func.HttpRequest) -> func.HttpResponse:\n'
        '    return func.HttpResponse("x")\n'
    )
    app = make_app("beta", function_app=function_app)
    previous = app.parent / "out.zip"
    previous.write_bytes(b"the zip of an earlier pack")
    code, _, err = pack(capsys, app)
    assert code == 4
    assert "No module named 'alpha'" in err
    # The zip was being written meanwhile: it is gone, and the earlier one is as it was.
    assert previous.read_bytes() == b"the zip of an earlier pack"
    assert [path.name for path in app.parent.glob("*out.zip*")] == ["out.zip"]

    app = make_app("alpha", name="fixed", function_app=function_app)
    code, _, err = pack(capsys, app)
    assert code == 0, err
    assert "smoke import passed (functions: x)" in err


def test_the_smoke_import_says_when_it_is_skipped(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    nowhere = tmp_path / "no-pythons"
    nowhere.mkdir()
    monkeypatch.setenv("PATH", str(nowhere))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(nowhere))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    app = make_app("beta")
    code, _, err = pack(capsys, app, "--python-version", "3.14")
    assert code == 0, err
    assert "smoke import skipped: no Python 3.14 interpreter on this machine" in err

    code, _, err = pack(capsys, app, "--python-version", "3.14", "--smoke")
    assert code == 4
    assert "the smoke import cannot run: no Python 3.14 interpreter on this machine" in err


V1_FUNCTION = """\
import azure.functions as func

import not_installed_anywhere


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(not_installed_anywhere.ANSWER)
"""
V1_BINDINGS = {
    "scriptFile": "__init__.py",
    "bindings": [
        {"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "anonymous"},
        {"type": "http", "direction": "out", "name": "$return"},
    ],
}
RAISES_AT_IMPORT = (
    'import azure.functions as func\n\nraise RuntimeError("boom at import")\n\n'
    "app = func.FunctionApp()\n\n\n"
    '@app.route(route="x")\ndef x(req: func.HttpRequest) -> func.HttpResponse:\n'
    '    return func.HttpResponse("x")\n'
)


def test_the_smoke_import_names_the_v1_function_whose_import_fails(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("beta")
    (app / "function_app.py").unlink()
    shutil.rmtree(app / "blueprints")
    function = app / "GreetFunc"
    function.mkdir()
    (function / "function.json").write_text(json.dumps(V1_BINDINGS), encoding="utf-8")
    (function / "__init__.py").write_text(V1_FUNCTION, encoding="utf-8")
    code, _, err = pack(capsys, app)
    assert code == 4, err
    assert "Function 'GreetFunc' load error: ModuleNotFoundError" in err
    assert "No module named 'not_installed_anywhere'" in err
    assert not (app.parent / "out.zip").exists()


def test_the_smoke_import_names_an_error_raised_at_import(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("beta", function_app=RAISES_AT_IMPORT)
    code, _, err = pack(capsys, app)
    assert code == 4, err
    assert "the app fails to import with Python 3.11" in err
    assert "RuntimeError: boom at import" in err
    assert not (app.parent / "out.zip").exists()


def test_the_smoke_import_finds_another_python_version_with_uv(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pyenv in sorted(PYENV_VERSIONS.glob("3.12.*/bin")):  # this machine's, without a shim
        monkeypatch.setenv("PATH", f"{pyenv}{os.pathsep}{os.environ['PATH']}")
    app = make_app("alpha")
    python = find_interpreter("3.12", root=app, reporter=NullReporter())
    if python is None:
        pytest.skip("no Python 3.12 on this machine (uv python find --no-python-downloads 3.12)")
    code, _, err = pack(capsys, app, "--python-version", "3.12", "--smoke")
    assert code == 0, err
    assert f"smoke import: loading the functions with {python} (Python 3.12)" in err
    assert python != sys.executable
    assert "smoke import passed (functions: health, hello)" in err


def test_write_python_packages_swaps_the_build_in(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha")
    old = app / ".python_packages" / "stale.txt"
    old.parent.mkdir()
    old.write_text("old build", encoding="utf-8")
    code, out, err = pack(capsys, app, "--no-smoke", "--write-python-packages", "--json")
    assert code == 0, err
    assert json.loads(out)["file_count"] == len(names(app))
    assert (app / SITE / "alpha" / "__init__.py").is_file()
    assert not old.exists()
    assert [p.name for p in app.iterdir() if p.name.startswith(".python")] == [".python_packages"]
    assert f"{SITE}/alpha/__init__.py" in names(app)
    assert ".python_packages/stale.txt" not in names(app)


def test_in_a_pipeline_the_installer_runs_in_a_collapsible_group(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    app = make_app("alpha")
    code, _, err = pack(capsys, app, "--no-smoke", "-v")
    assert code == 0, err
    lines = err.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith("##[group]uv pip install")]
    end = next(i for i, line in enumerate(lines) if i > start and line == "##[endgroup]")
    inside = lines[start + 1 : end]
    assert any("alpha" in line for line in inside)  # the installer's own output, grouped
