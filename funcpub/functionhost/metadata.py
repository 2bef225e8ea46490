"""Functions as the host knows them, and how it reads a v1 app's `function.json` files.

A v2 app's functions come from its worker's indexing; a v1 app's from `<function>/function.json`,
with the host's own checks and messages (one trigger, an existing script file).
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

FUNCTION_JSON: Final = "function.json"
HTTP_TRIGGER: Final = "httptrigger"
DEFAULT_AUTH_LEVEL: Final = "function"


@dataclass(frozen=True, kw_only=True)
class IndexedFunction:
    """A function as the host indexed it."""

    name: str
    trigger: str  # binding type, e.g. "httpTrigger", "timerTrigger"
    route: str | None  # http only: the route template (default: the function name)
    methods: tuple[str, ...]  # upper-case; () = all
    auth_level: str | None  # "anonymous" | "function" | "admin" (http only)
    bindings: tuple[Mapping[str, Any], ...] = field(hash=False)  # as the host received them
    script: str  # relpath of the script file

    @property
    def is_http(self) -> bool:
        """Whether an HTTP request triggers it."""
        return self.trigger.lower() == HTTP_TRIGGER


@dataclass(frozen=True, kw_only=True)
class V1Function:
    """A v1 function as the host read it from function.json."""

    indexed: IndexedFunction
    directory: Path
    script_file: Path
    entry_point: str


class MetadataError(Exception):
    """A function.json the host cannot use."""


def indexed_function(
    name: str, bindings: Sequence[Mapping[str, Any]], script: str
) -> IndexedFunction:
    """A function from its bindings: the trigger, and for HTTP its route, methods and auth."""
    frozen = tuple(types.MappingProxyType(dict(b)) for b in bindings)
    trigger = next((b for b in frozen if str(b.get("type", "")).lower().endswith("trigger")), None)
    trigger_type = str(trigger.get("type", "")) if trigger is not None else ""
    http = trigger if trigger_type.lower() == HTTP_TRIGGER else None
    return IndexedFunction(
        name=name,
        trigger=trigger_type,
        route=(str(http.get("route") or "") or name) if http is not None else None,
        methods=tuple(str(m).upper() for m in http.get("methods") or ())
        if http is not None
        else (),
        auth_level=str(http.get("authLevel") or DEFAULT_AUTH_LEVEL).lower()
        if http is not None
        else None,
        bindings=frozen,
        script=script,
    )


def read_v1_metadata(wwwroot: Path) -> tuple[list[V1Function], list[str]]:
    """Every `*/function.json` of a v1 app, and the load errors of the unusable ones."""
    functions: list[V1Function] = []
    errors: list[str] = []
    for directory in sorted(p for p in wwwroot.iterdir() if (p / FUNCTION_JSON).is_file()):
        try:
            functions.append(_read_function_json(wwwroot, directory))
        except MetadataError as exc:
            errors.append(f"Function '{directory.name}' load error: {exc}")
    return functions, errors


def _read_function_json(wwwroot: Path, directory: Path) -> V1Function:
    try:
        data = json.loads((directory / FUNCTION_JSON).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        msg = f"Unable to parse {FUNCTION_JSON}: {exc}"
        raise MetadataError(msg) from None
    bindings = data.get("bindings") if isinstance(data, dict) else None
    if not isinstance(bindings, list) or not all(isinstance(b, dict) for b in bindings):
        msg = f"{FUNCTION_JSON} must have a 'bindings' array of objects."
        raise MetadataError(msg)
    _check_triggers(bindings)
    script_file = _script_file(directory, data.get("scriptFile"))
    script = os.path.relpath(script_file, wwwroot).replace(os.sep, "/")
    return V1Function(
        indexed=indexed_function(directory.name, bindings, script),
        directory=directory,
        script_file=script_file,
        entry_point=str(data.get("entryPoint") or "main"),
    )


def _check_triggers(bindings: list[Mapping[str, Any]]) -> None:
    triggers = [b for b in bindings if str(b.get("type", "")).lower().endswith("trigger")]
    if not triggers:
        msg = "No trigger binding specified. A function must have a trigger input binding."
        raise MetadataError(msg)
    if len(triggers) > 1:
        msg = (
            "Multiple trigger bindings defined. A function can only have a single trigger binding."
        )
        raise MetadataError(msg)


def _script_file(directory: Path, script_file: object) -> Path:
    if script_file:
        path = Path(os.path.normpath(directory.absolute() / str(script_file)))
        if not path.is_file():
            msg = (
                "Invalid script file name configuration. The 'scriptFile' property is set to a "
                "file that does not exist."
            )
            raise MetadataError(msg)
        return path
    path = directory / "__init__.py"
    if not path.is_file():
        msg = (
            "Unable to determine the primary function script. Make sure at least one script file "
            "is present. Try renaming your entry point script to 'run' or alternatively you can "
            "specify the name of the entry point script explicitly by adding a 'scriptFile' "
            "property to your function metadata."
        )
        raise MetadataError(msg)
    return path.absolute()
