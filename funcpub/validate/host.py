"""FP1xx: host.json, the app-wide host configuration."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from funcpub.project import FunctionProject, read_json
from funcpub.validate.base import Finding, Rule, ValidationContext

HOST_JSON: Final = "host.json"
BUNDLE_IDS: Final = frozenset(
    {
        "Microsoft.Azure.Functions.ExtensionBundle",
        "Microsoft.Azure.Functions.ExtensionBundle.Preview",
    }
)
DEFAULT_BUNDLE: Final = (
    '"extensionBundle": {"id": "Microsoft.Azure.Functions.ExtensionBundle", '
    '"version": "[4.*, 5.0.0)"}'
)
# Bindings the host runs without any extension: everything else comes from a bundle.
BUILT_IN_BINDINGS: Final = frozenset({"httptrigger", "http", "timertrigger", "warmuptrigger"})
# A NuGet version or floating version: 4, 4.0.0, 4.*, 4.0.*.
_BOUND = re.compile(r"\d+(?:\.\d+){0,3}|\d+(?:\.\d+){0,2}\.\*")

FP101 = Rule(code="FP101", severity="error", title="host.json is missing")
FP102 = Rule(code="FP102", severity="error", title="host.json is not valid JSON")
FP103 = Rule(code="FP103", severity="error", title='host.json "version" is not "2.0"')
FP104 = Rule(code="FP104", severity="error", title="host.json extensionBundle is malformed")
FP105 = Rule(code="FP105", severity="warning", title="host.json extensionBundle id is unknown")
FP106 = Rule(
    code="FP106", severity="warning", title="bindings need an extension bundle host.json lacks"
)
RULES: Final = (FP101, FP102, FP103, FP104, FP105, FP106)


def key_line(text: str, key: str) -> int | None:
    """The first line where `"key":` appears: good enough to point at a JSON member."""
    pattern = re.compile(rf'"{re.escape(key)}"\s*:')
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None


def _host_line(project: FunctionProject, key: str) -> int | None:
    try:
        return key_line((project.root / HOST_JSON).read_text(encoding="utf-8-sig"), key)
    except (OSError, UnicodeDecodeError):
        return None


def check_host_json(ctx: ValidationContext) -> Iterator[Finding]:
    """host.json must exist and hold a JSON object."""
    path = ctx.project.root / HOST_JSON
    if not path.is_file():
        yield FP101.finding(
            "host.json not found in the app folder: Azure will not start the function host",
            hint='Create host.json at the app root, at least {"version": "2.0"}.',
            path=HOST_JSON,
        )
        return
    value, problem = read_json(path)
    if problem is not None:
        yield FP102.finding(
            f"host.json is not valid JSON: {problem.message}",
            hint="Fix the JSON syntax; the host refuses to start with an unreadable host.json.",
            path=HOST_JSON,
            line=problem.line,
        )
    elif not isinstance(value, dict):
        yield FP102.finding(
            f"host.json must hold a JSON object, not {type(value).__name__}",
            hint='Start from {"version": "2.0"}.',
            path=HOST_JSON,
        )


def check_host_version(ctx: ValidationContext) -> Iterator[Finding]:
    """Runtime 2.x and later only read host.json files declaring version "2.0"."""
    host = ctx.project.host_json
    if host is None or host.get("version") == "2.0":
        return
    found = "no version" if "version" not in host else f"version {host['version']!r}"
    yield FP103.finding(
        f'host.json declares {found}; Azure Functions 2.x and later need "version": "2.0"',
        hint='Set "version": "2.0" at the top level of host.json.',
        path=HOST_JSON,
        line=_host_line(ctx.project, "version"),
    )


def bundle_range_problem(text: str) -> str | None:
    """What is wrong with a NuGet-style version range such as `[4.*, 5.0.0)`; None if fine."""
    text = text.strip()
    if _BOUND.fullmatch(text):  # a bare version means "this or later"
        return None
    if len(text) < 2 or text[0] not in "[(" or text[-1] not in "])":
        return "is not a range in brackets, like [4.*, 5.0.0)"
    bounds = [part.strip() for part in text[1:-1].split(",")]
    if len(bounds) == 1 and text[0] + text[-1] == "[]" and _BOUND.fullmatch(bounds[0]):
        return None  # [4.0.0]: exactly that version
    if len(bounds) != 2:
        return "needs two bounds separated by one comma, like [4.*, 5.0.0)"
    return _bounds_problem(*bounds)


def _bounds_problem(lower: str, upper: str) -> str | None:
    """Each bound is empty (open), a version or N.*; the lower one lies below the upper one."""
    bad = next((b for b in (lower, upper) if b and not _BOUND.fullmatch(b)), None)
    if bad is not None:
        return f"has a bound {bad!r} that is neither a version nor N.*"
    if not lower and not upper:
        return "has no bounds at all"
    if lower and upper and _version_key(lower) >= _version_key(upper):
        return f"has its lower bound {lower} not below its upper bound {upper}"
    return None


def _version_key(bound: str) -> tuple[int, ...]:
    parts = [int(part) for part in bound.removesuffix(".*").split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def _bundle_problems(bundle: object) -> Iterator[str]:
    if not isinstance(bundle, dict):
        yield "is not an object with id and version"
        return
    bundle_id, version = bundle.get("id"), bundle.get("version")
    if not isinstance(bundle_id, str) or not bundle_id.strip():
        yield 'has no "id" string'
    if not isinstance(version, str):
        yield 'has no "version" range string'
    else:
        problem = bundle_range_problem(version)
        if problem:
            yield f"version {version!r} {problem}"


def check_extension_bundle(ctx: ValidationContext) -> Iterator[Finding]:
    """extensionBundle needs an id and a valid version range; the id should be Microsoft's."""
    host = ctx.project.host_json
    if host is None or "extensionBundle" not in host:
        return
    bundle = host["extensionBundle"]
    line = _host_line(ctx.project, "extensionBundle")
    for problem in _bundle_problems(bundle):
        yield FP104.finding(
            f"host.json extensionBundle {problem}",
            hint=f"Use {DEFAULT_BUNDLE}.",
            path=HOST_JSON,
            line=line,
        )
    bundle_id = bundle.get("id") if isinstance(bundle, dict) else None
    if isinstance(bundle_id, str) and bundle_id.strip() and bundle_id not in BUNDLE_IDS:
        yield FP105.finding(
            f"host.json extensionBundle id {bundle_id!r} is not a bundle Azure publishes",
            hint="Use Microsoft.Azure.Functions.ExtensionBundle (or its .Preview).",
            path=HOST_JSON,
            line=_host_line(ctx.project, "id"),
        )


def _needs_bundle(project: FunctionProject) -> list[str]:
    kinds = {b.type for f in project.functions for b in f.bindings}
    return sorted(kind for kind in kinds if kind.lower() not in BUILT_IN_BINDINGS)


def _has_extensions(project: FunctionProject, host: Mapping[str, Any]) -> bool:
    # Extensions installed explicitly (`func extensions install`) replace the bundle.
    root = project.root
    return "extensionBundle" in host or (root / "bin" / "extensions.json").is_file()


def check_bundle_needed(ctx: ValidationContext) -> Iterator[Finding]:
    """Non-HTTP, non-timer bindings come from the extension bundle."""
    host = ctx.project.host_json
    if host is None or _has_extensions(ctx.project, host):
        return
    kinds = _needs_bundle(ctx.project)
    if kinds:
        yield FP106.finding(
            f"host.json has no extensionBundle, but the functions use {', '.join(kinds)}",
            hint=f"Add {DEFAULT_BUNDLE} to host.json; without it those triggers never load.",
            path=HOST_JSON,
        )


CHECKS: Final = (check_host_json, check_host_version, check_extension_bundle, check_bundle_needed)
