"""What `pack` and `publish` share about builds: options, progress, and the staged package."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

import typer

from funcpub.build.cache import CachePolicy
from funcpub.build.pipeline import BuildOptions, StagedPackage, default_smoke, staged_package
from funcpub.build.smoke import SmokeMode
from funcpub.console import Console
from funcpub.errors import EXIT_INTERRUPTED, ConfigError, FuncpubError
from funcpub.ignore import FileSelection
from funcpub.options import Options, StrategyName, inapplicable
from funcpub.package import Artifact, zip_timestamp, zip_writing
from funcpub.project import FunctionProject

Smoke = Annotated[
    bool | None,
    typer.Option(
        "--smoke/--no-smoke",
        help="Import the app's functions with the target Python before shipping "
        "[default: local and docker builds, when this machine or the build image can run it].",
        show_default=False,
    ),
]
WritePythonPackages = Annotated[
    bool,
    typer.Option(
        "--write-python-packages",
        help="Also replace the app's .python_packages with the build (an atomic swap).",
    ),
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show every line the build tools print.")
]
NoCache = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Build the dependencies afresh; neither read nor fill the cache."
    ),
]
Refresh = Annotated[
    bool,
    typer.Option(
        "--refresh", help="Resolve the dependencies again and replace their cached build."
    ),
]
CacheTtl = Annotated[
    str,
    typer.Option(
        "--cache-ttl",
        help="How long a cached build of requirements with open versions is reused before "
        "they are resolved again: 30m, 24h, 7d, 0 (hashed or fully pinned ones never expire).",
    ),
]
_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, kw_only=True)
class BuildChoices:
    """The build options `pack` and `publish` share, as given on the command line."""

    smoke: bool | None  # None: the strategy's default
    write_python_packages: bool
    verbose: bool
    cache: CachePolicy


def check_build_choices(choices: BuildChoices, build: StrategyName) -> None:
    """ConfigError for a build option that the build would silently ignore."""
    if choices.smoke and build == "remote":
        raise inapplicable("--smoke", build, ("local", "docker", "none"))
    if choices.write_python_packages and build in ("remote", "none"):
        raise inapplicable("--write-python-packages", build, ("local", "docker"))
    cache = choices.cache
    for flag, given in (("--no-cache", not cache.use), ("--refresh", cache.refresh)):
        if given and build in ("remote", "none"):
            raise inapplicable(flag, build, ("local", "docker"))


class BuildProgress:
    """The console as a build reporter: every output line with -v, else a transient status."""

    def __init__(self, console: Console, *, verbose: bool) -> None:
        self._console = console
        self._verbose = verbose

    def step(self, message: str) -> None:
        """A stage starts."""
        self._console.step(message)

    def warn(self, message: str) -> None:
        """A warning."""
        self._console.warn(message)

    def command(self, display: str) -> None:
        """A command starts."""
        self._console.command(display)

    def output(self, line: str) -> None:
        """A line of its output."""
        if self._verbose:
            self._console.output(line)
        else:
            self._console.status(line)

    def secret(self, value: str) -> None:
        """Never printed."""
        self._console.secret(value)


def smoke_mode(smoke: bool | None, options: Options) -> SmokeMode:
    """--smoke: required; --no-smoke: off; neither: the strategy's default."""
    if smoke is None:
        return default_smoke(options.build)
    return "on" if smoke else "off"


def cache_policy(*, no_cache: bool, refresh: bool, cache_ttl: str) -> CachePolicy:
    """The cache options as a policy; ConfigError for a duration funcpub cannot read."""
    match = _DURATION.fullmatch(cache_ttl.strip())
    if match is None:
        msg = f"--cache-ttl must be a duration such as 30m, 24h or 7d, not {cache_ttl!r}"
        raise ConfigError(
            msg, hint="a number with s, m, h or d; 0 resolves open requirements every time"
        )
    if no_cache and refresh:
        msg = "--no-cache and --refresh cannot be combined"
        raise ConfigError(msg, hint="--no-cache already builds afresh; drop one of them")
    ttl = float(match.group(1)) * _UNITS[match.group(2)]
    return CachePolicy(use=not no_cache, refresh=refresh, ttl=ttl)


class BuildInterruptedError(FuncpubError):
    """Ctrl-C while building: the build's temporary files are gone (exit 130)."""

    exit_code = EXIT_INTERRUPTED
    kind = "interrupted"


@contextmanager
def built_package(
    project: FunctionProject,
    options: Options,
    selection: FileSelection,
    console: Console,
    choices: BuildChoices,
) -> Iterator[StagedPackage]:
    """Build and check the app, report the outcome, and yield the files to zip."""
    build = BuildOptions(
        smoke=smoke_mode(choices.smoke, options),
        write_python_packages=choices.write_python_packages,
        cache=choices.cache,
    )
    progress = BuildProgress(console, verbose=choices.verbose)
    try:
        with staged_package(project, options, selection, build=build, reporter=progress) as staged:
            console.end_status()
            _summarize(console, staged)
            yield staged
    except KeyboardInterrupt:  # the build folder and any unfinished cache entry are gone by now
        msg = "interrupted while building: no temporary file or partial cache entry is left behind"
        hint = "nothing was uploaded and nothing was deployed; run the command again"
        raise BuildInterruptedError(msg, hint=hint) from None
    finally:
        console.end_status()


def write_package(staged: StagedPackage, destination: Path, console: Console) -> Artifact:
    """Zip the staged files to `destination` (copying the cached dependencies' entries) while
    the checks run; the zip replaces `destination` only once they passed."""
    with zip_writing(
        staged.files, destination, timestamp=zip_timestamp(), store=staged.store
    ) as finish:
        smoke = staged.check()
        console.end_status()
        if smoke.ran:
            console.step(f"smoke import passed ({smoke.detail})")
        return finish()


def _summarize(console: Console, staged: StagedPackage) -> None:
    result = staged.result
    if result.installed:
        console.step(f"dependencies: {', '.join(result.installed)}")
    if result.built_from_source:
        console.step(f"built from source (pure Python): {', '.join(result.built_from_source)}")
