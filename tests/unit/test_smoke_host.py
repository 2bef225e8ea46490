"""Whether this machine can run the smoke import: only where CPython loads the binaries."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import pytest

from funcpub.build import smoke
from funcpub.build.smoke import host_glibc, host_mismatch, smoke_import
from funcpub.errors import BuildError
from funcpub.targets import target_platform
from tests.unit.test_docker_cache import Steps

TARGET = target_platform("3.11")  # Linux x86_64, glibc 2.36
FOR_THE_TARGET = "the package is for Linux x86_64 (glibc 2.36)"


def pretend(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str, glibc: tuple[int, ...] | None
) -> None:
    """This machine is `system` on `machine` with `glibc` (None: another C library)."""
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(smoke, "host_glibc", lambda: glibc)


def test_linux_x86_64_with_the_targets_glibc_or_newer_loads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pretend(monkeypatch, "linux", "x86_64", (2, 36))
    assert host_mismatch(TARGET) is None
    pretend(monkeypatch, "linux", "x86_64", (2, 40))
    assert host_mismatch(TARGET) is None


@pytest.mark.parametrize(
    ("system", "machine", "glibc", "host"),
    [
        ("darwin", "arm64", None, "macOS arm64"),
        ("darwin", "x86_64", None, "macOS x86_64"),
        ("win32", "AMD64", None, "Windows AMD64"),
        ("linux", "aarch64", (2, 36), "Linux aarch64 with glibc 2.36"),
        ("linux", "x86_64", (2, 31), "Linux x86_64 with glibc 2.31"),
        ("linux", "x86_64", None, "Linux x86_64 without glibc"),
    ],
)
def test_another_system_cpu_or_an_older_glibc_cannot(
    monkeypatch: pytest.MonkeyPatch,
    system: str,
    machine: str,
    glibc: tuple[int, ...] | None,
    host: str,
) -> None:
    pretend(monkeypatch, system, machine, glibc)
    assert host_mismatch(TARGET) == f"this machine is {host} and {FOR_THE_TARGET}"


def test_the_glibc_needed_is_the_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, "linux", "x86_64", (2, 31))
    assert host_mismatch(target_platform("3.8")) is None  # Debian 11: glibc 2.31


@pytest.mark.parametrize(
    ("answer", "glibc"),
    [("glibc 2.36", (2, 36)), ("glibc 2.39.1", (2, 39)), ("", None), (None, None)],
)
def test_host_glibc_reads_the_c_library_version(
    monkeypatch: pytest.MonkeyPatch, answer: str | None, glibc: tuple[int, ...] | None
) -> None:
    monkeypatch.setattr(os, "confstr", lambda _name: answer, raising=False)
    assert host_glibc() == glibc


def test_host_glibc_is_none_when_the_c_library_has_no_version_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def musl(name: str) -> str:
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(os, "confstr", musl, raising=False)
    assert host_glibc() is None


def test_on_macos_the_smoke_import_is_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pretend(monkeypatch, "darwin", "arm64", None)
    reporter = Steps()
    outcome = smoke_import(
        (), target=TARGET, mode="auto", root=tmp_path, scratch=tmp_path, reporter=reporter
    )
    assert not outcome.ran
    assert outcome.detail == f"skipped: this machine is macOS arm64 and {FOR_THE_TARGET}"
    (warning,) = reporter.steps
    assert warning.startswith(
        f"smoke import skipped: this machine is macOS arm64 and {FOR_THE_TARGET}"
    )
    assert "--build docker" in warning


def test_on_macos_a_required_smoke_import_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pretend(monkeypatch, "darwin", "arm64", None)
    with pytest.raises(BuildError, match="cannot run: this machine is macOS arm64") as info:
        smoke_import(
            (), target=TARGET, mode="on", root=tmp_path, scratch=tmp_path, reporter=Steps()
        )
    assert info.value.hint is not None
    assert "--build docker" in info.value.hint
    assert "--no-smoke" in info.value.hint
