"""Build strategies: a Protocol plus a plain registry keyed by the `--build` value.

A strategy's module is imported when the registry first hands it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Final

from funcpub.options import StrategyName
from funcpub.strategies.base import SITE_PACKAGES, BuildRequest, BuildStrategy


# Each factory imports its strategy's module: a run loads only the strategy it builds with.
def _local() -> BuildStrategy:
    from funcpub.strategies.local import LocalStrategy

    return LocalStrategy()


def _docker() -> BuildStrategy:
    from funcpub.strategies.docker import DockerStrategy

    return DockerStrategy()


def _remote() -> BuildStrategy:
    from funcpub.strategies.remote import RemoteStrategy

    return RemoteStrategy()


def _none() -> BuildStrategy:
    from funcpub.strategies.none import NoBuildStrategy

    return NoBuildStrategy()


_FACTORIES: Final[Mapping[StrategyName, Callable[[], BuildStrategy]]] = {
    "local": _local,
    "docker": _docker,
    "remote": _remote,
    "none": _none,
}


@cache
def strategy_for(name: StrategyName) -> BuildStrategy:
    """The strategy `--build name` selects."""
    return _FACTORIES[name]()


__all__ = ["SITE_PACKAGES", "BuildRequest", "BuildStrategy", "strategy_for"]
