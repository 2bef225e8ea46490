"""The dependency cache of docker builds: what keys them, and what a cached build gives back.

An image built from a Dockerfile is known by its content-hashed tag, so none of this needs an
engine (`--image` does: tests/e2e/test_docker_build.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from funcpub.build.base import BuildReporter, BuildResult, NullReporter
from funcpub.build.cache import CachePolicy, list_entries
from funcpub.build.cachekey import CacheKey, cache_key
from funcpub.build.pipeline import _dependencies
from funcpub.options import DockerSettings
from funcpub.strategies import BuildRequest
from funcpub.strategies.base import BuildEnvironment
from funcpub.strategies.docker import DockerStrategy
from funcpub.strategies.local import LocalStrategy
from funcpub.targets import target_platform

BASE = "debian-with-python:bookworm"


def docker_request(
    python: str = "3.11", installer: Literal["uv", "pip"] = "uv", **docker: object
) -> BuildRequest:
    settings = DockerSettings(**{"base_image": BASE, "network": "none", **docker})  # type: ignore[arg-type]
    return BuildRequest(
        target=target_platform(python),
        installer=installer,
        requirements="requirements.txt",
        docker=settings,
    )


def key(root: Path, build: BuildRequest, strategy: Literal["local", "docker"] = "docker") -> str:
    chosen = DockerStrategy() if strategy == "docker" else LocalStrategy()
    environment = chosen.environment(build, NullReporter())
    found = cache_key(build, root=root, strategy=strategy, environment=environment, environ={})
    assert isinstance(found, CacheKey)
    return found.digest


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An app's requirements, and a user cache of this test only."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("alpha\ncgreet==1.0\n", encoding="utf-8")
    return tmp_path / "app"


def test_the_same_docker_build_has_the_same_key_and_never_a_local_ones(app: Path) -> None:
    assert key(app, docker_request()) == key(app, docker_request())
    assert key(app, docker_request()) != key(app, docker_request(), "local")
    # The container always installs with its own pip: the host's installer is no input.
    assert key(app, docker_request(installer="pip")) == key(app, docker_request())


@pytest.mark.parametrize(
    "changes",
    [
        {"base_image": "debian-with-python:trixie"},  # BASE_IMAGE, a build argument
        {"network": "bridge"},
        {"network": None},  # the engine's default
        {"python": "3.12"},  # PYTHON_VERSION and the target
    ],
)
def test_what_changes_a_docker_key(app: Path, changes: dict[str, object]) -> None:
    assert key(app, docker_request(**changes)) != key(app, docker_request())  # type: ignore[arg-type]


def test_the_dockerfile_and_its_content_are_in_the_key(app: Path, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n", encoding="utf-8")
    own = key(app, docker_request(dockerfile=dockerfile))
    assert own != key(app, docker_request())  # funcpub's own Dockerfile
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN true\n", encoding="utf-8")
    assert key(app, docker_request(dockerfile=dockerfile)) != own


def test_the_environment_names_the_image_and_pull_renews_it() -> None:
    environment = DockerStrategy().environment(docker_request(pull=True), NullReporter())
    assert environment.identity["image"].startswith("funcpub-build:py3.11-")
    assert environment.describes.startswith("docker funcpub-build:py3.11-")
    assert "(network none), Linux x86_64" in environment.describes
    assert environment.renewed == "--pull"
    assert DockerStrategy().environment(docker_request(), NullReporter()).renewed is None


@dataclass
class Steps:
    """A reporter that keeps the steps."""

    steps: list[str] = field(default_factory=list)

    def step(self, message: str) -> None:
        self.steps.append(message)

    def warn(self, message: str) -> None:
        self.steps.append(message)

    def command(self, display: str) -> None:
        """Not kept."""

    def output(self, line: str) -> None:
        """Not kept."""

    def secret(self, value: str) -> None:
        """Not kept."""


@dataclass
class ImageBuild:
    """A docker-like strategy without an engine: records its builds, reports its image."""

    renewed: str | None = None
    builds: int = 0
    name: Literal["docker"] = "docker"
    ships_python_packages: bool = True

    def environment(self, request: BuildRequest, reporter: BuildReporter) -> BuildEnvironment:
        return BuildEnvironment(
            identity={"image": "img:1"}, describes="docker img:1", renewed=self.renewed
        )

    def build(
        self, request: BuildRequest, *, root: Path, staging: Path, reporter: BuildReporter
    ) -> BuildResult:
        self.builds += 1
        site = staging / ".python_packages" / "lib" / "site-packages"
        site.mkdir(parents=True)
        (site / "alpha.py").write_text("MESSAGE = 'hi'\n", encoding="utf-8")
        return BuildResult(
            python_packages=staging / ".python_packages", installed=("alpha==1.0",), image="img:1"
        )


def built(strategy: ImageBuild, app: Path, reporter: Steps) -> BuildResult:
    with tempfile.TemporaryDirectory() as scratch, _dependencies(
        strategy,  # type: ignore[arg-type]
        docker_request(),
        root=app,
        scratch=Path(scratch),
        policy=CachePolicy(),
        reporter=reporter,
    ) as cached:  # fmt: skip
        return cached.result


def test_a_cache_hit_keeps_the_image_and_pull_builds_again(app: Path) -> None:
    strategy, steps = ImageBuild(), Steps()
    first = built(strategy, app, steps)
    second = built(strategy, app, steps)
    assert strategy.builds == 1
    assert first.image == second.image == "img:1"
    assert second.installed == ("alpha==1.0",)
    assert steps.steps[-1].startswith("dependencies: from the cache")
    [entry] = list_entries()
    assert entry.describes == "docker img:1"
    assert entry.image == "img:1"
    renewing = ImageBuild(renewed="--pull")
    built(renewing, app, steps)
    assert renewing.builds == 1
    assert "dependencies: --pull, resolving them again" in steps.steps
