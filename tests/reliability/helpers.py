"""What the reliability suites share: running the CLI in-process and judging its output."""

from __future__ import annotations

import re
import shutil
import signal
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from funcpub.cli import run
from funcpub.emulator import Emulator, SiteInfo

ROOT = Path(__file__).parents[2]
HELLO = ROOT / "examples" / "hello"
PROJECTS = ROOT / "tests" / "projects"
DOCS = ROOT / "docs"
# Every exit code funcpub documents (docs/exit-codes.md).
DOCUMENTED_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 130})
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \".*\", line \d+", re.M)
SIGNALS = [signal.SIGINT, signal.SIGTERM]  # what stops a run: Ctrl-C, and a CI job cancelled
SIGNAL_IDS = ["sigint", "sigterm"]


@dataclass(frozen=True, kw_only=True)
class Finished:
    """A `python -m funcpub` child that ended."""

    code: int
    out: str
    err: str


def assert_interrupted(result: Finished, tmp: Path) -> None:
    """It stopped as interrupted (130), without a traceback, leaving its TMPDIR `tmp` empty."""
    assert result.code == 130, result.err
    assert "Traceback" not in result.err + result.out
    assert list(tmp.iterdir()) == [], "temporary files are removed"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One CLI run."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def error_lines(self) -> list[str]:
        """The `error: ...` lines on stderr."""
        return [line for line in self.err.splitlines() if line.startswith("error:")]


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    """Run `funcpub argv...` in this process, as the console script does."""
    code = run(list(argv))
    captured = capsys.readouterr()
    return Outcome(code=code, out=captured.out, err=captured.err)


def assert_clean_failure(outcome: Outcome, code: int) -> None:
    """A documented exit code, no traceback, no internal error, at most one error line."""
    assert outcome.code == code, outcome.text
    assert outcome.code in DOCUMENTED_CODES
    assert not TRACEBACK.search(outcome.text), outcome.text
    assert "internal error" not in outcome.text, outcome.text
    assert len(outcome.error_lines()) <= 1, outcome.err
    if code not in (0, 3):  # exit 3 may come from `validate`, which lists findings instead
        assert len(outcome.error_lines()) == 1, outcome.err


def copy_app(source: Path, destination: Path) -> Path:
    """A copy of a fixture app (links kept as links)."""
    shutil.copytree(source, destination, symlinks=True)
    return destination


def use_emulator(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this process (the CLI reads os.environ) at the emulator."""
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)


def deployments(emulator: Emulator, site: SiteInfo) -> list[Any]:
    """The site's Kudu deployment records, newest first."""
    response = requests.get(
        f"{site.scm_url}/api/deployments",
        auth=(site.publishing_user, site.publishing_password),
        verify=str(emulator.ca_bundle),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    records: list[Any] = response.json()
    return records


def zip_contents(path: Path) -> dict[str, bytes]:
    """Every entry of a zip by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def tree_contents(root: Path) -> dict[str, bytes]:
    """Every file under `root` by POSIX relpath."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def settings_of(emulator: Emulator, name: str) -> Mapping[str, str]:
    return dict(emulator.site(name).app_settings)
