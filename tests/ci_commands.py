"""Parse CI logging commands the way the agents do, for tests.

Azure Pipelines: the agent finds `##vso[area.event k=v;…]data` in a line and unescapes the
properties and the data (microsoft/azure-pipelines-agent, Command.TryParse); formatting commands
(`##[group]`) are whole lines. GitHub Actions: `::name k=v,…::message` at the start of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

_AZURE: Final = re.compile(r"##vso\[(?P<name>[\w.]+)(?: (?P<props>[^\]]*))?\](?P<data>.*)")
_GITHUB: Final = re.compile(r"^::(?P<name>[\w-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


@dataclass(frozen=True)
class LoggingCommand:
    """One parsed command and the index of its line in the output."""

    name: str
    properties: dict[str, str] = field(hash=False)
    data: str
    index: int


def _azure_unescape(text: str, *, prop: bool) -> str:
    if prop:
        text = text.replace("%3B", ";").replace("%5D", "]")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%AZP25", "%")


def _github_unescape(text: str, *, prop: bool) -> str:
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def azure_commands(lines: list[str]) -> list[LoggingCommand]:
    """Every `##vso[...]` command, in order."""
    found = []
    for index, line in enumerate(lines):
        match = _AZURE.search(line)
        if not match:
            continue
        props: dict[str, str] = {}
        for pair in filter(None, (match.group("props") or "").split(";")):
            key, _, value = pair.partition("=")
            props[key.lower()] = _azure_unescape(value, prop=True)
        data = _azure_unescape(match.group("data"), prop=False)
        found.append(LoggingCommand(match.group("name"), props, data, index))
    return found


def github_commands(lines: list[str]) -> list[LoggingCommand]:
    """Every `::name::` workflow command, in order."""
    found = []
    for index, line in enumerate(lines):
        match = _GITHUB.match(line.lstrip())
        if not match:
            continue
        props: dict[str, str] = {}
        for pair in filter(None, (match.group("props") or "").split(",")):
            key, _, value = pair.partition("=")
            props[key] = _github_unescape(value, prop=True)
        data = _github_unescape(match.group("data"), prop=False)
        found.append(LoggingCommand(match.group("name"), props, data, index))
    return found


def github_outputs(text: str) -> dict[str, str]:
    """The `name<<DELIMITER ... DELIMITER` entries of a $GITHUB_OUTPUT file."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        value: list[str] = []
        for item in lines:
            if item == delimiter:
                break
            value.append(item)
        outputs[name] = "\n".join(value)
    return outputs


def first_index(lines: list[str], needle: str) -> int:
    """The index of the first line containing `needle` (AssertionError when none does)."""
    for index, line in enumerate(lines):
        if needle in line:
            return index
    msg = f"no line contains {needle!r}"
    raise AssertionError(msg)
