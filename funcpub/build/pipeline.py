"""Build, check, smoke-import and stage a package: what `pack` and `publish` run before zipping.

Everything happens in a temporary folder that is removed afterwards (also on failure and on
Ctrl-C), so a failed build leaves the project, and any `.python_packages` in it, as it was.
Only `write_python_packages` changes the project, and only after everything passed.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from funcpub.build.base import BuildReporter, BuildResult
from funcpub.build.cache import CachedBuild, CachePolicy, cached_build
from funcpub.build.cachekey import CacheKey, Uncacheable, cache_key, exact_pins
from funcpub.build.smoke import SmokeMode, SmokeOutcome, smoke_import
from funcpub.build.staging import package_files, write_python_packages
from funcpub.container.spec import ImageSpec, image_spec
from funcpub.ignore import FileSelection, IncludedFile
from funcpub.options import Options, StrategyName
from funcpub.package import DeflatedStore
from funcpub.project import FunctionProject
from funcpub.strategies import BuildRequest, BuildStrategy, strategy_for
from funcpub.strategies.base import BuildEnvironment, build_request


@dataclass(frozen=True, kw_only=True)
class BuildOptions:
    """How to build beyond the strategy: smoke import and writing back into the project."""

    smoke: SmokeMode = "auto"
    write_python_packages: bool = False
    cache: CachePolicy = field(default_factory=CachePolicy)


@dataclass(frozen=True, kw_only=True)
class StagedPackage:
    """A built app, ready to zip while the context that made it is open.

    `check` runs what remains before the package may be used: the smoke import, then
    `--write-python-packages`; call it once, while the zip is written (it mostly waits for
    another process), and put the zip in place only if it returns.
    """

    files: tuple[IncludedFile, ...]
    result: BuildResult
    check: Callable[[], SmokeOutcome]
    store: DeflatedStore | None = None  # the cached dependencies' deflated entries


def default_smoke(strategy: StrategyName) -> SmokeMode:
    """Local and docker builds import the app when they can; `none` only when asked."""
    return "auto" if strategy in ("local", "docker") else "off"


@contextmanager
def staged_package(
    project: FunctionProject,
    options: Options,
    selection: FileSelection,
    *,
    build: BuildOptions,
    reporter: BuildReporter,
) -> Iterator[StagedPackage]:
    """Run the build in a temporary folder; yield the files to zip and the checks to run."""
    strategy = strategy_for(options.build)
    request = build_request(project, options)
    with (
        tempfile.TemporaryDirectory(prefix="funcpub-build-") as scratch,
        _dependencies(
            strategy, request, root=project.root, scratch=Path(scratch), policy=build.cache,
            reporter=reporter,
        ) as built,
    ):  # fmt: skip
        result = built.result
        for warning in result.warnings:
            reporter.warn(warning)
        files = package_files(project.root, selection, result)

        def check() -> SmokeOutcome:
            smoke = smoke_import(
                files,
                target=request.target,
                mode=build.smoke,
                root=project.root,
                scratch=Path(scratch, "smoke"),
                reporter=reporter,
                image=_build_image(request, result),
                reusable_dependencies=built.in_cache,
            )
            if build.write_python_packages:
                _write_back(project.root, result, reporter)
            return smoke

        yield StagedPackage(files=files, result=result, check=check, store=built.store)


@contextmanager
def _dependencies(
    strategy: BuildStrategy,
    request: BuildRequest,
    *,
    root: Path,
    scratch: Path,
    policy: CachePolicy,
    reporter: BuildReporter,
) -> Iterator[CachedBuild]:
    """The strategy's build, from the dependency cache when it can be.

    Strategies that install (local, docker) name their `BuildEnvironment`, which the key
    includes; the others are never cached.
    """

    def build(staging: Path) -> BuildResult:
        return strategy.build(request, root=root, staging=staging, reporter=reporter)

    cached = _cache_key(strategy, request, root=root, policy=policy, reporter=reporter)
    if cached is None or request.requirements is None:
        staging = scratch / "staging"
        staging.mkdir()
        yield CachedBuild(result=build(staging))
        return
    key, environment = cached
    if environment.renewed is not None:
        policy = dataclasses.replace(policy, refresh=True, refreshed_by=environment.renewed)
    requirements = root / request.requirements
    with cached_build(
        build,
        key,
        policy=policy,
        describes=environment.describes,
        exact=lambda result: exact_pins(requirements, result.installed),
        reporter=reporter,
    ) as built:
        yield built


def _cache_key(
    strategy: BuildStrategy,
    request: BuildRequest,
    *,
    root: Path,
    policy: CachePolicy,
    reporter: BuildReporter,
) -> tuple[CacheKey, BuildEnvironment] | None:
    """The build's key and what it installs with; None when the build is not cached."""
    if not policy.use or request.requirements is None:
        return None
    environment = strategy.environment(request, reporter)
    if environment is None:
        return None
    key = cache_key(
        request, root=root, strategy=strategy.name, environment=environment, environ=os.environ
    )
    if isinstance(key, Uncacheable):
        reporter.step(f"dependency cache not used: {key.reason}")
        return None
    return None if key is None else (key, environment)


def _build_image(request: BuildRequest, result: BuildResult) -> ImageSpec | None:
    """How the image a docker build ran in is made (again, when it was removed since)."""
    if result.image is None:
        return None
    return image_spec(request.target.python_version, request.docker)


def _write_back(root: Path, result: BuildResult, reporter: BuildReporter) -> None:
    built = result.python_packages
    if built is None or built == root / ".python_packages":
        reporter.step("--write-python-packages: nothing was built, the project is unchanged")
        return
    reporter.step(f"writing the build to {root / '.python_packages'}")
    write_python_packages(root, built)
