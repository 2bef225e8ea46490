"""Fixtures of the reliability suites: a hermetic user cache, one emulator per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from funcpub.emulator import Emulator


@pytest.fixture(autouse=True)
def hermetic_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The publish lock lives in the user cache: keep it in the test's folder."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture(scope="module")
def shared_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator for a whole module: every test creates (and deletes) apps of its own."""
    with Emulator(tmp_path_factory.mktemp("emulator")) as running:
        yield running
