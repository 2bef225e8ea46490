"""ELF files against the target: machine, OS ABI, C library and the glibc symbol versions.

Read with pyelftools; `funcpub.build.binaries` sends every file that starts with the ELF magic
here, so this module (and pyelftools) loads only for trees that hold native code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import BinaryIO, Final

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from funcpub.targets import TargetPlatform

ELF_MACHINES: Final[Mapping[str, str]] = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}
LINUX_ABIS: Final = frozenset({"ELFOSABI_SYSV", "ELFOSABI_LINUX"})
_GLIBC: Final = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")


def elf_problem(stream: BinaryIO, target: TargetPlatform) -> str | None:
    """Why the ELF file in `stream` cannot load on the target's Linux, or None."""
    stream.seek(0)
    try:
        elf = ELFFile(stream)
        return _elf_header_problem(elf, target) or _elf_library_problem(elf, target)
    except (ELFError, ValueError, KeyError):  # damaged or not really ELF: nothing loads it
        return None


def _elf_header_problem(elf: ELFFile, target: TargetPlatform) -> str | None:
    machine = elf.header["e_machine"]
    expected = ELF_MACHINES.get(target.arch, target.arch)
    if elf.elfclass != 64 or machine != expected:
        found = str(machine).removeprefix("EM_")
        return f"built for {found} ({elf.elfclass}-bit), not {target.arch}"
    osabi = elf.header["e_ident"]["EI_OSABI"]
    if osabi not in LINUX_ABIS:
        return f"built for {str(osabi).removeprefix('ELFOSABI_')}, not Linux"
    return None


def _elf_library_problem(elf: ELFFile, target: TargetPlatform) -> str | None:
    if any(name.startswith("libc.musl") for name in _needed(elf)):
        return "built for musl libc (musllinux), not glibc"
    needed = max(_glibc_versions(elf), default=None)
    if needed is not None and needed > target.glibc_version:
        shown = ".".join(str(part) for part in needed)
        return f"needs GLIBC_{shown}, newer than the target's glibc {target.glibc}"
    return None


def _needed(elf: ELFFile) -> Iterator[str]:
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags("DT_NEEDED"):
                yield str(getattr(tag, "needed", ""))


def _glibc_versions(elf: ELFFile) -> Iterator[tuple[int, ...]]:
    """The `GLIBC_x.y[.z]` versions the file's symbols require."""
    for section in elf.iter_sections():
        if not isinstance(section, GNUVerNeedSection):
            continue
        for _library, auxiliaries in section.iter_versions():
            for auxiliary in auxiliaries:
                match = _GLIBC.fullmatch(str(auxiliary.name))
                if match:
                    yield tuple(int(part) for part in match.group(1).split("."))
