"""Local build: install wheels for Azure's Linux platform into .python_packages, here.

The build runs in a staging folder, never in the app: wheels only first (`--only-binary`), for
the target's platform tags, Python version and markers. When some requirement has no such wheel,
uv locks the requirements again with sources allowed to learn which; those are built on this
machine and may ship only if they are pure Python (see `funcpub.build.sources`). The finished
tree must pass the binary check before anything ships.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from packaging.utils import canonicalize_name

from funcpub.appsettings import SettingChange, ensure
from funcpub.build.base import BuildReporter, BuildResult
from funcpub.build.tools import failure_message, require_pip, run_step
from funcpub.errors import BuildError
from funcpub.process import Command, CommandResult
from funcpub.strategies.base import (
    PYTHON_PACKAGES,
    SITE_PACKAGES,
    STAGING,
    BuildEnvironment,
    BuildRequest,
)
from funcpub.targets import TargetPlatform

# The modules that install and check a tree (sources, distributions, binaries) are imported by
# the functions that use them: a cache hit (the warm rebuild) runs none of them.
if TYPE_CHECKING:
    from funcpub.build.sources import SourcePackage

NO_REMOTE_BUILD = ensure(
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "false",
    "dependencies are in the package; Azure must not rebuild them",
)
WORK: Final = "work"  # scratch files of the build inside the staging folder
REQUIRES_PYTHON_HINT: Final = (
    "pin versions that support the app's Python (their Requires-Python), or set "
    "--python-version to the version the app runs on"
)
HASH_HINT: Final = (
    "the lock no longer matches what the index serves (or the file was tampered with): "
    "check the index, then run `funcpub lock` again"
)
_HASH_MARKERS: Final = ("hash mismatch", "do not match the hashes")  # uv, pip
BINARY_HINT: Final = (
    "pin a version that has a manylinux wheel for the target, or use --build docker or "
    "--build remote"
)


def install_command(
    request: BuildRequest, *, python: str, extra: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The installer command for the request's target (requirements file, markers and all).

    `extra` options go before the requirements file (a retry's `--no-binary` or `--find-links`).
    """
    assert request.requirements is not None
    target = request.target
    destination = f"{STAGING}/{SITE_PACKAGES}"
    if request.installer == "uv":
        return (
            *("uv", "pip", "install", "--target", destination),
            *("--python-platform", target.uv_platform, "--python-version", target.python_version),
            *("--python", python, "--only-binary", ":all:", *extra, "-r", request.requirements),
        )
    platforms = [arg for tag in target.manylinux_tags for arg in ("--platform", tag)]
    return (
        *(python, "-m", "pip", "install", "--target", destination, *platforms),
        *("--python-version", target.python_version, "--implementation", "cp"),
        *("--abi", target.abi, "--only-binary=:all:", "--no-compile", "--progress-bar", "off"),
        *(*extra, "-r", request.requirements),
    )


def _installer_version(installer: str) -> str:
    try:
        return importlib.metadata.version(installer)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _in_staging(argv: tuple[str, ...], staging: Path) -> tuple[str, ...]:
    """The planned argv with the staging placeholder replaced by the real folder."""
    prefix = STAGING + "/"
    return tuple(str(staging / a.removeprefix(prefix)) if a.startswith(prefix) else a for a in argv)


@dataclass(frozen=True)
class LocalStrategy:
    """`--build local`."""

    name: Literal["local"] = "local"
    ships_python_packages: bool = True

    def commands(self, request: BuildRequest) -> tuple[Command, ...]:
        """One install of the requirements for the target platform."""
        if request.requirements is None:
            return ()
        argv = install_command(request, python=sys.executable)
        purpose = f"install dependencies for {request.target.describe()}"
        return (Command(argv=argv, where="here", purpose=purpose),)

    def settings(self) -> tuple[SettingChange, ...]:
        """Keep Azure from rebuilding what was built here."""
        return (NO_REMOTE_BUILD,)

    def environment(self, request: BuildRequest, reporter: BuildReporter) -> BuildEnvironment:
        """The installer and its version; the key adds its configuration files."""
        installer = request.installer
        return BuildEnvironment(
            identity={"installer": installer, "version": _installer_version(installer)},
            describes=f"{installer}, {request.target.describe()}",
            host_installer=installer,
        )

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        """Install into `<staging>/.python_packages`, build pure sources, check the binaries."""
        if request.requirements is None:
            return nothing_to_install(reporter)
        if request.installer == "pip":
            require_pip()
            warn_about_pip_markers(request.target, reporter)
        reporter.step(f"installing dependencies for {request.target.describe()}")
        first = _install(request, root=root, staging=staging, reporter=reporter)
        from_source: tuple[SourcePackage, ...] = ()
        if not first.ok and _hash_mismatch(first):
            raise BuildError(
                failure_message("a file does not match its --hash in the requirements", first),
                hint=HASH_HINT,
            )
        if not first.ok:
            from_source = _install_from_sources(
                request, root=root, staging=staging, reporter=reporter, failure=first
            )
        return checked_result(request, staging, from_source)


def nothing_to_install(reporter: BuildReporter) -> BuildResult:
    """The build of an app without requirements.txt."""
    reporter.step("no requirements.txt: there are no dependencies to install")
    return BuildResult(python_packages=None)


def warn_about_pip_markers(target: TargetPlatform, reporter: BuildReporter) -> None:
    """pip judges `python_version`, `sys_platform`… by its own interpreter (pypa/pip#11664)."""
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    machine = platform.machine().lower()
    if (
        host == target.python_version
        and sys.platform == "linux"
        and machine in {target.arch, "amd64" if target.arch == "x86_64" else target.arch}
    ):
        return
    reporter.warn(
        f"pip evaluates environment markers for this machine (Python {host}, {sys.platform} "
        f"{machine}), not for the target (Python {target.python_version}, linux "
        f"{target.arch}); use --installer uv to resolve markers for the target"
    )


def _hash_mismatch(result: CommandResult) -> bool:
    """Whether pip or uv refused a download because of a hash in the requirements."""
    text = result.tail_text().lower()
    return any(marker in text for marker in _HASH_MARKERS)


def _install(
    request: BuildRequest,
    *,
    root: Path,
    staging: Path,
    reporter: BuildReporter,
    extra: tuple[str, ...] = (),
) -> CommandResult:
    shutil.rmtree(staging / PYTHON_PACKAGES, ignore_errors=True)
    argv = _in_staging(install_command(request, python=sys.executable, extra=extra), staging)
    return run_step(argv, cwd=root, reporter=reporter)


def _install_from_sources(
    request: BuildRequest,
    *,
    root: Path,
    staging: Path,
    reporter: BuildReporter,
    failure: CommandResult,
) -> tuple[SourcePackage, ...]:
    """The wheel-only install failed: build what has no wheel (pure Python only), reinstall."""
    from funcpub.build.sources import build_pure_wheels, find_source_packages

    assert request.requirements is not None
    reporter.step("some requirements have no wheel for the target; looking for sources")
    work = staging / WORK
    work.mkdir(parents=True, exist_ok=True)
    sources = find_source_packages(
        request.requirements,
        request.target,
        installer=request.installer,
        root=root,
        work=work,
        reporter=reporter,
    )
    if not sources:
        raise BuildError(
            failure_message("installing the requirements failed", failure),
            hint="check requirements.txt and the index settings; -v shows the full output",
        )
    reporter.step(f"building from source: {', '.join(s.pin for s in sources)}")
    if request.installer == "uv":
        _install_with_uv_builds(request, sources, root=root, staging=staging, reporter=reporter)
    else:
        wheels = work / "wheels"
        build_pure_wheels(sources, request.target, root=root, wheels=wheels, reporter=reporter)
        result = _install(
            request,
            root=root,
            staging=staging,
            reporter=reporter,
            extra=("--find-links", str(wheels)),
        )
        if not result.ok:
            raise BuildError(
                failure_message("installing the requirements failed", result),
                hint="check requirements.txt and the index settings; -v shows the full output",
            )
    return sources


def _install_with_uv_builds(
    request: BuildRequest,
    sources: tuple[SourcePackage, ...],
    *,
    root: Path,
    staging: Path,
    reporter: BuildReporter,
) -> None:
    """Let uv build exactly these packages (with the host interpreter), then check the tags."""
    from funcpub.build.distributions import read_distributions
    from funcpub.build.sources import NATIVE_HINT, check_pure

    extra = tuple(arg for source in sources for arg in ("--no-binary", source.name))
    result = _install(request, root=root, staging=staging, reporter=reporter, extra=extra)
    if not result.ok:
        names = ", ".join(source.pin for source in sources)
        raise BuildError(
            failure_message(f"building {names} from source failed", result), hint=NATIVE_HINT
        )
    built = {
        _canonical(dist.name): dist.tags
        for dist in read_distributions(staging / SITE_PACKAGES)
        if _canonical(dist.name) in {source.name for source in sources}
    }
    check_pure(sources, built, request.target)


def _canonical(name: str) -> str:
    return str(canonicalize_name(name))


def checked_result(
    request: BuildRequest,
    staging: Path,
    from_source: tuple[SourcePackage, ...],
    *,
    built_on_target: bool = False,
) -> BuildResult:
    """The finished `<staging>/.python_packages` without installer bookkeeping, once its
    binaries passed the check."""
    from funcpub.build.binaries import check_binaries
    from funcpub.build.bookkeeping import remove_bookkeeping
    from funcpub.build.distributions import python_mismatches, read_distributions

    site = staging / SITE_PACKAGES
    remove_bookkeeping(site)
    mismatches = python_mismatches(read_distributions(site), request.target)
    if mismatches:
        msg = (
            f"{len(mismatches)} distribution(s) do not support Python "
            f"{request.target.python_version}: {'; '.join(mismatches)}"
        )
        raise BuildError(msg, hint=REQUIRES_PYTHON_HINT)
    problems = check_binaries(site, request.target, built_on_target=built_on_target)
    if problems:
        shown = "\n".join(f"  {problem.describe()}" for problem in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        msg = f"{len(problems)} file(s) will not run on {request.target.describe()}:\n{shown}{more}"
        raise BuildError(msg, hint=BINARY_HINT)
    packages = staging / PYTHON_PACKAGES
    return BuildResult(
        python_packages=packages if packages.is_dir() else None,
        installed=tuple(dist.pin for dist in read_distributions(site)),
        built_from_source=tuple(source.pin for source in from_source),
    )
