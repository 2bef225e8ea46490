"""Build strategies: a Protocol plus a plain registry keyed by the `--build` value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from funcpub.options import StrategyName
from funcpub.strategies.base import SITE_PACKAGES, BuildRequest, BuildStrategy
from funcpub.strategies.docker import DockerStrategy
from funcpub.strategies.local import LocalStrategy
from funcpub.strategies.none import NoBuildStrategy
from funcpub.strategies.remote import RemoteStrategy

STRATEGIES: Final[Mapping[StrategyName, BuildStrategy]] = {
    "local": LocalStrategy(),
    "docker": DockerStrategy(),
    "remote": RemoteStrategy(),
    "none": NoBuildStrategy(),
}

__all__ = ["SITE_PACKAGES", "STRATEGIES", "BuildRequest", "BuildStrategy"]
