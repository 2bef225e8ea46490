"""FP4xx: the v2 model (decorators in function_app.py), plus names and routes of any function."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Final

from funcpub.project import (
    FUNCTION_APP,
    HTTP_TRIGGER,
    FunctionDef,
    FunctionInfo,
    def_at,
    find_apps,
    parameters,
    parse_module,
)
from funcpub.validate.base import Finding, Rule, ValidationContext

CONTEXT: Final = "context"
RETURN: Final = "$return"
# The host's function name rule (Microsoft.Azure.WebJobs.Script, FunctionNameValidationRegex).
FUNCTION_NAME: Final = re.compile(r"[a-z][a-z0-9_\-]{0,127}", re.IGNORECASE)
_ROUTE_PARAMETER = re.compile(r"\{\*?[^}:]*(:[^}]*)?\}")

FP401 = Rule(code="FP401", severity="error", title="function_app.py has no FunctionApp instance")
FP402 = Rule(code="FP402", severity="error", title="function_app.py has several FunctionApps")
FP403 = Rule(code="FP403", severity="error", title="two functions share a name")
FP404 = Rule(code="FP404", severity="error", title="two HTTP functions share a route and method")
FP405 = Rule(code="FP405", severity="error", title="decorator names a parameter the def lacks")
FP406 = Rule(code="FP406", severity="error", title="parameter has no binding decorator")
FP407 = Rule(code="FP407", severity="error", title="decorated function has no trigger")
FP408 = Rule(code="FP408", severity="error", title="decorated function has several triggers")
FP409 = Rule(code="FP409", severity="error", title="function name is not valid")
RULES: Final = (FP401, FP402, FP403, FP404, FP405, FP406, FP407, FP408, FP409)


def check_function_app(ctx: ValidationContext) -> Iterator[Finding]:
    """function_app.py must create exactly one FunctionApp (or Asgi/Wsgi/DF app)."""
    path = ctx.project.root / FUNCTION_APP
    tree = parse_module(path) if path.is_file() else None
    if not isinstance(tree, ast.Module):
        return  # missing (not v2) or unparseable (FP501)
    apps = [app for app in find_apps(tree) if app.kind != "blueprint"]
    if not apps:
        yield FP401.finding(
            "function_app.py creates no FunctionApp, so Azure indexes 0 functions",
            hint="Add `app = func.FunctionApp()` at module level and decorate functions with it.",
            path=FUNCTION_APP,
        )
    for extra in apps[1:]:
        yield FP402.finding(
            f"function_app.py creates a second app, {extra.name!r} (the first is {apps[0].name!r})",
            hint="Keep one FunctionApp; move other functions to a func.Blueprint and register it.",
            path=FUNCTION_APP,
            line=extra.line,
        )


def check_duplicate_names(ctx: ValidationContext) -> Iterator[Finding]:
    """Function names are unique, ignoring case (the host compares them that way)."""
    seen: dict[str, FunctionInfo] = {}
    for function in ctx.project.functions:
        first = seen.setdefault(function.name.casefold(), function)
        if first is not function:
            yield FP403.finding(
                f"function name {function.name!r} is already used by {_where(first)}",
                hint="Rename one of them (for v2: @app.function_name(name=...)).",
                path=function.config or function.script,
                line=None if function.config else function.line,
            )


def _where(function: FunctionInfo) -> str:
    if function.config:
        return function.config
    return f"{function.script}:{function.line}" if function.line else function.script


def route_key(route: str) -> str:
    """Routes that the host would treat as the same: case, slashes and parameter names ignored."""
    route = _ROUTE_PARAMETER.sub(lambda m: "{" + (m.group(1) or "") + "}", route)
    return route.strip("/").casefold()


def _overlap(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    return not first or not second or bool(set(first) & set(second))


def check_duplicate_routes(ctx: ValidationContext) -> Iterator[Finding]:
    """Two HTTP functions on the same route and method make the host fail to start."""
    http = [f for f in ctx.project.functions if f.trigger == HTTP_TRIGGER and f.route is not None]
    for index, function in enumerate(http):
        clash = next(
            (
                other
                for other in http[:index]
                if route_key(other.route or "") == route_key(function.route or "")
                and _overlap(other.methods, function.methods)
            ),
            None,
        )
        if clash is not None:
            methods = ", ".join(function.methods) or "every method"
            yield FP404.finding(
                f"{function.name} serves route {function.route!r} ({methods}), "
                f"as {clash.name} at {_where(clash)} does",
                hint="Give one of them another route, or split the HTTP methods between them.",
                path=function.config or function.script,
                line=None if function.config else function.line,
            )


def _decorated(ctx: ValidationContext) -> Iterator[tuple[FunctionInfo, FunctionDef]]:
    """v2 functions with the def they decorate (the Asgi/Wsgi catch-all has none)."""
    for function in ctx.project.functions:
        if function.config is not None:
            continue
        tree = parse_module(ctx.project.root / function.script)
        node = def_at(tree, function.line) if isinstance(tree, ast.Module) else None
        if node is not None:
            yield function, node


def check_arg_names(ctx: ValidationContext) -> Iterator[Finding]:
    """Each binding decorator's arg_name must be a parameter of the decorated def."""
    for function, node in _decorated(ctx):
        names = {arg.arg for arg in parameters(node)}
        for binding in function.bindings:
            if binding.name is None or binding.name == RETURN or binding.name in names:
                continue
            yield FP405.finding(
                f"the {binding.type} binding of {function.name} names {binding.name!r}, "
                f"but {node.name}() has no such parameter",
                hint=f"Rename the parameter to {binding.name}, or fix the decorator's arg_name.",
                path=function.script,
                line=binding.line,
            )


def check_unbound_parameters(ctx: ValidationContext) -> Iterator[Finding]:
    """Every parameter needs a binding (`context` excepted), or the worker rejects the function."""
    for function, node in _decorated(ctx):
        if any(binding.name is None for binding in function.bindings):
            continue  # a computed arg_name: cannot tell statically
        bound = {binding.name for binding in function.bindings}
        for arg in parameters(node):
            if arg.arg not in bound and arg.arg != CONTEXT:
                yield FP406.finding(
                    f"parameter {arg.arg!r} of {node.name}() has no binding decorator",
                    hint="Add an input/output decorator with that arg_name, or drop the parameter.",
                    path=function.script,
                    line=arg.lineno,
                )


def check_v2_triggers(ctx: ValidationContext) -> Iterator[Finding]:
    """A decorated function needs exactly one trigger decorator."""
    for function, node in _decorated(ctx):
        triggers = [binding.type for binding in function.bindings if binding.is_trigger]
        if not triggers:
            yield FP407.finding(
                f"{node.name}() is decorated on the app but has no trigger decorator",
                hint="Add one trigger, e.g. @app.route() or @app.timer_trigger(...).",
                path=function.script,
                line=node.lineno,
            )
        elif len(triggers) > 1:
            yield FP408.finding(
                f"{node.name}() has {len(triggers)} triggers ({', '.join(triggers)})",
                hint="A function has exactly one trigger; split it into several functions.",
                path=function.script,
                line=node.lineno,
            )


def check_function_names(ctx: ValidationContext) -> Iterator[Finding]:
    """Names start with a letter and hold letters, digits, `_` and `-` (at most 128)."""
    for function in ctx.project.functions:
        if not FUNCTION_NAME.fullmatch(function.name):
            yield FP409.finding(
                f"function name {function.name!r} is not valid: the host will not index it",
                hint="Start with a letter; use only letters, digits, _ and -; at most 128.",
                path=function.config or function.script,
                line=None if function.config else function.line,
            )


CHECKS: Final = (
    check_function_app,
    check_duplicate_names,
    check_duplicate_routes,
    check_arg_names,
    check_unbound_parameters,
    check_v2_triggers,
    check_function_names,
)
