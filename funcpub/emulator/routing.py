"""Route templates as the Functions host matches them (ASP.NET routing under `/api/`).

Literal segments, `{name}` parameters with constraints (`{id:int}`, `{x:regex(...)}`, ...),
optional `{name?}` and defaults, catch-all `{*rest}`, `{{`/`}}` escapes; literals match
case-insensitively and the most specific template wins.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from funcpub.functionhost import IndexedFunction


@dataclass(frozen=True, kw_only=True)
class _Param:
    name: str
    constraints: tuple[str, ...]
    optional: bool
    catch_all: bool
    default: str | None


_Part = str | _Param
_Segment = tuple[_Part, ...]


def match_route(
    functions: Sequence[IndexedFunction], method: str, path: str
) -> tuple[IndexedFunction, dict[str, str]] | None:
    """The HTTP function for `method` and `path` (what follows "/api/"), with its route values.

    Templates follow ASP.NET Core routing as the host uses it: case-insensitive literals,
    `{name}`, constraints such as `{id:int}`, `{x:alpha}`, `{g:guid}`, optional `{name?}`,
    defaults `{name=value}`, catch-all `{*rest}`. More specific routes win (literal segments,
    then constrained, then plain, then catch-all parameters); a method outside a function's
    `methods` does not match it.
    """
    segments = _path_segments(path)
    routes = [(f, _route(f)) for f in functions if f.is_http and _allows(f, method)]
    parsed = [(function, template) for function, template in routes if template is not None]
    for function, template in sorted(parsed, key=lambda item: _precedence(item[1])):
        values = _match(template, segments)
        if values is not None:
            return function, values
    return None


def _route(function: IndexedFunction) -> tuple[_Segment, ...] | None:
    """The parsed route template; None if the host could not register it."""
    try:
        return _parse_template(function.route if function.route is not None else function.name)
    except ValueError:
        return None


def _allows(function: IndexedFunction, method: str) -> bool:
    return not function.methods or method.upper() in function.methods


def _path_segments(path: str) -> tuple[str, ...]:
    path = path.split("?", 1)[0].strip("/")
    return tuple(urllib.parse.unquote(s) for s in path.split("/")) if path else ()


def _precedence(template: tuple[_Segment, ...]) -> tuple[int, ...]:
    """ASP.NET's inbound precedence digits: lower sorts first."""
    return tuple(_segment_digit(s) for s in template)


def _segment_digit(segment: _Segment) -> int:
    if len(segment) > 1:
        return 2
    part = segment[0]
    if isinstance(part, str):
        return 1
    digit = 5 if part.catch_all else 3
    return digit - 1 if part.constraints else digit


@functools.lru_cache(maxsize=256)
def _parse_template(template: str) -> tuple[_Segment, ...]:
    text = template.strip().removeprefix("~").strip("/")
    return tuple(_parse_segment(s) for s in _split_segments(text)) if text else ()


def _split_segments(text: str) -> list[str]:
    """Split at "/" outside parameters; "{{" and "}}" are escaped braces."""
    pieces: list[str] = []
    start, inside, i = 0, False, 0
    while i < len(text):
        if text.startswith(("{{", "}}"), i):
            i += 2
            continue
        inside = (inside or text[i] == "{") and text[i] != "}"
        if text[i] == "/" and not inside:
            pieces.append(text[start:i])
            start = i + 1
        i += 1
    return [*pieces, text[start:]]


def _parse_segment(text: str) -> _Segment:
    parts: list[_Part] = []
    literal, i = "", 0
    while i < len(text):
        if text.startswith(("{{", "}}"), i):
            literal, i = literal + text[i], i + 2
        elif text[i] == "{":
            parts += [literal] if literal else []
            inner, i = _read_parameter(text, i + 1)
            parts.append(_parse_param(inner))
            literal = ""
        else:
            literal, i = literal + text[i], i + 1
    parts += [literal] if literal else []
    if not parts:
        msg = f"empty route segment in {text!r}"
        raise ValueError(msg)
    return tuple(parts)


def _read_parameter(text: str, start: int) -> tuple[str, int]:
    inner, i = "", start
    while i < len(text):
        if text.startswith(("{{", "}}"), i):
            inner, i = inner + text[i], i + 2
        elif text[i] == "}":
            return inner, i + 1
        else:
            inner, i = inner + text[i], i + 1
    msg = f"unclosed route parameter in {text!r}"
    raise ValueError(msg)


def _parse_param(text: str) -> _Param:
    catch_all = text.startswith("*")
    text = text.lstrip("*")
    optional = text.endswith("?")
    pieces = _split_outside_parentheses(text.removesuffix("?"), ":")
    last, default = _split_outside_parentheses(pieces[-1], "=", limit=1), None
    if len(last) == 2:
        pieces[-1], default = last
    return _Param(
        name=pieces[0],
        constraints=tuple(pieces[1:]),
        optional=optional,
        catch_all=catch_all,
        default=default,
    )


def _split_outside_parentheses(text: str, separator: str, limit: int = -1) -> list[str]:
    pieces: list[str] = []
    start, depth = 0, 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == separator and depth == 0 and limit != len(pieces):
            pieces.append(text[start:i])
            start = i + 1
    return [*pieces, text[start:]]


def _match(template: tuple[_Segment, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    values: dict[str, str] = {}
    for index, segment in enumerate(template):
        param = segment[0] if len(segment) == 1 and isinstance(segment[0], _Param) else None
        if param is not None and param.catch_all:
            return _match_rest(param, "/".join(segments[index:]), values)
        if index >= len(segments):
            if param is None or not (param.optional or param.default is not None):
                return None
            if param.default is not None:
                values[param.name] = param.default
            continue
        matched = _match_segment(segment, segments[index])
        if matched is None:
            return None
        values.update(matched)
    return values if len(segments) <= len(template) else None


def _match_rest(param: _Param, rest: str, values: dict[str, str]) -> dict[str, str] | None:
    value = rest or param.default
    if value is None:
        return values
    if rest and not _satisfies(param, rest):
        return None
    return {**values, param.name: value}


def _match_segment(segment: _Segment, text: str) -> dict[str, str] | None:
    pattern = "".join(
        re.escape(p) if isinstance(p, str) else f"(?P<p{i}>.+?)" for i, p in enumerate(segment)
    )
    found = re.fullmatch(pattern, text, flags=re.IGNORECASE | re.DOTALL)
    if found is None:
        return None
    values: dict[str, str] = {}
    for i, part in enumerate(segment):
        if isinstance(part, _Param):
            if not _satisfies(part, found[f"p{i}"]):
                return None
            values[part.name] = found[f"p{i}"]
    return values


def _satisfies(param: _Param, value: str) -> bool:
    return all(_constraint_holds(c, value) for c in param.constraints)


_INT_RANGES: Final = {"int": 2**31, "long": 2**63}
_SIMPLE_CONSTRAINTS: Final[Mapping[str, Callable[[str], bool]]] = {
    "int": lambda v: _is_integer(v, _INT_RANGES["int"]),
    "long": lambda v: _is_integer(v, _INT_RANGES["long"]),
    "alpha": lambda v: re.fullmatch(r"[A-Za-z]+", v) is not None,
    "bool": lambda v: v.lower() in {"true", "false"},
    "guid": lambda v: _parses(uuid.UUID, v),
    "decimal": lambda v: _parses(float, v),
    "double": lambda v: _parses(float, v),
    "float": lambda v: _parses(float, v),
    "datetime": lambda v: _parses(_iso_datetime, v),
}


def _constraint_holds(constraint: str, value: str) -> bool:
    name, _, argument = constraint.partition("(")
    name = name.strip().lower()
    if not argument:
        check = _SIMPLE_CONSTRAINTS.get(name)
        return check is not None and check(value)
    return _argument_holds(name, argument.removesuffix(")"), value)


def _argument_holds(name: str, argument: str, value: str) -> bool:
    if name == "regex":
        return re.search(argument, value, flags=re.IGNORECASE) is not None
    bounds = [int(b) for b in argument.split(",") if b.strip().lstrip("-").isdigit()]
    number = int(value) if _is_integer(value, _INT_RANGES["long"]) else None
    checks: Mapping[str, Callable[[], bool]] = {
        "min": lambda: number is not None and number >= bounds[0],
        "max": lambda: number is not None and number <= bounds[0],
        "range": lambda: number is not None and bounds[0] <= number <= bounds[-1],
        "minlength": lambda: len(value) >= bounds[0],
        "maxlength": lambda: len(value) <= bounds[0],
        "length": lambda: bounds[0] <= len(value) <= bounds[-1],
    }
    check = checks.get(name)
    return bool(bounds) and check is not None and check()


def _is_integer(value: str, limit: int) -> bool:
    return re.fullmatch(r"[+-]?\d+", value) is not None and -limit <= int(value) < limit


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _iso_datetime(value: str) -> object:
    from datetime import datetime  # noqa: PLC0415 - only the datetime constraint needs it

    return datetime.fromisoformat(value)
