"""FP6xx: layout and files: programming model, function count, .funcignore, local settings."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Final

from funcpub.errors import ValidationError
from funcpub.ignore import excluding_line
from funcpub.project import FUNCTION_APP, FunctionProject, find_apps, parse_module, read_json
from funcpub.validate.base import Finding, Rule, ValidationContext

LOCAL_SETTINGS: Final = "local.settings.json"
WORKER_RUNTIME: Final = "FUNCTIONS_WORKER_RUNTIME"
# Setting values can be secrets: only short identifier-like values are ever echoed.
_ECHOABLE = re.compile(r"[A-Za-z0-9._-]{1,24}")

FP601 = Rule(code="FP601", severity="error", title="v1 and v2 programming models are mixed")
FP602 = Rule(code="FP602", severity="error", title="no functions found")
FP603 = Rule(code="FP603", severity="error", title=".funcignore excludes a file the app needs")
FP604 = Rule(code="FP604", severity="error", title="the app's files cannot be packaged")
FP605 = Rule(code="FP605", severity="warning", title="local.settings.json is not valid JSON")
FP606 = Rule(code="FP606", severity="error", title="FUNCTIONS_WORKER_RUNTIME is not python")
FP607 = Rule(code="FP607", severity="warning", title="proxies.json is not supported")
FP608 = Rule(code="FP608", severity="warning", title=".funcignore line can never match")
RULES: Final = (FP601, FP602, FP603, FP604, FP605, FP606, FP607, FP608)
_PARENT_SEGMENT = re.compile(r"(?:^|/)\.\.(?:/|$)")


def selection_failed(error: ValidationError) -> Finding:
    """The finding for a file walk that stopped (a link leaving the app, a bad name...)."""
    return FP604.finding(error.message, hint=error.hint)


def check_mixed_model(ctx: ValidationContext) -> Iterator[Finding]:
    """A v2 app indexes function_app.py only; v1 folders beside it are silently ignored."""
    if ctx.project.model != "mixed":
        return
    folders = sorted({f.config.split("/")[0] for f in ctx.project.functions if f.config})
    yield FP601.finding(
        f"function_app.py (v2) sits beside function.json folders (v1): {', '.join(folders)}",
        hint="Use one model: move the v1 functions into function_app.py or blueprints, "
        "or delete function_app.py.",
        path=FUNCTION_APP,
    )


def _app_missing_or_broken(project: FunctionProject) -> bool:
    """function_app.py fails to parse (FP501) or has no FunctionApp (FP401): reported there."""
    path = project.root / FUNCTION_APP
    if not path.is_file():
        return False
    tree = parse_module(path)
    return not isinstance(tree, ast.Module) or not any(
        app.kind != "blueprint" for app in find_apps(tree)
    )


def check_functions_found(ctx: ValidationContext) -> Iterator[Finding]:
    """Azure reporting "0 functions found" after a green deploy is the classic failure."""
    project = ctx.project
    if project.functions or _app_missing_or_broken(project):
        return
    hint = (
        "Decorate functions with the FunctionApp in function_app.py (v2), or add "
        "<name>/function.json folders (v1)."
    )
    yield FP602.finding("0 functions found: Azure would index no function in this app", hint=hint)


def _required_files(project: FunctionProject) -> Iterator[tuple[str, str]]:
    """(relpath, why it matters) of every file the host needs at run time."""
    root = project.root
    if (root / "host.json").is_file():
        yield "host.json", "the host configuration"
    if (root / FUNCTION_APP).is_file():
        yield FUNCTION_APP, "the v2 entry module"
    for function in project.functions:
        if function.config:
            yield function.config, f"the bindings of {function.name}"
        if not function.script.startswith("../") and (root / function.script).is_file():
            yield function.script, f"the code of {function.name}"


def check_required_files_ship(ctx: ValidationContext) -> Iterator[Finding]:
    """host.json, function_app.py, function.json files and scripts must all ship."""
    if ctx.selection is None:
        return
    seen = set()
    for relpath, why in _required_files(ctx.project):
        if relpath in seen or ctx.ships(relpath):
            continue
        seen.add(relpath)
        found = excluding_line(ctx.project.funcignore, relpath)
        if found is None:
            yield FP603.finding(
                f"{relpath} ({why}) is left out of the package by a built-in exclude",
                hint=f"Add the line !{relpath} to .funcignore to ship it.",
                path=relpath,
            )
            continue
        line, pattern = found
        yield FP603.finding(
            f"{relpath} ({why}) is excluded from the package by the .funcignore line {pattern!r}",
            hint=f"Remove or narrow that line (a later !{relpath} line re-includes a file, "
            "unless a folder above it is excluded).",
            path=".funcignore",
            line=line,
        )


def check_local_settings(ctx: ValidationContext) -> Iterator[Finding]:
    """local.settings.json must parse; its worker runtime, when set, must be python."""
    path = ctx.project.root / LOCAL_SETTINGS
    if not path.is_file():
        return
    value, problem = read_json(path)
    if problem is not None or not isinstance(value, dict):
        why = problem.message if problem else "it must hold a JSON object"
        yield FP605.finding(
            f"local.settings.json is not valid JSON: {why}",
            hint="Fix it: `func start` reads the local app settings from it.",
            path=LOCAL_SETTINGS,
            line=problem.line if problem else None,
        )
        return
    yield from _worker_runtime(value)


def _worker_runtime(settings: dict[str, object]) -> Iterator[Finding]:
    values = settings.get("Values")
    runtime = values.get(WORKER_RUNTIME) if isinstance(values, dict) else None
    if runtime is None or runtime == "python":
        return
    shown = (
        repr(runtime) if isinstance(runtime, str) and _ECHOABLE.fullmatch(runtime) else "a value"
    )
    yield FP606.finding(
        f"local.settings.json sets {WORKER_RUNTIME} to {shown}, not 'python'",
        hint=f'Set "{WORKER_RUNTIME}": "python" in its Values.',
        path=LOCAL_SETTINGS,
    )


def check_proxies(ctx: ValidationContext) -> Iterator[Finding]:
    """Functions proxies are gone from runtime 4.x (Core Tools warns as well)."""
    if (ctx.project.root / "proxies.json").is_file():
        yield FP607.finding(
            "proxies.json is present, but runtime 4.x no longer supports proxies",
            hint="Move the proxies to Azure API Management, or drop the file.",
            path="proxies.json",
        )


def check_funcignore_paths(ctx: ValidationContext) -> Iterator[Finding]:
    """Patterns are relative to the app folder (like .gitignore): `..` and the folder's own
    absolute path never match, so what the line meant to keep out ships."""
    root = ctx.project.root.as_posix().rstrip("/") + "/"
    for number, line in enumerate(ctx.project.funcignore, start=1):
        pattern = line.strip().removeprefix("!")
        if not pattern or line.startswith("#"):
            continue
        if _PARENT_SEGMENT.search(pattern):
            why = "patterns are relative to the app folder, and `..` leads out of it"
            hint = "Only files inside the app folder ship; drop the line or fix the path."
        elif pattern.startswith(root):
            why = "patterns are relative to the app folder, and this is its absolute path"
            hint = f"Write it from the app folder: /{pattern.removeprefix(root)}"
        else:
            continue
        yield FP608.finding(
            f".funcignore line {pattern!r} can never match: {why}",
            hint=hint,
            path=".funcignore",
            line=number,
        )


CHECKS: Final = (
    check_mixed_model,
    check_functions_found,
    check_required_files_ship,
    check_local_settings,
    check_proxies,
    check_funcignore_paths,
)
