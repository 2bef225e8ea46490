"""The binary check: every native file in a built tree must run on the target Linux.

After an install (or on the user's own `.python_packages` with `--build none`), every file is
sniffed by its magic bytes. ELF files are read with pyelftools and must be 64-bit, for the
target machine and for GNU/Linux; the highest `GLIBC_x.y` symbol version they need must not be
above the target's glibc (a too-new one fails at import with "version `GLIBC_2.38' not found").
Mach-O (macOS) and PE (Windows) files never load on Linux. Extension modules named for another
CPython (`.cpython-312-…so` for a 3.11 app) or platform are wrong too, and so are distributions
whose wheel tags the target does not accept. Each problem names the file and its distribution.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from funcpub.build.distributions import DIST_INFO_SUFFIX, owners, read_distributions, runs_on
from funcpub.targets import TargetPlatform

ELF_MAGIC: Final = b"\x7fELF"
MACHO_MAGICS: Final = frozenset(
    {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"}
)
FAT_MAGICS: Final = frozenset({b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"})
# A fat Mach-O counts its architectures where a Java class file has its version (>= 45).
FAT_MAX_ARCHES: Final = 30
PE_OFFSET_FIELD: Final = 0x3C
HEADER_BYTES: Final = 64
_CPYTHON_SUFFIX: Final = re.compile(
    r"\.cpython-(?P<version>\d)(?P<minor>\d+)[a-z]*-(?P<plat>[^.]+)\.so$"
)


@dataclass(frozen=True, kw_only=True)
class BinaryProblem:
    """A file (or a distribution) that cannot run on the target."""

    package: str  # "name==version", or the top-level folder when no RECORD lists the file
    path: str  # relative to site-packages
    reason: str

    def describe(self) -> str:
        """One line naming the package, the file and why."""
        return f"{self.package}: {self.path}: {self.reason}"


def check_binaries(
    site_packages: Path, target: TargetPlatform, *, built_on_target: bool = False
) -> tuple[BinaryProblem, ...]:
    """Every problem in the tree, sorted by path; () when it all runs on the target.

    `built_on_target`: the tree was installed on the target platform itself (a docker build's
    container), so wheels it built from source carry the plain `linux_<arch>` tag; their files
    still go through every check.
    """
    distributions = read_distributions(site_packages)
    local_platform = f"linux_{target.arch}"
    owner = owners(distributions)
    problems = [
        BinaryProblem(
            package=dist.pin,
            path=f"{dist.name}-{dist.version}{DIST_INFO_SUFFIX}",
            reason=f"its wheel tags ({_tags(dist.tags)}) are not for {target.describe()}",
        )
        for dist in distributions
        if dist.tags
        and not runs_on(dist.tags, target)
        and not (built_on_target and any(tag.platform == local_platform for tag in dist.tags))
    ]
    for relpath, path in _files(site_packages):
        reason = file_problem(path, target)
        if reason is not None:
            package = owner.get(relpath) or relpath.split("/", 1)[0]
            problems.append(BinaryProblem(package=package, path=relpath, reason=reason))
    return tuple(sorted(problems, key=lambda p: (p.path, p.reason)))


def _tags(tags: frozenset[object]) -> str:
    return ", ".join(sorted(str(tag) for tag in tags))


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder, name)
            if not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def file_problem(path: Path, target: TargetPlatform) -> str | None:
    """Why `path` cannot run on the target, or None (also for files that are not binaries)."""
    try:
        with path.open("rb") as stream:
            header = stream.read(HEADER_BYTES)
            if header.startswith(ELF_MAGIC):
                from funcpub.build.elf import elf_problem  # pyelftools: only trees with ELF files

                return elf_problem(stream, target) or _suffix_problem(path.name, target)
            if _is_macho(header):
                return "a macOS (Mach-O) binary; it cannot load on Linux"
            if _is_pe(stream, header):
                return "a Windows (PE) binary; it cannot load on Linux"
    except OSError:
        return None
    return _suffix_problem(path.name, target) if path.suffix == ".pyd" else None


def _is_macho(header: bytes) -> bool:
    magic = header[:4]
    if magic in MACHO_MAGICS:
        return True
    return magic in FAT_MAGICS and 0 < int.from_bytes(header[4:8], "big") <= FAT_MAX_ARCHES


def _is_pe(stream: BinaryIO, header: bytes) -> bool:
    if not header.startswith(b"MZ") or len(header) < PE_OFFSET_FIELD + 4:
        return False
    offset = int.from_bytes(header[PE_OFFSET_FIELD : PE_OFFSET_FIELD + 4], "little")
    stream.seek(offset)
    return stream.read(4) == b"PE\0\0"


def _suffix_problem(name: str, target: TargetPlatform) -> str | None:
    """An extension module named for another CPython or platform."""
    if name.endswith(".pyd"):
        return "a Windows extension module (.pyd)"
    match = _CPYTHON_SUFFIX.search(name)
    if match is None:
        return None
    version = f"{match['version']}.{match['minor']}"
    if version != target.python_version:
        return f"an extension module for CPython {version}, not {target.python_version}"
    expected = f"{target.arch}-linux-gnu"
    if match["plat"] != expected:
        return f"an extension module for {match['plat']}, not {expected}"
    return None
