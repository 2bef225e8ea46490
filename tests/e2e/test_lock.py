"""`funcpub lock` with uv and pip-tools, builds that honour hashes, and Requires-Python."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clirun import invoke
from tests.e2e.conftest import MakeApp
from tests.wheelhouse import write_wheel

pytestmark = pytest.mark.subprocess

INSTALLERS = pytest.mark.parametrize("installer", ["uv", "pip"])
PIN = re.compile(r"^([a-z0-9_.-]+)==(\S+) \\$", re.MULTILINE)


def direct_requirements(app: Path, *lines: str) -> None:
    """Move the app's requirements to requirements.in (the input of `funcpub lock`)."""
    header = (app / "requirements.txt").read_text(encoding="utf-8").splitlines()[:2]
    (app / "requirements.in").write_text("\n".join([*header, *lines]) + "\n", encoding="utf-8")
    (app / "requirements.txt").unlink()


def pins(lock: Path) -> dict[str, str]:
    return dict(PIN.findall(lock.read_text(encoding="utf-8")))


@INSTALLERS
def test_the_lock_pins_and_hashes_everything(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    app = make_app()
    direct_requirements(app, "alpha")
    code, out, err = invoke(capsys, "lock", str(app), "--installer", installer)
    assert code == 0, err
    lock = (app / "requirements.txt").read_text(encoding="utf-8")
    assert pins(app / "requirements.txt") == {"alpha": "1.0", "beta": "1.0"}
    assert lock.count("--hash=sha256:") == 2
    assert "funcpub lock" in lock  # the command that regenerates it
    assert "2 pinned requirement(s) with hashes" in out

    out = str(app.parent / "out.zip")
    code, _, err = invoke(
        capsys, "pack", str(app), "--build", "local", "--installer", installer, "-o", out
    )
    assert code == 0, err
    assert "alpha==1.0, beta==1.0" in err


def test_uv_resolves_markers_for_the_target_pip_compile_for_this_machine(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app()
    direct_requirements(app, "alpha")
    code, _, err = invoke(capsys, "lock", str(app), "--python-version", "3.12")
    assert code == 0, err
    assert pins(app / "requirements.txt") == {"alpha": "1.0", "beta": "1.0", "newer": "1.0"}

    args = ("--python-version", "3.12", "--installer", "pip", "-o", str(app / "pip.txt"))
    code, _, err = invoke(capsys, "lock", str(app), *args)
    assert code == 0, err
    assert "pip evaluates environment markers for this machine" in err
    assert "newer" not in pins(app / "pip.txt")  # this machine's Python 3.11 decided


def test_a_failed_lock_keeps_the_previous_one(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app()
    direct_requirements(app, "alpha", "nosuchproject")
    (app / "requirements.txt").write_text("alpha==1.0\n", encoding="utf-8")
    code, _, err = invoke(capsys, "lock", str(app))
    assert code == 4
    assert "resolving requirements.in failed" in err
    assert (app / "requirements.txt").read_text(encoding="utf-8") == "alpha==1.0\n"
    assert [p.name for p in app.iterdir() if p.name.endswith(".tmp")] == []


def test_lock_refuses_missing_or_same_files(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp
) -> None:
    app = make_app("alpha")
    code, _, err = invoke(capsys, "lock", str(app))
    assert code == 2
    assert "requirements.in does not exist" in err
    args = ("--input", str(app / "requirements.txt"), "--output", str(app / "requirements.txt"))
    code, _, err = invoke(capsys, "lock", str(app), *args)
    assert code == 2
    assert "are the same file" in err


@INSTALLERS
def test_a_wrong_hash_stops_the_build(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    app = make_app()
    direct_requirements(app, "alpha")
    assert invoke(capsys, "lock", str(app), "--installer", installer)[0] == 0
    lock = app / "requirements.txt"
    text = lock.read_text(encoding="utf-8")
    lock.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text, count=1))
    argv = ("pack", str(app), "--build", "local", "--installer", installer, "--no-smoke")
    code, _, err = invoke(capsys, *argv, "-o", str(app.parent / "out.zip"))
    assert code == 4
    assert "does not match its --hash in the requirements" in err
    assert "funcpub lock" in err  # the hint


@INSTALLERS
def test_requires_python_excluding_the_target_is_refused(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str, tmp_path: Path
) -> None:
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    files = {"oldonly/__init__.py": ""}
    write_wheel(legacy, "oldonly", "1.0", "py3-none-any", files, requires_python="<3.10")
    app = make_app(f"--find-links {legacy}", "oldonly")
    output = str(tmp_path / "out.zip")
    argv = (
        "pack",
        str(app),
        "--build",
        "local",
        "--installer",
        installer,
        "--no-smoke",
        "-o",
        output,
    )
    code, _, err = invoke(capsys, *argv)
    assert code == 4
    assert "oldonly" in err
    assert re.search(r"requires?[- ]python|different python", err, re.IGNORECASE), err
    code, _, err = invoke(capsys, *argv, "--python-version", "3.9")
    assert code == 0, err
