"""FP2xx: requirements.txt problems, from the parse `ValidationContext.requirements` holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Final

from funcpub.requirements import Scan, has_credentials, logical_lines, redact
from funcpub.validate.base import Finding, Rule, ValidationContext

REQUIREMENTS: Final = "requirements.txt"

FP201 = Rule(code="FP201", severity="warning", title="requirements.txt is missing")
FP202 = Rule(code="FP202", severity="error", title="requirements line pip cannot parse")
FP203 = Rule(code="FP203", severity="warning", title="azure-functions is not listed")
FP204 = Rule(code="FP204", severity="error", title="azure-functions-worker is listed")
FP205 = Rule(code="FP205", severity="warning", title="local path, -e or file: URL in requirements")
FP206 = Rule(code="FP206", severity="error", title="-r/-c include not found")
FP207 = Rule(code="FP207", severity="error", title="-r/-c includes form a cycle")
FP208 = Rule(code="FP208", severity="warning", title="requirements file does not ship")
# FP209 is an error when the build is remote (see check_credentials).
FP209 = Rule(code="FP209", severity="warning", title="credentials in a requirements URL")
RULES: Final = (FP201, FP202, FP203, FP204, FP205, FP206, FP207, FP208, FP209)


def check_requirements_present(ctx: ValidationContext) -> Iterator[Finding]:
    """Remote builds and funcpub's local builds install from requirements.txt."""
    if ctx.project.requirements_path is None:
        yield FP201.finding(
            "requirements.txt not found: no dependency gets installed, not even azure-functions",
            hint="Create requirements.txt at the app root listing your dependencies.",
            path=REQUIREMENTS,
        )


def check_requirement_syntax(ctx: ValidationContext) -> Iterator[Finding]:
    """Every line must be something pip accepts."""
    scan = ctx.requirements
    for problem in scan.problems if scan else ():
        if problem.kind == "syntax":
            yield FP202.finding(
                problem.message,
                hint="Fix the line: pip stops at the first line it cannot parse.",
                path=ctx.project.relpath(problem.file),
                line=problem.line,
            )


def check_includes(ctx: ValidationContext) -> Iterator[Finding]:
    """-r / -c includes must exist, must not loop, and must ship for a remote build."""
    scan = ctx.requirements
    if scan is None:
        return
    for problem in scan.problems:
        relpath = ctx.project.relpath(problem.file)
        if problem.kind == "missing":
            hint = "Paths in -r / -c are relative to the file that includes them."
            yield FP206.finding(problem.message, hint=hint, path=relpath, line=problem.line)
        elif problem.kind == "cycle":
            hint = "Remove one of the includes; pip would recurse forever."
            yield FP207.finding(problem.message, hint=hint, path=relpath, line=problem.line)
    yield from _unshipped(ctx, scan)


def _unshipped(ctx: ValidationContext, scan: Scan) -> Iterator[Finding]:
    for file in scan.files:
        relpath = ctx.project.relpath(file)
        if relpath.startswith("../") or not ctx.ships(relpath):
            where = "lies outside the app folder" if relpath.startswith("../") else "is excluded"
            yield FP208.finding(
                f"{relpath} {where}, so a remote build in Azure will not find it",
                hint="Keep requirements files inside the app and out of .funcignore.",
                path=relpath,
            )


def check_azure_functions_listed(ctx: ValidationContext) -> Iterator[Finding]:
    """The seed guide: azure-functions must be installed through requirements.txt."""
    scan = ctx.requirements
    if scan is None or any(e.name == "azure-functions" for e in scan.entries):
        return
    yield FP203.finding(
        "azure-functions is not listed in requirements.txt",
        hint="Add a line `azure-functions` so the bindings library matches your code.",
        path=REQUIREMENTS,
    )


def check_worker_not_listed(ctx: ValidationContext) -> Iterator[Finding]:
    """The platform ships its own worker; a second copy breaks it."""
    scan = ctx.requirements
    for entry in scan.entries if scan else ():
        if entry.name == "azure-functions-worker":
            yield FP204.finding(
                "azure-functions-worker is listed in requirements",
                hint="Remove it: the platform provides the worker, and pinning it breaks it.",
                path=ctx.project.relpath(entry.file),
                line=entry.line,
            )


def check_local_requirements(ctx: ValidationContext) -> Iterator[Finding]:
    """Local paths, editable installs and file: URLs don't exist where a remote build runs."""
    scan = ctx.requirements
    for entry in scan.entries if scan else ():
        if entry.kind in ("local", "editable"):
            what = "an editable install" if entry.kind == "editable" else "a local path"
            yield FP205.finding(
                f"{redact(entry.text)!r} is {what}: a remote build in Azure cannot install it",
                hint="Publish the package to an index, or build locally (--build local/docker).",
                path=ctx.project.relpath(entry.file),
                line=entry.line,
            )


def check_credentials(ctx: ValidationContext) -> Iterator[Finding]:
    """A token in requirements.txt would ship inside the package: funcpub masks it there.

    An error for a remote build: Oryx's pip would get the masked URL and fail.
    """
    scan = ctx.requirements
    for file in scan.files if scan else ():
        for number, line in _lines(file):
            if not has_credentials(line):
                continue
            finding = FP209.finding(
                f"{redact(line)!r} has credentials in a URL: the package gets them masked",
                hint="Write them as ${VARIABLE} (pip and uv expand it, e.g. https://user:"
                "${INDEX_TOKEN}@host/simple) and set the variable where pip runs: your"
                " shell for local builds, an app setting for remote builds.",
                path=ctx.project.relpath(file),
                line=number,
            )
            yield _for_remote_build(finding) if ctx.build == "remote" else finding


def _for_remote_build(finding: Finding) -> Finding:
    """FP209 as an error: the remote build would install from the masked URL."""
    return replace(
        finding,
        severity="error",
        message=finding.message + ", so the remote build on Azure cannot use them",
        hint="Move the index URL to the app's PIP_INDEX_URL or PIP_EXTRA_INDEX_URL app setting"
        " (e.g. --app-setting PIP_EXTRA_INDEX_URL=https://user:TOKEN@host/simple), or keep"
        " ${VARIABLE} in requirements.txt and set VARIABLE as an app setting.",
    )


def _lines(file: Path) -> Iterator[tuple[int, str]]:
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):  # FP202 reports it
        return
    yield from logical_lines(text)


CHECKS: Final = (
    check_requirements_present,
    check_requirement_syntax,
    check_includes,
    check_azure_functions_listed,
    check_worker_not_listed,
    check_local_requirements,
    check_credentials,
)
