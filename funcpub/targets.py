"""The Linux platform a function app runs on in Azure, as data (see resources/platforms.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from packaging.version import Version

from funcpub.errors import ConfigError
from funcpub.resources import read_toml

# PEP 600 tags below glibc 2.17 are pre-manylinux2014 (manylinux1 = 2.5, manylinux2010 = 2.12);
# their wheels still run on newer glibc, so they stay acceptable.
OLDEST_GLIBC_MINOR = 5
LEGACY_ALIASES = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


@dataclass(frozen=True, kw_only=True)
class TargetPlatform:
    """Where the packaged dependencies must run: Azure's Python image for one version."""

    python_version: str
    os: str
    glibc: str
    arch: str

    @property
    def abi(self) -> str:
        """CPython ABI tag, e.g. `cp311`."""
        return "cp" + self.python_version.replace(".", "")

    @property
    def glibc_version(self) -> tuple[int, ...]:
        """The glibc version as numbers, e.g. `(2, 36)`."""
        return tuple(int(part) for part in self.glibc.split("."))

    @property
    def manylinux_tags(self) -> tuple[str, ...]:
        """Every manylinux platform tag this glibc accepts, newest first.

        pip does not widen `--platform` values, so a build must list them all.
        """
        major, minor = self.glibc_version
        tags: list[str] = []
        for glibc_minor in range(minor, OLDEST_GLIBC_MINOR - 1, -1):
            tags.append(f"manylinux_{major}_{glibc_minor}_{self.arch}")
            if glibc_minor in LEGACY_ALIASES:
                tags.append(f"{LEGACY_ALIASES[glibc_minor]}_{self.arch}")
        return tuple(tags)

    @property
    def uv_platform(self) -> str:
        """The `uv pip install --python-platform` value, e.g. `x86_64-manylinux_2_36`."""
        return f"{self.arch}-manylinux_{self.glibc.replace('.', '_')}"

    def describe(self) -> str:
        """One line for humans: `Linux x86_64, Debian 12 (bookworm), glibc 2.36, cp311`."""
        return f"Linux {self.arch}, {self.os}, glibc {self.glibc}, {self.abi}"


@cache
def _platforms() -> dict[str, dict[str, str]]:
    data = read_toml("platforms.toml")
    default: dict[str, str] = data["default"]
    return {version: default | row for version, row in data["python"].items()}


def target_platform(python_version: str) -> TargetPlatform:
    """The platform Azure runs `python_version` apps on; ConfigError if it is unknown."""
    platforms = _platforms()
    if python_version not in platforms:
        known = ", ".join(sorted(platforms, key=Version))
        msg = f"no known Azure Functions platform for Python {python_version}"
        raise ConfigError(msg, hint=f"use one of: {known}")
    return TargetPlatform(python_version=python_version, **platforms[python_version])
