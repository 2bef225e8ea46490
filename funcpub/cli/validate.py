"""`funcpub validate`: static checks of the function app."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from funcpub.cli.common import (
    AppDir,
    FunctionsVersion,
    JsonFlag,
    PythonVersion,
    load,
    make_console,
    validate_loaded,
)
from funcpub.cli.render import count_summary, render_findings
from funcpub.errors import EXIT_OK, ValidationError


def validate(
    ctx: typer.Context,
    app_dir: AppDir = Path(),
    json_output: JsonFlag = False,
    python_version: PythonVersion = None,
    functions_version: FunctionsVersion = None,
) -> int:
    """Check the app's layout, host.json, requirements, functions, imports and versions.

    Exit 0 when valid (warnings allowed), 3 when there is at least one error.
    """
    console = make_console(ctx, json_mode=json_output)
    cli = {"python-version": python_version, "functions-version": functions_version}
    loaded = load("validate", app_dir, cli, console)
    report = validate_loaded(loaded, console)
    if json_output:
        console.json(
            {
                "ok": report.ok,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
                "functions": [asdict(function) for function in loaded.project.functions],
                "findings": [asdict(finding) for finding in report.findings],
            }
        )
    else:
        console.result(render_findings(report.findings))
        names = ", ".join(function.name for function in loaded.project.functions) or "none"
        verdict = "valid" if report.ok else "invalid"
        console.result(
            f"{loaded.project.root}: {verdict} ({loaded.project.model} model, "
            f"functions: {names}; {count_summary(report.findings)})"
        )
    return EXIT_OK if report.ok else ValidationError.exit_code
