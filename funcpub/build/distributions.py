"""The distributions an install left in site-packages: names, versions, wheel tags and files."""

from __future__ import annotations

import csv
import email.message
import email.parser
import functools
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag

from funcpub.targets import TargetPlatform

DIST_INFO_SUFFIX = ".dist-info"
LAST_PATCH = 50  # Requires-Python is checked against 3.x.0 … 3.x.50: any release of the minor


@dataclass(frozen=True, kw_only=True)
class Distribution:
    """One installed distribution, read from its `.dist-info` folder."""

    name: str
    version: str
    tags: frozenset[Tag]  # from WHEEL's `Tag:` lines; empty when they are missing
    files: tuple[str, ...]  # RECORD's paths, relative to site-packages
    requires_python: str | None = None  # METADATA's Requires-Python

    @property
    def pin(self) -> str:
        """`name==version`."""
        return f"{self.name}=={self.version}"


def read_distributions(site_packages: Path) -> tuple[Distribution, ...]:
    """Every distribution in `site_packages`, sorted by name."""
    if not site_packages.is_dir():
        return ()
    folders = (p for p in site_packages.iterdir() if p.name.endswith(DIST_INFO_SUFFIX))
    found = (_read(folder) for folder in folders if folder.is_dir())
    return tuple(sorted(found, key=lambda d: d.name.lower()))


def _read(folder: Path) -> Distribution:
    headers = _headers(folder / "METADATA")
    fallback_name, _, fallback_version = folder.name.removesuffix(DIST_INFO_SUFFIX).partition("-")
    wheel = _headers(folder / "WHEEL")
    tags = frozenset(tag for line in wheel.get_all("Tag") or () for tag in parse_tag(line))
    return Distribution(
        name=headers.get("Name") or fallback_name,
        version=headers.get("Version") or fallback_version,
        tags=tags,
        files=_record(folder / "RECORD"),
        requires_python=headers.get("Requires-Python"),
    )


def _headers(path: Path) -> email.message.Message:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return email.parser.HeaderParser().parsestr(text)


def _record(path: Path) -> tuple[str, ...]:
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.reader(stream))
    except (OSError, csv.Error):
        return ()
    return tuple(posixpath.normpath(row[0]) for row in rows if row and row[0])


@functools.cache
def target_tags(target: TargetPlatform) -> frozenset[Tag]:
    """Every wheel tag the target interpreter accepts (what pip or uv would install there)."""
    major, minor = (int(part) for part in target.python_version.split("."))
    platforms = list(target.manylinux_tags)
    return frozenset(
        (
            *cpython_tags((major, minor), abis=[target.abi], platforms=platforms),
            *compatible_tags((major, minor), interpreter=target.abi, platforms=platforms),
        )
    )


def runs_on(tags: Iterable[Tag], target: TargetPlatform) -> bool:
    """Whether a wheel with these tags installs on the target."""
    return not target_tags(target).isdisjoint(tags)


def owners(distributions: Iterable[Distribution]) -> Mapping[str, str]:
    """Each recorded file (relative to site-packages) -> the pin of its distribution."""
    return {path: dist.pin for dist in distributions for path in dist.files}


def python_mismatches(
    distributions: Iterable[Distribution], target: TargetPlatform
) -> tuple[str, ...]:
    """`name==version (Requires-Python …)` of each distribution no release of the target's
    Python satisfies (uv does not check it for wheels from --find-links or plain indexes)."""
    return tuple(
        f"{dist.pin} (Requires-Python {dist.requires_python})"
        for dist in distributions
        if dist.requires_python and not _accepts(dist.requires_python, target.python_version)
    )


def _accepts(requires_python: str, python_version: str) -> bool:
    try:
        specifiers = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True  # pip and uv would have refused to install it
    patches = (f"{python_version}.{patch}" for patch in range(LAST_PATCH + 1))
    return any(specifiers.contains(version, prereleases=True) for version in patches)
