"""Validation: small pure checks over a loaded project, each yielding findings with stable codes.

Codes by family: FP1xx host.json, FP2xx requirements, FP3xx v1 model, FP4xx v2 model (and
function names and routes), FP5xx app code and imports, FP6xx files, .funcignore and settings,
FP7xx versions. `RULES` lists them all (for docs and tests); `CHECKS` is the plain list of
checks `validate` runs. A check never raises for user content.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from funcpub.errors import ValidationError
from funcpub.ignore import FileSelection, select_files
from funcpub.options import StrategyName
from funcpub.project import FunctionProject
from funcpub.validate import files, host, imports, requirements, v1, v2, versions
from funcpub.validate.base import (
    Check,
    Finding,
    Report,
    Rule,
    Severity,
    ValidationContext,
    sort_key,
)

__all__ = [
    "CHECKS",
    "RULES",
    "Check",
    "Finding",
    "Report",
    "Rule",
    "Severity",
    "ValidationContext",
    "validate",
]

_FAMILIES: Final = (host, requirements, v1, v2, imports, files, versions)

RULES: Final[Mapping[str, Rule]] = MappingProxyType(
    {rule.code: rule for family in _FAMILIES for rule in family.RULES}
)
CHECKS: Final[tuple[Check, ...]] = tuple(check for family in _FAMILIES for check in family.CHECKS)


def validate(
    project: FunctionProject,
    *,
    python_version: str | None = None,
    functions_version: str | None = None,
    selection: FileSelection | None = None,
    build: StrategyName | None = None,
) -> Report:
    """Run every check; `selection` defaults to the files a remote build would ship."""
    findings: list[Finding] = []
    if selection is None:
        try:
            # .python_packages is the build's business, not the app's code: leave it out here.
            selection = select_files(project.root, ship_python_packages=False)
        except ValidationError as error:
            findings.append(files.selection_failed(error))
    context = ValidationContext(
        project=project,
        selection=selection,
        python_version=python_version,
        functions_version=functions_version,
        build=build,
    )
    for check in CHECKS:
        findings.extend(check(context))
    return Report(findings=tuple(sorted(dict.fromkeys(findings), key=sort_key)))
