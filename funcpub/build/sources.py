"""Requirements with no wheel for the target: find them, build them, keep only pure Python.

A local build first installs wheels only. When that fails, uv resolves the requirements for the
target again with source distributions allowed and writes a PEP 751 lock (`pylock.toml`); its
packages that have no wheel the target accepts are the ones to build. They are built on this
machine, so only pure-Python results (`py3-none-any`) may ship: anything tagged for this
machine's interpreter and platform is native code compiled for the wrong system, and the build
stops, naming it and pointing at `--build docker` or `--build remote`.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from packaging.markers import InvalidMarker, Marker
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from funcpub.build.base import BuildReporter
from funcpub.build.distributions import runs_on
from funcpub.build.tools import failure_message, run_step
from funcpub.errors import BuildError
from funcpub.options import Installer
from funcpub.resources import TOMLDecodeError, parse_toml
from funcpub.targets import TargetPlatform

LOCK_NAME: Final = "pylock.toml"
NATIVE_HINT: Final = (
    "use --build docker (builds inside Azure's Linux image) or --build remote (Azure builds "
    "the dependencies with Oryx)"
)
# uv reads UV_*; with --installer pip the user configured pip, so the lookup borrows pip's.
_PIP_TO_UV: Final[Mapping[str, str]] = {
    "PIP_INDEX_URL": "UV_INDEX_URL",
    "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS": "UV_FIND_LINKS",
    "PIP_NO_INDEX": "UV_NO_INDEX",
}


@dataclass(frozen=True, kw_only=True)
class SourcePackage:
    """A locked package the target has no wheel for."""

    name: str  # canonical
    version: str
    location: str  # what pip can build: a local path, a URL, or `git+URL@commit`

    @property
    def pin(self) -> str:
        """`name==version`."""
        return f"{self.name}=={self.version}"


def target_environment(target: TargetPlatform) -> dict[str, str]:
    """The PEP 508 marker values of Azure's Python (`sys_platform == "linux"`, ...)."""
    version = target.python_version
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{version}.0",
        "os_name": "posix",
        "platform_machine": target.arch,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{version}.0",
        "python_version": version,
        "sys_platform": "linux",
        "extra": "",
    }


def lock_command(
    requirements: str, target: TargetPlatform, *, python: str, output: Path
) -> tuple[str, ...]:
    """uv's resolution for the target, sources allowed, written as a PEP 751 lock."""
    return (
        *("uv", "pip", "compile", requirements, "--python", python),
        *("--python-platform", target.uv_platform, "--python-version", target.python_version),
        *("--format", "pylock.toml", "--output-file", str(output), "--no-header"),
    )


def find_source_packages(
    requirements: str,
    target: TargetPlatform,
    *,
    installer: Installer,
    root: Path,
    work: Path,
    reporter: BuildReporter,
) -> tuple[SourcePackage, ...] | None:
    """The packages to build from source; None when the requirements do not resolve at all."""
    output = work / LOCK_NAME
    argv = lock_command(requirements, target, python=sys.executable, output=output)
    env = _pip_settings_for_uv() if installer == "pip" else {}
    result = run_step(argv, cwd=root, reporter=reporter, env=env)
    if not result.ok or not output.is_file():
        return None
    try:
        lock = parse_toml(output.read_text(encoding="utf-8"))
    except (TOMLDecodeError, OSError, UnicodeDecodeError):
        return None
    return source_packages(lock, target, lock_dir=output.parent)


def _pip_settings_for_uv() -> dict[str, str]:
    return {
        uv: os.environ[pip]
        for pip, uv in _PIP_TO_UV.items()
        if pip in os.environ and uv not in os.environ
    }


def source_packages(
    lock: Mapping[str, Any], target: TargetPlatform, *, lock_dir: Path
) -> tuple[SourcePackage, ...]:
    """The lock's packages that apply to the target and have no wheel it accepts."""
    environment = target_environment(target)
    found: list[SourcePackage] = []
    for package in lock.get("packages", ()):
        if not _applies(package.get("marker"), environment):
            continue
        if any(runs_on(_wheel_tags(wheel), target) for wheel in package.get("wheels", ())):
            continue
        location = _location(package, lock_dir)
        if location is not None:
            found.append(
                SourcePackage(
                    name=canonicalize_name(str(package["name"])),
                    version=str(package.get("version", "")),
                    location=location,
                )
            )
    return tuple(sorted(found, key=lambda p: p.name))


def _applies(marker: object, environment: dict[str, str]) -> bool:
    if not marker:
        return True
    try:
        return Marker(str(marker)).evaluate(environment)
    except InvalidMarker:
        return True


def _wheel_tags(wheel: Mapping[str, Any]) -> frozenset[Tag]:
    name = wheel.get("name") or _basename(str(wheel.get("url") or wheel.get("path") or ""))
    try:
        return parse_wheel_filename(name)[3]
    except InvalidWheelFilename:
        return frozenset()


def _basename(location: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(location).path.rsplit("/", 1)[-1])


def _location(package: Mapping[str, Any], lock_dir: Path) -> str | None:
    """Where pip finds the source: sdist, archive, local directory or VCS checkout."""
    for key in ("sdist", "archive", "directory"):
        source = package.get(key)
        if isinstance(source, Mapping):
            return _path_or_url(source, lock_dir)
    vcs = package.get("vcs")
    if isinstance(vcs, Mapping) and vcs.get("url"):
        commit = vcs.get("commit-id") or vcs.get("requested-revision")
        return f"{vcs.get('type', 'git')}+{vcs['url']}" + (f"@{commit}" if commit else "")
    return None


def _path_or_url(source: Mapping[str, Any], lock_dir: Path) -> str | None:
    if source.get("path"):
        return str((lock_dir / str(source["path"])).resolve())
    url = str(source.get("url") or "")
    if url.startswith("file:"):
        import urllib.request  # http.client and ssl with it: only for a lock naming a file URL

        return urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
    return url or None


def build_pure_wheels(
    packages: Iterable[SourcePackage],
    target: TargetPlatform,
    *,
    root: Path,
    wheels: Path,
    reporter: BuildReporter,
) -> None:
    """Build each package into `wheels` with pip; BuildError unless every one is pure Python."""
    wheels.mkdir(parents=True, exist_ok=True)
    for package in packages:
        argv = (
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--progress-bar", "off"),
            *("--wheel-dir", str(wheels), package.location),
        )
        result = run_step(argv, cwd=root, reporter=reporter)
        if not result.ok:
            raise BuildError(
                failure_message(f"building {package.pin} from source failed", result),
                hint=NATIVE_HINT,
            )
    check_pure(packages, _built_tags(wheels), target)


def _built_tags(wheels: Path) -> dict[str, frozenset[Tag]]:
    built: dict[str, frozenset[Tag]] = {}
    for wheel in wheels.glob("*.whl"):
        try:
            name, _version, _build, tags = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename:
            continue
        built[str(name)] = built.get(str(name), frozenset()) | tags
    return built


def check_pure(
    packages: Iterable[SourcePackage], built: Mapping[str, frozenset[Tag]], target: TargetPlatform
) -> None:
    """BuildError naming every package whose built wheel does not run on the target."""
    native = [
        f"{package.pin} ({', '.join(sorted(str(t) for t in built.get(package.name, ())))})"
        for package in packages
        if not runs_on(built.get(package.name, frozenset()), target)
    ]
    if native:
        msg = (
            f"{len(native)} requirement(s) have no wheel for {target.describe()} and their "
            f"source builds native code, which a local build cannot compile for Azure: "
            + "; ".join(native)
        )
        raise BuildError(msg, hint=NATIVE_HINT)
