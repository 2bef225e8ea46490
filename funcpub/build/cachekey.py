"""What a cached dependency build depends on, as one digest.

The key covers the normalized requirements (every `-r`/`-c` include, comments and blank lines
dropped, lines sorted), the content of local archives they name, the listing of local
`--find-links` folders (named by the requirements, `PIP_FIND_LINKS` or `UV_FIND_LINKS`), the
content of the constraints files `PIP_CONSTRAINT`/`UV_CONSTRAINT` name, the `PIP_*`/`UV_*`
settings (hashed: they may hold index credentials), the target platform, the build strategy,
what it installs with (its `BuildEnvironment`: the local installer and its version, or the
docker build's image and network), the content of the configuration files an installer running
here reads (`funcpub.build.installerconfig`) and funcpub's version. A requirement on a local
folder (`-e .`, `./mypkg`) has no such key: its content changes without the requirements
changing, so those builds are never cached.

Requirements that leave versions open (`requests>=2`) get a new upstream release without any
of this changing, so a cached build of them expires (`--cache-ttl`); a hashed lock (every line
with `--hash`, as `funcpub lock` writes) or a build whose every distribution is pinned with
`==` is exact and never expires.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from funcpub import __version__
from funcpub.build.installerconfig import (
    config_digest,
    file_digest,
    pip_find_links,
    uv_find_links,
)
from funcpub.requirements import Entry, logical_lines, scan_requirements
from funcpub.strategies.base import BuildEnvironment, BuildRequest

# 2: the strategy's environment (installer or image); 3: trees without installer bookkeeping,
# installer config files and find-links folders named in the environment
KEY_FORMAT: Final = 3
# Installer settings that change how it runs, not what it installs.
_NEUTRAL_SETTINGS: Final = frozenset(
    {"PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_PROGRESS_BAR",
     "PIP_NO_INPUT", "PIP_QUIET", "PIP_VERBOSE", "PIP_RETRIES", "PIP_TIMEOUT", "UV_CACHE_DIR",
     "UV_NO_CACHE", "UV_NO_PROGRESS", "UV_HTTP_TIMEOUT", "UV_HTTP_RETRIES",
     "UV_CONCURRENT_DOWNLOADS"}
)  # fmt: skip
_FIND_LINKS: Final = ("-f", "--find-links")


@dataclass(frozen=True, kw_only=True)
class CacheKey:
    """The digest of a build's inputs, and whether the requirements pin everything by hash."""

    digest: str
    hashed: bool


@dataclass(frozen=True, kw_only=True)
class Uncacheable:
    """Why a build cannot be cached."""

    reason: str


def cache_key(
    request: BuildRequest,
    *,
    root: Path,
    strategy: str,
    environment: BuildEnvironment,
    environ: Mapping[str, str],
) -> CacheKey | Uncacheable | None:
    """The key of the request's build; None when there are no requirements."""
    if request.requirements is None:
        return None
    top = root / request.requirements
    scan = scan_requirements(top)
    for entry in scan.entries:
        if entry.kind == "editable" or (entry.kind == "local" and _local_folder(entry.text, top)):
            return Uncacheable(reason=f"{request.requirements} installs a local folder")
    files = {_relative(path, root): _normalized(path) for path in scan.files}
    lines = [line for file_lines in files.values() for line in file_lines]
    inputs = {
        "format": KEY_FORMAT,
        "funcpub": __version__,
        "strategy": strategy,
        "environment": dict(environment.identity),
        "target": asdict(request.target),
        "requirements": files,
        "archives": _archives(scan.entries, top),
        "find-links": _find_links(_line_find_links(lines), top.parent),
        "find-links-environ": _find_links(_environ_find_links(environ), root),
        "constraints-environ": _environ_constraints(environ, root),
        "settings": _settings_digest(environ),
        "config": _config(environment, root, environ),
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:32]
    return CacheKey(digest=digest, hashed=_all_hashed(lines))


def exact_pins(requirements: Path, installed: Iterable[str]) -> bool:
    """Whether every installed `name==version` is pinned exactly by the requirements."""
    pins: dict[str, Version] = {}
    for entry in scan_requirements(requirements).entries:
        pinned = _pinned_version(entry.text)
        if entry.name and pinned is not None:
            pins[entry.name] = pinned
    for pin in installed:
        name, _, version = pin.partition("==")
        try:
            if pins.get(canonicalize_name(name)) != Version(version):
                return False
        except InvalidVersion:
            return False
    return True


def _pinned_version(text: str) -> Version | None:
    """The version of a `name==version` requirement; None for any other."""
    try:
        (only,) = Requirement(text).specifier
        if only.operator in ("==", "===") and "*" not in only.version:
            return Version(only.version)
    except (InvalidRequirement, InvalidVersion, ValueError):
        pass
    return None


def _normalized(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []
    return sorted(" ".join(line.split()) for _number, line in logical_lines(text))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _local_path(text: str, base: Path) -> Path:
    location = text.split(";", 1)[0].strip()
    if "@" in location and not location.startswith(("file:", ".", "/")):
        location = location.split("@", 1)[1].strip()
    if location.lower().startswith("file:"):
        location = unquote(urlsplit(location).path)
    return (base / location).resolve()


def _local_folder(text: str, requirements: Path) -> bool:
    return _local_path(text, requirements.parent).is_dir()


def _archives(entries: Iterable[Entry], requirements: Path) -> dict[str, str]:
    """sha256 of every local archive the requirements install."""
    return {
        entry.text: file_digest(_local_path(entry.text, requirements.parent)) or "missing"
        for entry in entries
        if entry.kind == "local"
    }


def _find_links(values: Iterable[str], base: Path) -> dict[str, list[tuple[str, int, int]]]:
    """Local `--find-links` folders (relative to `base`): name, size and mtime of their files."""
    listings: dict[str, list[tuple[str, int, int]]] = {}
    for value in values:
        if "://" in value and not value.startswith("file:"):
            continue
        folder = Path(unquote(urlsplit(value).path) if value.startswith("file:") else value)
        listings[value] = _listing(folder if folder.is_absolute() else base / folder)
    return listings


def _line_find_links(lines: Iterable[str]) -> list[str]:
    """The `--find-links` locations the requirement lines name."""
    return [value for line in lines for value in _option_values(line, _FIND_LINKS)]


def _environ_find_links(environ: Mapping[str, str]) -> list[str]:
    """The locations of `PIP_FIND_LINKS` and `UV_FIND_LINKS`."""
    return [*pip_find_links(environ), *uv_find_links(environ)]


def _environ_constraints(environ: Mapping[str, str], root: Path) -> dict[str, str]:
    """The content of the constraints files `PIP_CONSTRAINT` and `UV_CONSTRAINT` name."""
    names = (*environ.get("PIP_CONSTRAINT", "").split(), *environ.get("UV_CONSTRAINT", "").split())
    return {name: file_digest(root / name) or "missing" for name in names}


def _config(environment: BuildEnvironment, root: Path, environ: Mapping[str, str]) -> str | None:
    """The digest of the configuration files of the installer that runs here, in the app."""
    installer = environment.host_installer
    return None if installer is None else config_digest(installer, cwd=root, environ=environ)


def _option_values(line: str, names: tuple[str, ...]) -> list[str]:
    try:
        tokens = shlex.split(line)
    except ValueError:
        return []
    values: list[str] = []
    for index, token in enumerate(tokens):
        option, equals, value = token.partition("=")
        if option in names and equals:
            values.append(value)
        elif token in names and index + 1 < len(tokens):
            values.append(tokens[index + 1])
    return values


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    try:
        with os.scandir(folder) as entries:
            stats = [(entry.name, entry.stat()) for entry in entries if entry.is_file()]
    except OSError:
        return []
    return sorted((name, stat.st_size, stat.st_mtime_ns) for name, stat in stats)


def _settings_digest(environ: Mapping[str, str]) -> str:
    settings = sorted(
        (name, value)
        for name, value in environ.items()
        if name.startswith(("PIP_", "UV_")) and name not in _NEUTRAL_SETTINGS
    )
    return hashlib.sha256(json.dumps(settings).encode()).hexdigest()


def _all_hashed(lines: Iterable[str]) -> bool:
    """Whether every requirement line carries `--hash` (pip's hash-checking mode)."""
    requirements = [line for line in lines if not line.startswith("-")]
    return bool(requirements) and all(
        any(word.startswith("--hash") for word in line.split()) for line in requirements
    )
