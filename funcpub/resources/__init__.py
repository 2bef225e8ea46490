"""Data shipped inside the package: defaults, version matrix, platforms, default excludes."""

from __future__ import annotations

import sys
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def read_text(name: str) -> str:
    """Return the text of the packaged resource file `name`."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


TOMLDecodeError = tomllib.TOMLDecodeError


def parse_toml(text: str) -> dict[str, Any]:
    """Parse TOML text (tomllib, or tomli on Python 3.10)."""
    return tomllib.loads(text)


def read_toml(name: str) -> dict[str, Any]:
    """Parse the packaged TOML resource `name`."""
    return parse_toml(read_text(name))
