"""The pure parts of a build: which locked packages need a source build, what ships, the swap."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from packaging.tags import parse_tag
from rich.console import Console as RichConsole

from funcpub.build.base import BuildResult
from funcpub.build.sources import SourcePackage, check_pure, source_packages
from funcpub.build.staging import package_files, write_python_packages
from funcpub.cli import run
from funcpub.console import Console
from funcpub.errors import BuildError
from funcpub.ignore import select_files
from funcpub.targets import target_platform

TARGET = target_platform("3.11")
EXAMPLE = Path(__file__).parents[2] / "examples" / "hello"

LOCK = {
    "packages": [
        {"name": "Wheel-Only", "version": "1",
         "wheels": [{"name": "wheel_only-1-py3-none-any.whl"}]},
        {
            "name": "mac-and-sdist",
            "version": "2",
            "wheels": [{"url": "https://x.test/mac_and_sdist-2-cp311-cp311-macosx_11_0_arm64.whl"}],
            "sdist": {"url": "https://x.test/mac_and_sdist-2.tar.gz"},
        },
        {"name": "local-sdist", "version": "3", "sdist": {"url": "file:///wheels/local-3.tar.gz"}},
        {"name": "relative", "version": "4", "sdist": {"path": "dists/relative-4.tar.gz"}},
        {"name": "windows-only", "version": "5", "marker": "sys_platform == 'win32'",
         "sdist": {"url": "https://x.test/w-5.tar.gz"}},
        {"name": "newer-python", "version": "6", "marker": "python_full_version >= '3.12'",
         "sdist": {"url": "https://x.test/n-6.tar.gz"}},
        {"name": "checkout", "version": "7",
         "vcs": {"type": "git", "url": "https://git.test/c", "commit-id": "abc123"}},
        {"name": "folder", "version": "8", "directory": {"path": "libs/folder"}},
    ]
}  # fmt: skip


def test_source_packages_are_those_without_a_target_wheel(tmp_path: Path) -> None:
    found = {p.name: p.location for p in source_packages(LOCK, TARGET, lock_dir=tmp_path)}
    assert found == {
        "mac-and-sdist": "https://x.test/mac_and_sdist-2.tar.gz",
        "local-sdist": "/wheels/local-3.tar.gz",
        "relative": str(tmp_path / "dists" / "relative-4.tar.gz"),
        "checkout": "git+https://git.test/c@abc123",
        "folder": str(tmp_path / "libs" / "folder"),
    }
    on_312 = {p.name for p in source_packages(LOCK, target_platform("3.12"), lock_dir=tmp_path)}
    assert "newer-python" in on_312


def test_only_pure_builds_pass() -> None:
    packages = (
        SourcePackage(name="pure", version="1", location="x"),
        SourcePackage(name="native", version="2", location="y"),
    )
    built = {"pure": parse_tag("py3-none-any"), "native": parse_tag("cp311-cp311-linux_x86_64")}
    with pytest.raises(BuildError, match=r"native==2 \(cp311-cp311-linux_x86_64\)") as caught:
        check_pure(packages, built, TARGET)
    assert "pure==1" not in caught.value.message
    assert caught.value.hint is not None
    assert "--build docker" in caught.value.hint
    check_pure(packages[:1], built, TARGET)


def test_the_package_merges_app_files_and_the_staged_build(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / ".python_packages" / "old").mkdir(parents=True)
    (app / ".python_packages" / "old" / "x.py").write_text("", encoding="utf-8")
    (app / "function_app.py").write_text("", encoding="utf-8")
    staged = tmp_path / "staging" / ".python_packages" / "lib" / "site-packages"
    (staged / "pkg" / "__pycache__").mkdir(parents=True)
    (staged / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (staged / "pkg" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"")
    (tmp_path / "staging" / "work").mkdir()
    (tmp_path / "staging" / "work" / "pylock.toml").write_text("", encoding="utf-8")
    selection = select_files(app, ship_python_packages=True)
    built = BuildResult(python_packages=tmp_path / "staging" / ".python_packages")
    files = package_files(app, selection, built)
    assert sorted(f.relpath for f in files) == [
        ".python_packages/lib/site-packages/pkg/__init__.py",
        "function_app.py",
    ]
    mine = BuildResult(python_packages=app / ".python_packages")
    assert package_files(app, selection, mine) == selection.included
    assert [
        f.relpath for f in package_files(app, selection, BuildResult(python_packages=None))
    ] == ["function_app.py"]


def test_write_python_packages_swaps_and_keeps_the_old_one_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app"
    (app / ".python_packages").mkdir(parents=True)
    (app / ".python_packages" / "old.txt").write_text("old", encoding="utf-8")
    built = tmp_path / "built" / ".python_packages"
    built.mkdir(parents=True)
    (built / "new.txt").write_text("new", encoding="utf-8")

    original = Path.rename
    calls: list[Path] = []

    def failing_second_rename(self: Path, target: Path) -> Path:
        calls.append(self)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return original(self, target)

    monkeypatch.setattr(Path, "rename", failing_second_rename)
    with pytest.raises(BuildError, match="No space left on device"):
        write_python_packages(app, built)
    monkeypatch.undo()
    assert sorted(p.name for p in app.iterdir()) == [".python_packages"]
    assert (app / ".python_packages" / "old.txt").read_text(encoding="utf-8") == "old"

    write_python_packages(app, built)
    assert sorted(p.name for p in app.iterdir()) == [".python_packages"]
    assert sorted(p.name for p in (app / ".python_packages").iterdir()) == ["new.txt"]


def test_build_none_ships_the_users_tree_and_warns_about_foreign_binaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app)
    site = app / ".python_packages" / "lib" / "site-packages"
    (site / "mac").mkdir(parents=True)
    (site / "mac" / "_speed.cpython-311-darwin.so").write_bytes(b"\xcf\xfa\xed\xfe" + bytes(60))
    (site / "mac" / "__init__.py").write_text("", encoding="utf-8")
    destination = tmp_path / "out.zip"
    code = run(["pack", str(app), "--build", "none", "-o", str(destination)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "will not run on Azure: mac: mac/_speed.cpython-311-darwin.so" in err
    with zipfile.ZipFile(destination) as archive:
        assert ".python_packages/lib/site-packages/mac/__init__.py" in archive.namelist()


def test_the_console_echoes_commands_and_their_output() -> None:
    err = io.StringIO()
    console = Console(stdout=io.StringIO(), stderr=err)
    console._err = RichConsole(file=err, highlight=False, soft_wrap=True, width=200)
    console.secret("tok3n")
    console.command("uv pip install -r requirements.txt --token tok3n")
    console.output("Resolved 3 packages")
    console.status("not a terminal: nothing shown")
    console.end_status()
    assert err.getvalue().splitlines() == [
        "+ uv pip install -r requirements.txt --token ***",
        "  Resolved 3 packages",
    ]
