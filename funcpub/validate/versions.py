"""FP7xx: the requested Python and Functions runtime versions (resources/versions.toml)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from funcpub import versions
from funcpub.validate.base import Finding, Rule, ValidationContext

FP701 = Rule(code="FP701", severity="error", title="unknown Functions runtime version")
FP702 = Rule(code="FP702", severity="error", title="Python version not available on the runtime")
FP703 = Rule(code="FP703", severity="warning", title="Python version is past end of support")
FP704 = Rule(code="FP704", severity="warning", title="Python version is in preview")
RULES: Final = (FP701, FP702, FP703, FP704)


def _supported(functions_version: str) -> str:
    """The versions to move to: on this runtime, or on the newest one if this one is retired."""
    if versions.runtime_status(functions_version) == "eol":
        newest = versions.functions_versions()[-1]
        return f"runtime {newest}.x with Python {_supported(newest)}"
    rows = versions.python_versions(functions_version)
    good = [v for v in rows if versions.support_status(functions_version, v) == "supported"]
    return ", ".join(good or rows)


def check_functions_version(ctx: ValidationContext) -> Iterator[Finding]:
    """The runtime version must be one Azure has (2, 3 or 4)."""
    requested = ctx.functions_version
    if requested is None or versions.python_versions(requested):
        return
    yield FP701.finding(
        f"Functions runtime version {requested!r} is unknown",
        hint=f"Use one of {', '.join(versions.functions_versions())} (4 for new apps).",
    )


def check_python_version(ctx: ValidationContext) -> Iterator[Finding]:
    """The Python version must exist on the runtime; warn when it is eol or in preview."""
    python, runtime = ctx.python_version, ctx.functions_version
    if python is None or runtime is None or not versions.python_versions(runtime):
        return
    support = versions.support(runtime, python)
    where = f"Azure Functions {versions.normalize_functions_version(runtime)}.x"
    if support is None:
        yield FP702.finding(
            f"Python {python} is not available on {where}",
            hint=f"Use one of: {_supported(runtime)}.",
        )
    elif support.status == "eol":
        since = f" since {support.end.isoformat()}" if support.end else ""
        yield FP703.finding(
            f"Python {python} on {where} is past end of support{since}: no more patches",
            hint=f"Move to a supported version: {_supported(runtime)}.",
        )
    elif support.status == "preview":
        yield FP704.finding(
            f"Python {python} on {where} is in preview, not supported for production",
            hint=f"Use a supported version for production: {_supported(runtime)}.",
        )


CHECKS: Final = (check_functions_version, check_python_version)
