"""FP3xx: the v1 model, one folder per function with function.json and a script."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any, Final

from funcpub.project import (
    FunctionDef,
    FunctionInfo,
    dotted_name,
    find_def,
    parameters,
    parse_module,
    read_json,
)
from funcpub.validate.base import Finding, Rule, ValidationContext

DIRECTIONS: Final = ("in", "out", "inout")
RETURN: Final = "$return"
# The worker accepts a `context` parameter without a binding (seed guide, "Context").
CONTEXT: Final = "context"

FP301 = Rule(code="FP301", severity="error", title="function.json is not valid JSON")
FP302 = Rule(code="FP302", severity="error", title="function.json does not match the schema")
FP303 = Rule(code="FP303", severity="error", title="scriptFile does not exist")
FP304 = Rule(code="FP304", severity="error", title="entryPoint is not a top-level function")
FP305 = Rule(code="FP305", severity="error", title="function has no trigger binding")
FP306 = Rule(code="FP306", severity="error", title="function has more than one trigger")
FP307 = Rule(code="FP307", severity="error", title="binding has no matching parameter")
FP308 = Rule(code="FP308", severity="error", title="parameter has no matching binding")
FP309 = Rule(
    code="FP309", severity="error", title="binding direction and func.Out annotation disagree"
)
FP310 = Rule(code="FP310", severity="warning", title="$return binding but nothing is returned")
RULES: Final = (FP301, FP302, FP303, FP304, FP305, FP306, FP307, FP308, FP309, FP310)


def schema_problems(config: dict[str, Any]) -> Iterator[str]:
    """What is wrong with the shape of a function.json object (none if it is fine)."""
    for key in ("scriptFile", "entryPoint"):
        value = config.get(key)
        if key in config and not (isinstance(value, str) and value):
            yield f'"{key}" must be a non-empty string'
    bindings = config.get("bindings")
    if not isinstance(bindings, list):
        yield '"bindings" must be a list' if "bindings" in config else 'has no "bindings" list'
        return
    for index, binding in enumerate(bindings):
        yield from _binding_problems(index, binding)


def _binding_problems(index: int, binding: object) -> Iterator[str]:
    if not isinstance(binding, dict):
        yield f"bindings[{index}] is not an object"
        return
    for key in ("type", "direction", "name"):
        value = binding.get(key)
        if not (isinstance(value, str) and value):
            yield f'bindings[{index}] has no "{key}" string'
    direction = binding.get("direction")
    if isinstance(direction, str) and direction and direction.lower() not in DIRECTIONS:
        yield f"bindings[{index}] direction {direction!r} is not in, out or inout"


def _v1_functions(ctx: ValidationContext) -> Iterator[tuple[FunctionInfo, str]]:
    """v1 functions with the relpath of their function.json."""
    for function in ctx.project.functions:
        if function.config is not None:
            yield function, function.config


def _configs(ctx: ValidationContext) -> Iterator[str]:
    return (config for _, config in _v1_functions(ctx))


def _config(ctx: ValidationContext, config: str) -> dict[str, Any] | None:
    """The function.json object if it parses and matches the schema."""
    value, problem = read_json(ctx.project.root / config)
    if problem is not None or not isinstance(value, dict) or any(schema_problems(value)):
        return None
    return value


def _entry_points(ctx: ValidationContext) -> Iterator[tuple[FunctionInfo, FunctionDef]]:
    """Functions whose function.json is sound and whose entry point was found."""
    for function, config in _v1_functions(ctx):
        tree = parse_module(ctx.project.root / function.script)
        if _config(ctx, config) is None or not isinstance(tree, ast.Module):
            continue
        node = find_def(tree, function.entry_point)
        if node is not None:
            yield function, node


def check_function_json(ctx: ValidationContext) -> Iterator[Finding]:
    """function.json must parse and have a list of bindings with type, direction and name."""
    for config in _configs(ctx):
        value, problem = read_json(ctx.project.root / config)
        if problem is not None:
            hint = (
                "Fix the JSON syntax; the host skips a function whose function.json is unreadable."
            )
            message = f"{config} is not valid JSON: {problem.message}"
            yield FP301.finding(message, hint=hint, path=config, line=problem.line)
            continue
        problems = list(schema_problems(value)) if isinstance(value, dict) else ["is not an object"]
        for text in problems:
            hint = 'Each binding needs "type", "direction" ("in"/"out"/"inout") and "name".'
            yield FP302.finding(f"{config}: {text}", hint=hint, path=config)


def check_script_file(ctx: ValidationContext) -> Iterator[Finding]:
    """The script (scriptFile, default __init__.py) must exist inside the app."""
    for function, config in _v1_functions(ctx):
        outside = function.script.startswith("../")
        if outside or not (ctx.project.root / function.script).is_file():
            where = "lies outside the app folder" if outside else "does not exist"
            yield FP303.finding(
                f"the script of {function.name}, {function.script}, {where}",
                hint=f'Create it, or point "scriptFile" in {config} at the file with the code.',
                path=config,
            )


def check_entry_point(ctx: ValidationContext) -> Iterator[Finding]:
    """The entryPoint (default `main`) must be a module-level def or async def."""
    for function, config in _v1_functions(ctx):
        tree = parse_module(ctx.project.root / function.script)
        if not isinstance(tree, ast.Module) or find_def(tree, function.entry_point):
            continue
        yield FP304.finding(
            f"{function.script} has no top-level function {function.entry_point!r}, "
            f"the entry point of {function.name}",
            hint=f'Define `def {function.entry_point}(...)` at module level, or set "entryPoint" '
            f"in {config}.",
            path=function.script,
        )


def check_triggers(ctx: ValidationContext) -> Iterator[Finding]:
    """Exactly one binding must be a trigger."""
    for function, config in _v1_functions(ctx):
        if _config(ctx, config) is None:
            continue
        triggers = [b.type for b in function.bindings if b.is_trigger]
        if not triggers:
            yield FP305.finding(
                f"{function.name} has no trigger binding, so nothing can ever run it",
                hint='Add one binding whose type ends in "Trigger", e.g. httpTrigger.',
                path=config,
            )
        elif len(triggers) > 1:
            yield FP306.finding(
                f"{function.name} has {len(triggers)} triggers ({', '.join(triggers)})",
                hint="A function has exactly one trigger; split it into several functions.",
                path=config,
            )


def check_binding_parameters(ctx: ValidationContext) -> Iterator[Finding]:
    """Binding names and entry-point parameters must match one to one (except `context`)."""
    for function, node in _entry_points(ctx):
        names = [arg.arg for arg in parameters(node)]
        bound = [b.name for b in function.bindings if b.name and b.name != RETURN]
        for name in bound:
            if name not in names:
                yield FP307.finding(
                    f"binding {name!r} in {function.config} has no parameter in "
                    f"{function.entry_point}()",
                    hint=f"Add a parameter named {name}, or rename the binding.",
                    path=function.script,
                    line=node.lineno,
                )
        for name in names:
            if name not in bound and name != CONTEXT:
                yield FP308.finding(
                    f"parameter {name!r} of {function.entry_point}() has no binding in "
                    f"{function.config}",
                    hint="Add a binding with that name, or remove the parameter.",
                    path=function.script,
                    line=node.lineno,
                )


def is_out_annotation(annotation: ast.expr) -> bool:
    """`func.Out[...]`, `Out[...]`, `azure.functions.Out` (also as a string)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    name = dotted_name(annotation)
    return name is not None and name.rpartition(".")[2] == "Out"


def check_out_annotations(ctx: ValidationContext) -> Iterator[Finding]:
    """Output parameters are func.Out[...] (or unannotated); input ones are not func.Out.

    An unannotated output parameter is accepted, as the worker accepts it.
    """
    for function, node in _entry_points(ctx):
        arguments = {arg.arg: arg for arg in parameters(node)}
        for binding in function.bindings:
            arg = arguments.get(binding.name or "")
            if arg is None or arg.annotation is None or binding.direction == "inout":
                continue
            is_out = is_out_annotation(arg.annotation)
            if (binding.direction == "out") != is_out:
                expected = "func.Out[...]" if binding.direction == "out" else "not func.Out"
                yield FP309.finding(
                    f"parameter {arg.arg!r} is bound to an {binding.direction!r} binding, "
                    f"so its annotation must be {expected}",
                    hint="Annotate outputs as func.Out[T] and call .set(); inputs as plain types.",
                    path=function.script,
                    line=arg.lineno,
                )


def returns_value(node: FunctionDef) -> bool:
    """Whether the def has a `return <value>` of its own (nested defs don't count)."""
    pending: list[ast.AST] = list(node.body)
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Return):
            value = current.value
            if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
                return True
        if not isinstance(
            current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
        ):
            pending.extend(ast.iter_child_nodes(current))
    return False


def check_return_value(ctx: ValidationContext) -> Iterator[Finding]:
    """A `$return` binding is fed by the return value, so the function should return one."""
    for function, node in _entry_points(ctx):
        if any(b.name == RETURN for b in function.bindings) and not returns_value(node):
            yield FP310.finding(
                f"{function.config} binds $return, but {function.entry_point}() never returns "
                "a value",
                hint="Return the output (e.g. a func.HttpResponse), or drop the $return binding.",
                path=function.script,
                line=node.lineno,
            )


CHECKS: Final = (
    check_function_json,
    check_script_file,
    check_entry_point,
    check_triggers,
    check_binding_parameters,
    check_out_annotations,
    check_return_value,
)
