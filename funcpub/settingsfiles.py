"""Reading the app settings a user wants in Azure: local.settings.json and `--settings-file`.

A settings file is either JSON or .env-style:

- `*.json`: local.settings.json's shape (`{"Values": {...}, "ConnectionStrings": {...}}`), a flat
  `{"KEY": "value"}` object, or the list `az functionapp config appsettings list` prints
  (`[{"name": ..., "value": ...}]`).
- anything else: `KEY=VALUE` lines (`export KEY=VALUE` too), `#` comments, values in single
  quotes (literal) or double quotes (`\\n`, `\\"`, `\\\\` escapes), unquoted values up to a ` #`.

Error messages name the file and line but never quote a value: these files hold secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from funcpub.connectionstrings import (
    ENVIRONMENT_PREFIXES,
    ConnectionString,
    canonical_type,
    inferred_type,
)
from funcpub.errors import ConfigError
from funcpub.project import read_json

LOCAL_SETTINGS: Final = "local.settings.json"
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True, kw_only=True)
class SettingsFile:
    """The settings one file asks for, in file order."""

    path: Path
    name: str  # how messages and the plan name it: local.settings.json, prod.env, ...
    values: Mapping[str, str]
    connection_strings: Mapping[str, ConnectionString] = field(default_factory=dict)


def read_local_settings(app_root: Path) -> SettingsFile | None:
    """The `Values` of the app's local.settings.json; None when there is no such file."""
    path = app_root / LOCAL_SETTINGS
    if not path.is_file():
        return None
    return read_settings_file(path, name=LOCAL_SETTINGS)


def read_settings_file(path: Path, *, name: str | None = None) -> SettingsFile:
    """A settings file (JSON or .env, by its suffix); ConfigError when it cannot be read."""
    display = name or path.name
    if not path.is_file():
        msg = f"settings file {path} does not exist"
        raise ConfigError(msg, hint="pass the path of a .env or JSON file")
    if path.suffix.lower() == ".json":
        return _json_file(path, display)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        msg = f"cannot read settings file {path}: {getattr(error, 'strerror', None) or error}"
        raise ConfigError(msg, hint="a settings file is UTF-8 text") from None
    return SettingsFile(path=path, name=display, values=parse_dotenv(text, display))


def _json_file(path: Path, display: str) -> SettingsFile:
    data, problem = read_json(path)
    if problem is not None:
        where = f"{display}:{problem.line}" if problem.line else display
        msg = f"{where} is not valid JSON: {problem.message}"
        raise ConfigError(msg, hint="fix the file; funcpub reads the settings to publish from it")
    if isinstance(data, list):
        return SettingsFile(path=path, name=display, values=_az_list(data, display))
    if not isinstance(data, dict):
        msg = f"{display} must hold a JSON object"
        raise ConfigError(msg, hint='e.g. {"Values": {"KEY": "value"}}')
    if data.get("IsEncrypted") is True:
        msg = f"{display} is encrypted (IsEncrypted: true)"
        raise ConfigError(msg, hint="decrypt it with `func settings decrypt` first")
    if "Values" in data:
        values = data["Values"] or {}
        if not isinstance(values, dict):
            msg = f"{display}: Values must be a JSON object"
            raise ConfigError(msg)
        return SettingsFile(
            path=path,
            name=display,
            values=_strings(values, display),
            connection_strings=_connection_strings(data.get("ConnectionStrings"), display),
        )
    return SettingsFile(path=path, name=display, values=_strings(data, display))


def _connection_strings(section: Any, display: str) -> dict[str, ConnectionString]:
    """local.settings.json's `ConnectionStrings`: `"name": "value"`, or an object with
    `ConnectionString` and an optional `ProviderName` (as Core Tools reads it) or ARM `Type`."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        msg = f"{display}: ConnectionStrings must be a JSON object"
        raise ConfigError(msg, hint='e.g. "ConnectionStrings": {"OrdersDb": "Server=..."}')
    return {
        str(name): _connection_string(str(name), item, display) for name, item in section.items()
    }


def _connection_string(name: str, item: Any, display: str) -> ConnectionString:
    if not isinstance(item, dict):
        value = _strings({name: item}, display)[name]
        return ConnectionString(value=value, type=inferred_type(value))
    value = _strings({name: item.get("ConnectionString")}, display)[name]
    provider = item.get("ProviderName")
    explicit = item.get("Type")
    if explicit is None:
        return ConnectionString(
            value=value, type=inferred_type(value, str(provider) if provider else None)
        )
    kind = canonical_type(str(explicit))
    if kind is None:
        msg = f"{display}: connection string {name} has an unknown Type {str(explicit)!r}"
        raise ConfigError(msg, hint=f"use one of {', '.join(ENVIRONMENT_PREFIXES)}")
    return ConnectionString(value=value, type=kind)


def _strings(values: Mapping[str, Any], display: str) -> dict[str, str]:
    result = {}
    for key, value in values.items():
        if value is None:
            result[str(key)] = ""
        elif isinstance(value, bool):
            result[str(key)] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            result[str(key)] = str(value)
        else:
            msg = f"{display}: the value of {key} must be a string, not {type(value).__name__}"
            raise ConfigError(msg, hint="app settings are strings; quote the value")
    return result


def _az_list(items: list[Any], display: str) -> dict[str, str]:
    """`[{"name": "K", "value": "V", "slotSetting": false}, ...]` (az ... appsettings list)."""
    result = {}
    for index, item in enumerate(items):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)):
            msg = f"{display}: item {index} must be an object with a name and a value"
            raise ConfigError(msg, hint='e.g. [{"name": "KEY", "value": "value"}]')
        result.update(_strings({item["name"]: item.get("value")}, display))
    return result


def parse_dotenv(text: str, display: str) -> dict[str, str]:
    """`KEY=VALUE` lines; ConfigError naming the line (never its content) when one is wrong."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("export ", "export\t")):
            line = line[len("export") :].lstrip()
        key, separator, rest = line.partition("=")
        key = key.strip()
        if not separator or not key or any(c.isspace() for c in key):
            msg = f"{display}:{number}: expected KEY=VALUE"
            raise ConfigError(msg, hint="one setting per line; comments start with #")
        values[key] = _dotenv_value(rest.strip(), f"{display}:{number}")
    return values


def _dotenv_value(text: str, where: str) -> str:
    if not text:
        return ""
    quote = text[0]
    if quote not in "'\"":
        comment = min((i for i in (text.find(" #"), text.find("\t#")) if i >= 0), default=-1)
        return (text[:comment] if comment >= 0 else text).rstrip()
    value, end = _quoted(text, quote, where)
    tail = text[end:].strip()
    if tail and not tail.startswith("#"):
        msg = f"{where}: unexpected text after the closing quote"
        raise ConfigError(msg, hint="quote the whole value")
    return value


def _quoted(text: str, quote: str, where: str) -> tuple[str, int]:
    """The value between the quotes at text[0] and its closing quote, and the index after it."""
    chars: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == quote:
            return "".join(chars), index + 1
        if char == "\\" and quote == '"' and index + 1 < len(text):
            following = text[index + 1]
            chars.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        chars.append(char)
        index += 1
    msg = f"{where}: the quoted value is not closed"
    raise ConfigError(msg, hint="values spanning several lines are not supported")


def parse_assignment(text: str, origin: str) -> tuple[str, str]:
    """`KEY=VALUE` from the command line (`--app-setting`); ConfigError when malformed."""
    key, separator, value = text.partition("=")
    key = key.strip()
    if not separator or not key:
        msg = f"{origin} must be KEY=VALUE, got a value without '='"
        raise ConfigError(msg, hint="e.g. --app-setting FUNCTIONS_WORKER_PROCESS_COUNT=4")
    return key, value
