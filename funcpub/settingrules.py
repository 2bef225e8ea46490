"""Rules for the app settings a user publishes: names, known keys and their ranges, local-only
values, and the worker-indexing pin check. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from funcpub.project import ProgrammingModel

WORKER_RUNTIME: Final = "FUNCTIONS_WORKER_RUNTIME"
EXTENSION_VERSION: Final = "FUNCTIONS_EXTENSION_VERSION"
FEATURE_FLAGS: Final = "AzureWebJobsFeatureFlags"
WORKER_INDEXING_FLAG: Final = "EnableWorkerIndexing"
# The Functions host indexes v2-model (function_app.py) apps through the worker by default from
# v4.28.0 on (azure-functions-host#9574, release notes of v4.28.0; rolled out to Azure by January
# 2024). An app pinned to an older 4.x host needs AzureWebJobsFeatureFlags=EnableWorkerIndexing.
FIRST_HOST_INDEXING_BY_DEFAULT: Final = (4, 28)

# Linux app settings: letters, digits, `_`, `.` and `-`; `:` (nested configuration) is written
# `__` there (https://learn.microsoft.com/azure/app-service/configure-common#configure-app-settings).
_SETTING_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_BOOLEANS: Final = ("0", "1", "true", "false")
_FEATURE_FLAG = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_EXTENSION_VERSION = re.compile(r"~(\d+)|(\d+)(?:\.(\d+)){1,3}")
_PINNED_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+){0,2}")

# Endpoints that exist only on the developer's machine.
_LOCAL_HOST = re.compile(
    r"(?:^|[/=@;,\s(])(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1\]|host\.docker\.internal"
    r"|\(localdb\))(?=$|[:/;,\s)\\])",
    re.IGNORECASE,
)
_DEVELOPMENT_STORAGE = re.compile(r"UseDevelopmentStorage\s*=\s*true", re.IGNORECASE)
_AZURITE_ACCOUNT = re.compile(r"AccountName\s*=\s*devstoreaccount1", re.IGNORECASE)


def name_problem(key: str) -> str | None:
    """Why `key` cannot be a Linux app setting name; None when it can."""
    if ":" in key:
        return f"{key!r} contains ':', which Linux app setting names cannot hold"
    if not _SETTING_NAME.fullmatch(key):
        return f"{key!r} is not a valid app setting name (letters, digits, '_', '.', '-')"
    return None


def name_hint(key: str) -> str:
    """What to do about a bad name."""
    if ":" in key:
        return f"write it {key.replace(':', '__')!r}: the host reads '__' as ':'"
    return "use letters, digits, '_', '.' and '-' only"


def _integer(low: int, high: int | None) -> Callable[[str], str | None]:
    span = f"{low}-{high}" if high is not None else f"{low} or more"

    def check(value: str) -> str | None:
        text = value.strip()
        if not text.isdigit() or not (low <= int(text) and (high is None or int(text) <= high)):
            return f"must be a whole number {span}"
        return None

    return check


def _boolean(value: str) -> str | None:
    if value.strip().lower() not in _BOOLEANS:
        return "must be 0, 1, true or false"
    return None


def _python_runtime(value: str) -> str | None:
    return None if value.strip().lower() == "python" else "must be python for a Python app"


def _extension_version(value: str) -> str | None:
    if not _EXTENSION_VERSION.fullmatch(value.strip()):
        return "must be ~4 or a pinned host version such as 4.1036.1"
    return None


def _feature_flags(value: str) -> str | None:
    flags = [flag.strip() for flag in value.split(",")]
    if not all(_FEATURE_FLAG.fullmatch(flag) for flag in flags):
        return "must be comma-separated flag names such as EnableWorkerIndexing"
    return None


# Settings whose values funcpub checks before publishing (the Python worker's and host's own
# limits: Azure Functions app settings reference; azure-functions-python-worker constants).
KNOWN_SETTINGS: Final[Mapping[str, Callable[[str], str | None]]] = {
    "FUNCTIONS_WORKER_PROCESS_COUNT": _integer(1, 10),
    "PYTHON_THREADPOOL_THREAD_COUNT": _integer(1, None),
    "PYTHON_ENABLE_WORKER_EXTENSIONS": _boolean,
    "PYTHON_ISOLATE_WORKER_DEPENDENCIES": _boolean,
    "PYTHON_ENABLE_DEBUG_LOGGING": _boolean,
    "PYTHON_ENABLE_OPENTELEMETRY": _boolean,
    "PYTHON_ENABLE_INIT_INDEXING": _boolean,
    "FUNCTIONS_WORKER_SHARED_MEMORY_DATA_TRANSFER_ENABLED": _boolean,
    "AzureWebJobsDisableHomepage": _boolean,
    "SCM_DO_BUILD_DURING_DEPLOYMENT": _boolean,
    "ENABLE_ORYX_BUILD": _boolean,
    FEATURE_FLAGS: _feature_flags,
    WORKER_RUNTIME: _python_runtime,
    EXTENSION_VERSION: _extension_version,
}
_KNOWN_BY_UPPER: Final = {key.upper(): key for key in KNOWN_SETTINGS}


def canonical_key(key: str) -> str:
    """The known spelling of `key` (Azure compares setting names case-insensitively)."""
    return _KNOWN_BY_UPPER.get(key.upper(), key)


def value_problem(key: str, value: str) -> str | None:
    """Why `value` is wrong for the known setting `key` (None if fine or `key` is not known).

    Only well-known, non-secret settings are checked, so the message may quote the value.
    """
    check = KNOWN_SETTINGS.get(canonical_key(key))
    if check is None:
        return None
    problem = check(value)
    return None if problem is None else f"{canonical_key(key)} {problem}, got {value!r}"


def local_only_reason(key: str, value: str) -> str | None:
    """Why `value` works only on the developer's machine; None when it may go to Azure.

    The reason never quotes the value (it may be a connection string with a key in it).
    """
    if canonical_key(key) == WORKER_RUNTIME and _python_runtime(value):
        return "not the python worker runtime"
    if _DEVELOPMENT_STORAGE.search(value):
        return "the local storage emulator (UseDevelopmentStorage)"
    if _AZURITE_ACCOUNT.search(value):
        return "the local storage emulator (Azurite's devstoreaccount1)"
    if _LOCAL_HOST.search(value):
        return "points at this machine (localhost)"
    return None


def pinned_host(value: str | None) -> tuple[int, int] | None:
    """(major, minor) of a pinned FUNCTIONS_EXTENSION_VERSION such as 4.25.2; None for ~4."""
    match = _PINNED_VERSION.fullmatch((value or "").strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def has_worker_indexing_flag(flags: str | None) -> bool:
    """Whether AzureWebJobsFeatureFlags turns worker indexing on."""
    return WORKER_INDEXING_FLAG.lower() in {f.strip().lower() for f in (flags or "").split(",")}


def worker_indexing_warning(model: ProgrammingModel, settings: Mapping[str, str]) -> str | None:
    """A warning when a v2-model app is pinned to a host that does not index it by default.

    Only an explicit pin (FUNCTIONS_EXTENSION_VERSION=4.x.y older than 4.28) is judged: with `~4`
    Azure runs a current host, which indexes v2 apps without the flag.
    """
    if model not in ("v2", "mixed"):
        return None
    values = {key.upper(): value for key, value in settings.items()}
    pin = pinned_host(values.get(EXTENSION_VERSION.upper()))
    if pin is None or pin >= FIRST_HOST_INDEXING_BY_DEFAULT:
        return None
    if has_worker_indexing_flag(values.get(FEATURE_FLAGS.upper())):
        return None
    version = values[EXTENSION_VERSION.upper()].strip()
    first = ".".join(str(part) for part in FIRST_HOST_INDEXING_BY_DEFAULT)
    return (
        f"{EXTENSION_VERSION}={version} pins a Functions host older than {first}.0, which indexes"
        f" v2-model apps (function_app.py) only with {FEATURE_FLAGS}={WORKER_INDEXING_FLAG}:"
        f" the app would start with 0 functions; add --app-setting"
        f" {FEATURE_FLAGS}={WORKER_INDEXING_FLAG}, or use {EXTENSION_VERSION}=~4"
    )
