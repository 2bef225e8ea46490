"""FP5xx: the app's own Python code: syntax, and imports of the app's own modules.

The worker maps the app root to the `__app__` namespace package (v1: each function folder is
a package under it), so `from __app__.shared_code import x` and relative imports must reach a
module that ships. In the v2 model function_app.py is a top-level module, not in a package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from funcpub.project import parse_module
from funcpub.validate.base import Finding, Rule, ValidationContext

APP_PACKAGE: Final = "__app__"
PYTHON_PACKAGES: Final = ".python_packages/"
_EXTENSIONS: Final = (".py", ".pyc", ".so", ".pyd")
_OPTIONAL: Final = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})

FP501 = Rule(code="FP501", severity="error", title="syntax error in app code")
FP502 = Rule(code="FP502", severity="error", title="import of an app module that does not ship")
FP503 = Rule(code="FP503", severity="error", title="relative import above the app root")
FP504 = Rule(code="FP504", severity="warning", title="implicit relative import of a sibling")
RULES: Final = (FP501, FP502, FP503, FP504)


@dataclass(frozen=True, kw_only=True)
class ImportSite:
    """One import statement, outside `try/except ImportError` guards."""

    node: ast.Import | ast.ImportFrom

    @property
    def line(self) -> int:
        """Line of the statement."""
        return self.node.lineno


def iter_imports(tree: ast.AST) -> Iterator[ImportSite]:
    """Import statements anywhere in the module, skipping optional (try/except) ones."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield ImportSite(node=child)
        elif isinstance(child, ast.Try) and _guards_imports(child):
            for part in (child.handlers, child.orelse, child.finalbody):
                for node in part:
                    yield from iter_imports(node)
        else:
            yield from iter_imports(child)


def _guards_imports(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if handler.type is None or any(
            isinstance(n, ast.Name | ast.Attribute) and _last(n) in _OPTIONAL for n in names if n
        ):
            return True
    return False


def _last(node: ast.Name | ast.Attribute) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr


def app_python_files(ctx: ValidationContext) -> tuple[str, ...]:
    """Shipped .py files of the app itself (dependencies in .python_packages excluded)."""
    if ctx.selection is None:
        return tuple(
            sorted({f.script for f in ctx.project.functions if not f.script.startswith("../")})
        )
    return tuple(
        sorted(
            relpath
            for relpath in ctx.shipped_files
            if relpath.endswith(".py") and not relpath.startswith(PYTHON_PACKAGES)
        )
    )


def check_syntax(ctx: ValidationContext) -> Iterator[Finding]:
    """Every shipped module must parse: the worker imports them on start."""
    for relpath in app_python_files(ctx):
        parsed = parse_module(ctx.project.root / relpath)
        if isinstance(parsed, SyntaxError):
            message = f"syntax error: {parsed.msg}" if parsed.lineno else parsed.msg
            yield FP501.finding(
                message,
                hint="Fix the syntax; a module that cannot be imported takes its functions down.",
                path=relpath,
                line=parsed.lineno,
            )


# --- resolving the app's own modules ------------------------------------------------------------


def _uses_app_package(ctx: ValidationContext) -> bool:
    """v1 (and mixed) apps live in the `__app__` package; v2's function_app.py is top-level."""
    return ctx.project.model != "v2"


def _package_of(relpath: str, *, in_app_package: bool) -> tuple[str, ...] | None:
    """Package parts (relative to the root) of a module; None if it isn't in any package."""
    parts = PurePosixPath(relpath).parent.parts
    if not parts and not in_app_package:
        return None
    return parts


def module_ships(ctx: ValidationContext, parts: tuple[str, ...]) -> bool:
    """A module `a.b` ships as a/b.py, a/b/__init__.py, a/b.*.so, or a folder (namespace)."""
    return not parts or "/".join(parts) in ctx.shipped_dirs or _module_file_ships(ctx, parts)


def _module_file_ships(ctx: ValidationContext, parts: tuple[str, ...]) -> bool:
    """A plain module file: a/b.py, a/b.pyc or an extension module a/b.cpython-311-...so."""
    names = ctx.shipped_by_folder.get("/".join(parts[:-1]), frozenset())
    return any(_is_module_file(filename, parts[-1]) for filename in names)


def _is_module_file(filename: str, name: str) -> bool:
    return any(filename == name + ext for ext in _EXTENSIONS) or (
        filename.startswith(name + ".") and filename.endswith((".so", ".pyd"))
    )


def _bound_names(ctx: ValidationContext, init: str) -> frozenset[str] | None:
    """Top-level names an __init__.py defines; None if unknowable (star import, __getattr__)."""
    tree = parse_module(ctx.project.root / init)
    if not isinstance(tree, ast.Module):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            continue  # `from . import x` in __init__.py binds x only if x is a submodule
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return None if "__getattr__" in names else frozenset(names)


def _missing_names(
    ctx: ValidationContext, package: tuple[str, ...], names: list[str], *, app_root: bool
) -> Iterator[str]:
    """Names of `from package import a, b` that are neither submodules nor defined in it."""
    defined: frozenset[str] | None = frozenset()
    # The `__app__` namespace never runs the root's __init__.py, so only submodules count there.
    if not app_root:
        init = "/".join((*package, "__init__.py"))
        if init in ctx.shipped_files:
            defined = _bound_names(ctx, init)
        elif _module_file_ships(ctx, package):
            return  # a plain module: its attributes are not checked
    if defined is None:
        return  # names defined dynamically
    for name in names:
        if name != "*" and name not in defined and not module_ships(ctx, (*package, name)):
            yield name


@dataclass(frozen=True, kw_only=True)
class _Target:
    """Where an import statement points inside the app, once resolved."""

    package: tuple[str, ...]  # the module `from X import ...` names, as root-relative parts
    names: list[str]
    app_root: bool
    text: str


def _names(node: ast.ImportFrom) -> str:
    return ", ".join(alias.name for alias in node.names)


def _resolve(site: ImportSite, relpath: str, *, in_app_package: bool) -> _Target | str | None:
    """The app module an import reaches; a message if it climbs out; None if not ours."""
    node = site.node
    if isinstance(node, ast.ImportFrom) and node.level:
        package = _package_of(relpath, in_app_package=in_app_package)
        dots = "." * node.level
        text = f"from {dots}{node.module or ''} import {_names(node)}"
        levels_available = len(package) + (1 if in_app_package else 0) if package is not None else 0
        if package is None or node.level > levels_available:
            return f"{text} climbs above the app root"
        base = package[: len(package) - (node.level - 1)]
        parts = (*base, *(node.module.split(".") if node.module else ()))
        names = [alias.name for alias in node.names]
        return _Target(package=parts, names=names, app_root=not parts, text=text)
    if (
        isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.split(".")[0] == APP_PACKAGE
    ):
        parts = tuple(node.module.split(".")[1:])
        names = [alias.name for alias in node.names]
        text = f"from {node.module} import {_names(node)}"
        return _Target(package=parts, names=names, app_root=not parts, text=text)
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == APP_PACKAGE and "." in alias.name:
                parts = tuple(alias.name.split(".")[1:])
                return _Target(package=parts, names=[], app_root=False, text=f"import {alias.name}")
    return None


def check_app_imports(ctx: ValidationContext) -> Iterator[Finding]:
    """`__app__` and relative imports must reach modules that ship, inside the app root."""
    if ctx.selection is None:
        return
    in_app_package = _uses_app_package(ctx)
    for relpath in app_python_files(ctx):
        tree = parse_module(ctx.project.root / relpath)
        if not isinstance(tree, ast.Module):
            continue
        for site in iter_imports(tree):
            yield from _import_findings(ctx, relpath, site, in_app_package=in_app_package)


def _import_findings(
    ctx: ValidationContext, relpath: str, site: ImportSite, *, in_app_package: bool
) -> Iterator[Finding]:
    target = _resolve(site, relpath, in_app_package=in_app_package)
    if isinstance(target, str):
        hint = (
            "Import from the app root with an absolute import instead."
            if in_app_package
            else "function_app.py and top-level modules are not in a package: use absolute imports."
        )
        yield FP503.finding(target, hint=hint, path=relpath, line=site.line)
        return
    if target is None:
        return
    module = ".".join(target.package) or APP_PACKAGE
    if not module_ships(ctx, target.package):
        yield FP502.finding(
            f"{target.text}: module {module} does not ship with the app",
            hint="Create the module, or un-exclude it in .funcignore.",
            path=relpath,
            line=site.line,
        )
        return
    missing = list(_missing_names(ctx, target.package, target.names, app_root=target.app_root))
    if missing:
        yield FP502.finding(
            f"{target.text}: {', '.join(missing)} is not a module of {module} that ships",
            hint="Create the module, or un-exclude it in .funcignore.",
            path=relpath,
            line=site.line,
        )


def _absolute_names(site: ImportSite) -> Iterator[str]:
    node = site.node
    if isinstance(node, ast.Import):
        yield from (alias.name.split(".")[0] for alias in node.names)
    elif node.level == 0 and node.module:
        yield node.module.split(".")[0]


def check_implicit_relative(ctx: ValidationContext) -> Iterator[Finding]:
    """`import example` for a sibling module works only in Python 2 (seed guide, imports)."""
    if ctx.selection is None:
        return
    for relpath in app_python_files(ctx):
        folder = PurePosixPath(relpath).parent
        tree = parse_module(ctx.project.root / relpath)
        if not folder.parts or not isinstance(tree, ast.Module):
            continue
        for site in iter_imports(tree):
            for name in _absolute_names(site):
                if module_ships(ctx, (*folder.parts, name)) and not module_ships(ctx, (name,)):
                    yield FP504.finding(
                        f"`{name}` is a sibling module in {folder}/, but this absolute import "
                        "looks for a top-level module",
                        hint=f"Use a relative import: from . import {name}.",
                        path=relpath,
                        line=site.line,
                    )


CHECKS: Final = (check_syntax, check_app_imports, check_implicit_relative)
