"""The binary check on real ELF files from this interpreter, and crafted Mach-O and PE headers."""

from __future__ import annotations

import dataclasses
import shutil
import sysconfig
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from funcpub.build.binaries import check_binaries, file_problem
from funcpub.build.distributions import Distribution, python_mismatches
from funcpub.targets import TargetPlatform, target_platform
from tests.wheelhouse import CPYTHON

TARGET = target_platform("3.11")
LIB_DYNLOAD = Path(str(sysconfig.get_config_var("DESTSHARED")))
EM_AARCH64 = 183


def glibc_needed(path: Path) -> tuple[int, ...]:
    versions: list[tuple[int, ...]] = [(0,)]
    with path.open("rb") as stream:
        for section in ELFFile(stream).iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for _library, auxiliaries in section.iter_versions():
                    versions += [
                        tuple(int(p) for p in str(a.name)[6:].split("."))
                        for a in auxiliaries
                        if str(a.name).startswith("GLIBC_2")
                    ]
    return max(versions)


@pytest.fixture(scope="module")
def system_extension() -> Path:
    """An extension module of this interpreter that needs glibc newer than 2.17."""
    for path in sorted(LIB_DYNLOAD.glob("*.so")):
        if glibc_needed(path) > (2, 17):
            return path
    pytest.fail(f"no extension module in {LIB_DYNLOAD} needs glibc > 2.17")


def site_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    site = tmp_path / "site-packages"
    for relpath, data in files.items():
        path = site / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return site


def target(python_version: str = "3.11", **changes: str) -> TargetPlatform:
    return dataclasses.replace(target_platform(python_version), **changes)


@pytest.mark.skipif(CPYTHON != "cp311", reason="the target is Python 3.11")
def test_an_extension_of_this_machine_runs_on_the_target(system_extension: Path) -> None:
    assert glibc_needed(system_extension) <= (2, 36)
    assert file_problem(system_extension, TARGET) is None


def test_too_new_glibc_is_named(system_extension: Path, tmp_path: Path) -> None:
    needed = ".".join(str(p) for p in glibc_needed(system_extension))
    copy = tmp_path / "pkg" / "_fast.abi3.so"
    copy.parent.mkdir()
    shutil.copy(system_extension, copy)
    old = target(glibc="2.17")
    assert file_problem(copy, old) == f"needs GLIBC_{needed}, newer than the target's glibc 2.17"
    (problem,) = check_binaries(tmp_path, old)
    assert (problem.package, problem.path) == ("pkg", "pkg/_fast.abi3.so")


def test_another_machine_is_refused(system_extension: Path, tmp_path: Path) -> None:
    data = bytearray(system_extension.read_bytes())
    data[18:20] = EM_AARCH64.to_bytes(2, "little")  # e_machine
    site = site_with(tmp_path, {"pkg/_fast.abi3.so": bytes(data)})
    (problem,) = check_binaries(site, TARGET)
    assert problem.reason == "built for AARCH64 (64-bit), not x86_64"


def test_an_extension_for_another_cpython_is_refused(
    system_extension: Path, tmp_path: Path
) -> None:
    name = "pkg/_fast.cpython-312-x86_64-linux-gnu.so"
    site = site_with(tmp_path, {name: system_extension.read_bytes()})
    (problem,) = check_binaries(site, target(glibc="2.99"))
    assert problem.describe() == f"pkg: {name}: an extension module for CPython 3.12, not 3.11"


def test_macos_and_windows_binaries_are_refused(tmp_path: Path) -> None:
    pe = bytearray(128)
    pe[:2] = b"MZ"
    pe[0x3C:0x40] = (64).to_bytes(4, "little")
    pe[64:68] = b"PE\0\0"
    site = site_with(
        tmp_path,
        {
            "mac/_speed.cpython-311-darwin.so": b"\xcf\xfa\xed\xfe" + bytes(60),
            "fat/_speed.so": b"\xca\xfe\xba\xbe" + (2).to_bytes(4, "big") + bytes(56),
            "win/_speed.cp311-win_amd64.pyd": bytes(pe),
            "java/Thing.class": b"\xca\xfe\xba\xbe" + (52).to_bytes(4, "big") + bytes(56),
            "text/readme.txt": b"MZ is not a Windows binary here" + bytes(40),
        },
    )
    problems = {p.path: p.reason for p in check_binaries(site, TARGET)}
    assert problems == {
        "fat/_speed.so": "a macOS (Mach-O) binary; it cannot load on Linux",
        "mac/_speed.cpython-311-darwin.so": "a macOS (Mach-O) binary; it cannot load on Linux",
        "win/_speed.cp311-win_amd64.pyd": "a Windows (PE) binary; it cannot load on Linux",
    }


def test_files_are_named_with_their_distribution_and_wheel_tags_are_checked(
    tmp_path: Path,
) -> None:
    record = "winpkg/__init__.py,,\nwinpkg/_x.pyd,,\n"
    site = site_with(
        tmp_path,
        {
            "winpkg/__init__.py": b"",
            "winpkg/_x.pyd": b"not really a PE file",
            "winpkg-2.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: winpkg\nVersion: 2.0\n",
            "winpkg-2.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nTag: cp311-cp311-win_amd64\n",
            "winpkg-2.0.dist-info/RECORD": record.encode(),
            "ok-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: ok\nVersion: 1.0\n",
            "ok-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nTag: py3-none-any\n",
        },
    )
    problems = [p.describe() for p in check_binaries(site, TARGET)]
    assert problems == [
        f"winpkg==2.0: winpkg-2.0.dist-info: its wheel tags (cp311-cp311-win_amd64) are not "
        f"for {TARGET.describe()}",
        "winpkg==2.0: winpkg/_x.pyd: a Windows extension module (.pyd)",
    ]


def test_an_empty_or_missing_tree_has_no_problems(tmp_path: Path) -> None:
    assert check_binaries(tmp_path / "missing", TARGET) == ()


@pytest.mark.parametrize(
    ("requires_python", "refused"),
    [
        (">=3.11.4", False),
        ("<3.10", True),
        (">=3.12", True),
        ("~=3.8", False),
        ("not a spec", False),
    ],
)
def test_requires_python_against_the_target(requires_python: str, refused: bool) -> None:
    dist = Distribution(
        name="x", version="1", tags=frozenset(), files=(), requires_python=requires_python
    )
    found = python_mismatches([dist], target_platform("3.11"))
    assert found == ((f"x==1 (Requires-Python {requires_python})",) if refused else ())
