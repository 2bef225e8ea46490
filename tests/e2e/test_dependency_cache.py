"""The dependency cache for real: local builds with uv and pip against the offline wheelhouse."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from funcpub.build.cache import deps_dir
from funcpub.errors import BuildError
from funcpub.strategies.local import LocalStrategy
from funcpub.usercache import lock_file, try_lock
from tests.clirun import invoke
from tests.e2e.conftest import MakeApp
from tests.wheelhouse import write_wheel

pytestmark = pytest.mark.subprocess

MISS = "dependencies: not in the cache yet"
HIT = "dependencies: from the cache"
FUNCTION_APP_IMPORTING_ALPHA = """\
import azure.functions as func

import alpha

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="alpha")
def message(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(alpha.MESSAGE)
"""


def pack(
    capsys: pytest.CaptureFixture[str], app: Path, *args: str, out: str = "out.zip"
) -> tuple[str, str]:
    """(sha256 of the zip, stderr) of a successful `pack --build local --json`."""
    argv = ["pack", str(app), "--build", "local", "--no-smoke", *args]
    code, _, err = invoke(capsys, *argv, "-o", str(app.parent / out))
    assert code == 0, err
    return hashlib.sha256((app.parent / out).read_bytes()).hexdigest(), err


def entries() -> list[str]:
    folder = deps_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def write_beta(folder: Path, version: str) -> None:
    """A beta wheel of `version` in `folder` (the wheelhouse has beta 1.0)."""
    folder.mkdir(exist_ok=True)
    write_wheel(folder, "beta", version, "py3-none-any", {"beta/__init__.py": "VALUE = 'b'\n"})


def shipped_versions(archive: Path, name: str) -> list[str]:
    """The versions of `name` in the zip's .python_packages."""
    with zipfile.ZipFile(archive) as opened:
        names = [entry.split("/")[-2] for entry in opened.namelist() if entry.endswith("/METADATA")]
    return [
        folder.removesuffix(".dist-info").split("-")[1]
        for folder in names
        if folder.startswith(f"{name}-")
    ]


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_second_pack_reuses_the_build_and_makes_the_same_bytes(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    app = make_app("alpha", "puresd")
    cold, err = pack(capsys, app, "--installer", installer)
    assert MISS in err
    (app / "shared" / "greeting.py").write_text("GREETING = 'changed'\n", encoding="utf-8")
    warm, err = pack(capsys, app, "--installer", installer, "--write-python-packages")
    assert HIT in err
    assert "installing dependencies" not in err
    assert "built from source (pure Python): puresd==1.0" in err  # recorded with the entry
    # A cold pack of the same files (the cached tree, now in the app) makes the same bytes.
    plain, _ = pack(capsys, app, "--build", "none", out="plain.zip")
    assert warm == plain != cold
    _, err = pack(capsys, app, "--installer", installer, "--no-cache", out="fresh.zip")
    assert "installing dependencies" in err
    assert HIT not in err
    assert MISS not in err
    assert len(entries()) == 1


def test_what_makes_a_new_build(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app("alpha")
    pack(capsys, app)
    _, err = pack(capsys, app, "--python-version", "3.12")  # the target
    assert MISS in err
    _, err = pack(capsys, app, "--installer", "pip")  # the installer
    assert MISS in err
    monkeypatch.setenv("UV_PRERELEASE", "allow")  # the installer's settings
    _, err = pack(capsys, app)
    assert MISS in err
    monkeypatch.delenv("UV_PRERELEASE")
    requirements = app / "requirements.txt"
    requirements.write_text(requirements.read_text(encoding="utf-8") + "beta\n", encoding="utf-8")
    _, err = pack(capsys, app)  # the requirements
    assert MISS in err
    _, err = pack(capsys, app)
    assert HIT in err
    assert len(entries()) == 5


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_constraints_file_is_honoured_and_its_content_is_keyed(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, tmp_path: Path, installer: str
) -> None:
    older = tmp_path / "older"
    write_beta(older, "0.9")
    app = make_app(f"--find-links {older}", "-c constraints.txt", "beta")
    constraints = app / "constraints.txt"
    constraints.write_text("beta<1\n", encoding="utf-8")
    _, err = pack(capsys, app, "--installer", installer)
    assert MISS in err
    assert shipped_versions(app.parent / "out.zip", "beta") == ["0.9"]
    constraints.write_text("beta>=1\n", encoding="utf-8")
    _, err = pack(capsys, app, "--installer", installer)
    assert MISS in err
    assert shipped_versions(app.parent / "out.zip", "beta") == ["1.0"]


@pytest.mark.parametrize(
    ("installer", "variable"), [("uv", "UV_FIND_LINKS"), ("pip", "PIP_FIND_LINKS")]
)
def test_find_links_of_the_environment_reach_the_installer_and_the_key(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    installer: str,
    variable: str,
) -> None:
    links = tmp_path / "links"
    write_beta(links, "1.0")
    monkeypatch.setenv(variable, str(links))
    app = make_app()
    (app / "requirements.txt").write_text("--no-index\nbeta\n", encoding="utf-8")
    _, err = pack(capsys, app, "--installer", installer)
    assert MISS in err
    assert shipped_versions(app.parent / "out.zip", "beta") == ["1.0"]
    _, err = pack(capsys, app, "--installer", installer)
    assert HIT in err
    write_beta(links, "1.1")
    _, err = pack(capsys, app, "--installer", installer)
    assert MISS in err
    assert shipped_versions(app.parent / "out.zip", "beta") == ["1.1"]


@pytest.mark.parametrize(
    ("installer", "variable", "setting"),
    [
        ("uv", "UV_CONFIG_FILE", '[pip]\nfind-links = ["{links}"]\n'),
        ("pip", "PIP_CONFIG_FILE", "[global]\nfind-links = {links}\n"),
    ],
)
def test_a_changed_installer_configuration_file_makes_a_new_build(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    installer: str,
    variable: str,
    setting: str,
) -> None:
    newer = tmp_path / "newer"
    write_beta(newer, "1.1")
    config = tmp_path / "installer.conf"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv(variable, str(config))
    app = make_app("beta")
    pack(capsys, app, "--installer", installer)
    assert shipped_versions(app.parent / "out.zip", "beta") == ["1.0"]
    config.write_text(setting.format(links=newer), encoding="utf-8")
    _, err = pack(capsys, app, "--installer", installer)
    assert MISS in err
    assert shipped_versions(app.parent / "out.zip", "beta") == ["1.1"]  # the installer read it


def test_open_requirements_expire_pinned_ones_do_not(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    open_app = make_app("alpha", name="open")
    pack(capsys, open_app)
    _, err = pack(capsys, open_app, "--cache-ttl", "1h")
    assert HIT in err
    _, err = pack(capsys, open_app, "--cache-ttl", "0")
    assert "over --cache-ttl" in err
    assert "installing dependencies" in err

    pinned = make_app("alpha==1.0", "beta==1.0", name="pinned")
    pack(capsys, pinned)
    _, err = pack(capsys, pinned, "--cache-ttl", "0")
    assert HIT in err


def test_refresh_resolves_again_and_a_failed_refresh_keeps_the_entry(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app("alpha")
    first, _ = pack(capsys, app)
    _, err = pack(capsys, app, "--refresh")
    assert "--refresh, resolving them again" in err
    assert "installing dependencies" in err
    [key] = entries()
    created = (deps_dir() / key / "entry.json").read_text(encoding="utf-8")

    def broken(self: LocalStrategy, request: object, *, staging: Path, **_: object) -> None:
        (staging / ".python_packages").mkdir()
        (staging / ".python_packages" / "half.py").write_text("", encoding="utf-8")
        raise BuildError("the index went away", hint="try later")

    with monkeypatch.context() as patched:
        patched.setattr(LocalStrategy, "build", broken)
        argv = ("pack", str(app), "--build", "local", "--refresh", "-o", str(app.parent / "x.zip"))
        code, _, err = invoke(capsys, *argv)
    assert code == 4
    assert "the index went away" in err
    assert entries() == [key]  # no half-built entry, no leftover incoming folder
    assert (deps_dir() / key / "entry.json").read_text(encoding="utf-8") == created
    again, err = pack(capsys, app)
    assert HIT in err
    assert again == first


def test_concurrent_packs_share_one_build(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app("alpha", "puresd")
    environ = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "funcpub", "pack", str(app), "--build", "local",
             "--no-smoke", "-o", str(tmp_path / f"{name}.zip")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ,
        )
        for name in ("one", "two")
    ]  # fmt: skip
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    errors = "".join(err for _, err in outputs)
    assert errors.count(MISS) == 1  # one built, the other waited and reused it
    assert errors.count(HIT) == 1
    assert len(entries()) == 1


def test_cache_list_and_clear(capsys: pytest.CaptureFixture[str], make_app: MakeApp) -> None:
    pack(capsys, make_app("alpha"))
    code, out, _ = invoke(capsys, "cache", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    [entry] = listed["entries"]
    assert entry["installed"] == ["alpha==1.0", "beta==1.0"]
    assert not entry["exact"]
    assert entry["size"] > 0
    code, out, _ = invoke(capsys, "cache", "list")
    assert "1 cached build(s)" in out
    assert "open versions" in out
    code, out, _ = invoke(capsys, "cache", "clear")
    assert code == 0
    assert "removed 1 cached build(s)" in out
    assert entries() == []


def test_cache_clear_keeps_a_build_in_use(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    pack(capsys, make_app("alpha"))
    [key] = entries()
    with lock_file(f"deps-{key}.lock").open("a+", encoding="utf-8") as held:
        assert try_lock(held)  # as a running pack holds it, from the lookup to the written zip
        code, out, err = invoke(capsys, "cache", "clear")
    assert code == 0
    assert "removed 0 cached build(s)" in out
    assert "1 cached build(s) are in use by a running funcpub and were kept" in err
    assert entries() == [key]
    assert (deps_dir() / key / "entry.json").is_file()
    code, out, _ = invoke(capsys, "cache", "clear")
    assert "removed 1 cached build(s)" in out
    assert entries() == []


def test_the_smoke_import_keeps_bytecode_in_the_cache_and_it_never_ships(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha", function_app=FUNCTION_APP_IMPORTING_ALPHA)
    argv = ["pack", str(app), "--build", "local", "--smoke", "-o", str(app.parent / "out.zip")]
    code, _, err = invoke(capsys, *argv)
    assert code == 0, err
    [entry] = entries()
    bytecode = [p.parent.parent.name for p in (deps_dir() / entry).rglob("*.pyc")]
    assert "alpha" in bytecode, bytecode  # alpha/__pycache__/: the next smoke import loads it
    code, _, err = invoke(capsys, *argv, "--write-python-packages")
    assert code == 0, err
    assert HIT in err
    assert not list((app / ".python_packages").rglob("__pycache__"))
    with zipfile.ZipFile(app.parent / "out.zip") as archive:
        assert not [name for name in archive.namelist() if "__pycache__" in name]
    assert not list(app.rglob("*.pyc"))  # nor in the app: the smoke import runs elsewhere


def test_a_smoke_import_without_the_cache_writes_no_bytecode(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha", function_app=FUNCTION_APP_IMPORTING_ALPHA)
    pack(capsys, app, "--write-python-packages")
    argv = ["pack", str(app), "--build", "none", "--smoke", "-o", str(app.parent / "none.zip")]
    code, _, err = invoke(capsys, *argv)
    assert code == 0, err
    assert "smoke import passed" in err
    assert not list(app.rglob("__pycache__"))  # the user's own .python_packages is left alone
