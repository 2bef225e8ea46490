"""The Azure Functions runtime <-> Python support matrix, as data (resources/versions.toml)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal, cast, get_args

from funcpub.resources import read_toml

SupportStatus = Literal["supported", "preview", "eol"]
_STATUSES: Final = frozenset(get_args(SupportStatus))
# "~4", "4", "4.x" and "4.0" all name runtime 4 (FUNCTIONS_EXTENSION_VERSION uses "~4").
_FUNCTIONS_VERSION = re.compile(r"~?(\d+)(?:\.x|\.\*|\.0)?")
# "3.11" and "3.11.7" both name Python 3.11.
_PYTHON_VERSION = re.compile(r"(\d+\.\d+)(?:\.\d+)?")


@dataclass(frozen=True, kw_only=True)
class Support:
    """How one Python version is supported on one runtime version."""

    status: SupportStatus
    end: datetime.date | None


def _support(entry: Mapping[str, Any]) -> Support:
    status = entry["status"]
    if status not in _STATUSES:  # pragma: no cover - guarded by the test of the data file
        msg = f"versions.toml: unknown status {status!r}"
        raise ValueError(msg)
    return Support(status=cast(SupportStatus, status), end=entry.get("end"))


@cache
def _matrix() -> dict[str, tuple[Support, dict[str, Support]]]:
    data = read_toml("versions.toml")["functions"]
    return {
        major: (_support(table), {py: _support(row) for py, row in table["python"].items()})
        for major, table in data.items()
    }


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def normalize_functions_version(value: str) -> str | None:
    """`~4`, `4.x` or `4` -> `4`; None if it doesn't look like a runtime version."""
    match = _FUNCTIONS_VERSION.fullmatch(value.strip())
    return match.group(1) if match else None


def normalize_python_version(value: str) -> str | None:
    """`3.11.7` or `3.11` -> `3.11`; None if it doesn't look like a Python version."""
    match = _PYTHON_VERSION.fullmatch(value.strip())
    return match.group(1) if match else None


def functions_versions() -> tuple[str, ...]:
    """Every runtime version in the matrix, oldest first (`"2"`, `"3"`, `"4"`)."""
    return tuple(sorted(_matrix(), key=_version_key))


def python_versions(functions_version: str) -> tuple[str, ...]:
    """The Python versions ever available on `functions_version`, oldest first; () if unknown."""
    major = normalize_functions_version(functions_version)
    if major is None or major not in _matrix():
        return ()
    return tuple(sorted(_matrix()[major][1], key=_version_key))


def runtime_status(functions_version: str) -> SupportStatus | None:
    """The support status of the runtime itself; None if unknown."""
    major = normalize_functions_version(functions_version)
    entry = _matrix().get(major) if major else None
    return entry[0].status if entry else None


def support(functions_version: str, python_version: str) -> Support | None:
    """Status and end date of the combination; None if the combination is unknown."""
    major = normalize_functions_version(functions_version)
    minor = normalize_python_version(python_version)
    if major is None or minor is None or major not in _matrix():
        return None
    return _matrix()[major][1].get(minor)


def support_status(functions_version: str, python_version: str) -> SupportStatus | None:
    """`supported`, `preview` or `eol`; None if the combination is unknown."""
    entry = support(functions_version, python_version)
    return entry.status if entry else None
