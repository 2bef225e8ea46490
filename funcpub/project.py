"""The function app on disk, read statically: host.json, settings, v1 folders, v2 decorators.

User code is never imported: `function_app.py`, blueprints and v1 scripts are parsed with `ast`,
JSON files with `json`. Loading is tolerant, so that validation can report every problem at once.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from funcpub.errors import ConfigError, ValidationError
from funcpub.ignore import read_funcignore

ProgrammingModel = Literal["v1", "v2", "mixed", "none"]
AppKind = Literal["app", "asgi", "wsgi", "blueprint"]
FunctionDef = ast.FunctionDef | ast.AsyncFunctionDef

FUNCTION_APP: Final = "function_app.py"
FUNCTION_JSON: Final = "function.json"
DEFAULT_SCRIPT: Final = "__init__.py"
DEFAULT_ENTRY_POINT: Final = "main"
HTTP_TRIGGER: Final = "httpTrigger"
# The library applies FunctionApp(http_auth_level=AuthLevel.FUNCTION) when a route sets none.
DEFAULT_AUTH_LEVEL: Final = "function"
# The route AsgiFunctionApp / WsgiFunctionApp register for their single catch-all function.
CATCH_ALL_ROUTE: Final = "/{*route}"

_FUNCTIONS_MODULES: Final = frozenset({"azure.functions", "azure.durable_functions"})
_APP_CLASSES: Final[Mapping[str, AppKind]] = {
    "FunctionApp": "app",
    "DFApp": "app",  # azure.durable_functions.DFApp is a FunctionApp
    "AsgiFunctionApp": "asgi",
    "WsgiFunctionApp": "wsgi",
    "Blueprint": "blueprint",
}
_REGISTER_METHODS: Final = frozenset({"register_functions", "register_blueprint"})
# Decorators whose binding type the generic `x_trigger -> xTrigger` rule gets wrong.
_BINDING_TYPES: Final[Mapping[str, str]] = {
    "route": HTTP_TRIGGER,
    "schedule": "timerTrigger",
    "event_hub_message_trigger": "eventHubTrigger",
    "service_bus_queue_trigger": "serviceBusTrigger",
    "service_bus_topic_trigger": "serviceBusTrigger",
    "service_bus_queue_output": "serviceBus",
    "service_bus_topic_output": "serviceBus",
    "cosmos_db_trigger": "cosmosDBTrigger",
    "cosmos_db_trigger_v3": "cosmosDBTrigger",
    "cosmos_db_input": "cosmosDB",
    "cosmos_db_input_v3": "cosmosDB",
    "cosmos_db_output": "cosmosDB",
    "cosmos_db_output_v3": "cosmosDB",
    "warm_up_trigger": "warmupTrigger",
    "assistant_skill_trigger": "assistantSkillsTrigger",
}
_GENERIC_BINDINGS: Final = frozenset(
    {"generic_trigger", "generic_input_binding", "generic_output_binding"}
)
# Keyword naming the Python parameter a decorator binds; durable decorators use their own.
_ARG_NAME_KEYWORDS: Final = (
    "arg_name",
    "trigger_arg_name",
    "context_name",
    "input_name",
    "client_name",
)
# Lenient JSON, as the host's parser (Json.NET) accepts comments and trailing commas.
_JSON_COMMENTS = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
_JSON_TRAILING_COMMAS = re.compile(r'("(?:\\.|[^"\\])*")|,(?=\s*[}\]])')


@dataclass(frozen=True, kw_only=True)
class BindingInfo:
    """One binding of a function: from function.json (v1) or a decorator (v2)."""

    type: str
    direction: str  # "in", "out" or "inout"
    name: str | None  # the Python parameter (or "$return"); None when not a literal
    line: int | None = None  # v2: line of the decorator

    @property
    def is_trigger(self) -> bool:
        """Trigger bindings are the ones whose type ends in "Trigger" (as the host decides)."""
        return self.type.lower().endswith("trigger")


@dataclass(frozen=True, kw_only=True)
class FunctionInfo:
    """A function the host would index."""

    name: str
    trigger: str | None  # trigger binding type, e.g. "httpTrigger"; None if none found
    script: str  # relpath of the Python file that defines it
    entry_point: str  # the Python function name
    line: int | None  # line of the def, when found
    route: str | None = None  # http only
    methods: tuple[str, ...] = ()  # http only, upper case; () means every method
    auth_level: str | None = None  # http only, lower case
    config: str | None = None  # v1: relpath of function.json; v2: None
    bindings: tuple[BindingInfo, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AppInstance:
    """A module-level `FunctionApp()` (or Asgi/Wsgi app, or Blueprint) assignment."""

    name: str
    kind: AppKind
    line: int
    auth_level: str | None  # the http_auth_level argument, when a literal


@dataclass(frozen=True, kw_only=True)
class JsonProblem:
    """Why a JSON file could not be read."""

    message: str
    line: int | None


@dataclass(frozen=True, kw_only=True)
class FunctionProject:
    """A function app folder, as Azure would see it after deployment."""

    root: Path
    host_json: Mapping[str, Any] | None  # None when missing or unparseable
    requirements_path: Path | None
    local_settings: Mapping[str, Any] | None
    funcignore: tuple[str, ...]
    model: ProgrammingModel
    functions: tuple[FunctionInfo, ...]

    @classmethod
    def load(cls, root: Path) -> FunctionProject:
        """Read the app in `root`; raises ConfigError only if `root` is not a folder."""
        root = Path(os.path.normpath(Path(root).absolute()))
        hint = "Pass the function app folder: the one that holds host.json."
        if not root.exists():
            msg = f"App folder {root} does not exist"
            raise ConfigError(msg, hint=hint)
        if not root.is_dir():
            msg = f"{root} is not a directory"
            raise ConfigError(msg, hint=hint)
        v1 = v1_functions(root)
        v2 = v2_functions(root)
        requirements = root / "requirements.txt"
        return cls(
            root=root,
            host_json=_json_object(root / "host.json"),
            requirements_path=requirements if requirements.is_file() else None,
            local_settings=_json_object(root / "local.settings.json"),
            funcignore=_funcignore(root),
            model=_model(has_v1=bool(v1), has_v2=(root / FUNCTION_APP).is_file()),
            functions=(*v1, *v2),
        )

    def relpath(self, path: Path) -> str:
        """`path` relative to the root, POSIX style (`..` parts if it lies outside)."""
        path = self.root / path
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return Path(os.path.relpath(path, self.root)).as_posix()


def _funcignore(root: Path) -> tuple[str, ...]:
    # An unreadable .funcignore is reported by validation when it selects the files.
    try:
        return read_funcignore(root)
    except ValidationError:
        return ()


def _model(*, has_v1: bool, has_v2: bool) -> ProgrammingModel:
    if has_v1 and has_v2:
        return "mixed"
    if has_v1:
        return "v1"
    return "v2" if has_v2 else "none"


# --- files -------------------------------------------------------------------------------------


def read_json(path: Path) -> tuple[Any, JsonProblem | None]:
    """Parse JSON leniently (comments, trailing commas, BOM): (value, None) or (None, why)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return None, JsonProblem(message=f"cannot be read ({exc.strerror})", line=None)
    except UnicodeDecodeError:
        return None, JsonProblem(message="is not UTF-8 text", line=None)
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        problem = JsonProblem(message=exc.msg, line=exc.lineno)
    except RecursionError:
        return None, JsonProblem(message="is nested too deeply", line=None)
    try:
        # Comments first: a trailing comma may be followed by one (`"a": 1, // x` + `}`).
        relaxed = _JSON_TRAILING_COMMAS.sub(_relax, _JSON_COMMENTS.sub(_relax, text))
        return json.loads(relaxed), None
    except (json.JSONDecodeError, RecursionError):
        return None, problem


def _relax(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1)
    # Blank out comments and trailing commas but keep newlines, so line numbers still hold.
    return re.sub(r"[^\n]", " ", match.group(0))


def _json_object(path: Path) -> Mapping[str, Any] | None:
    if not path.is_file():
        return None
    value, _ = read_json(path)
    return value if isinstance(value, dict) else None


def parse_module(path: Path) -> ast.Module | SyntaxError:
    """Parse a Python file (cached on path, mtime and size); a SyntaxError says why it failed."""
    try:
        stat = path.stat()
    except OSError as exc:
        return _syntax_error(f"cannot read the file ({exc.strerror})", path)
    return _parse_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2048)
def _parse_cached(path: str, mtime_ns: int, size: int) -> ast.Module | SyntaxError:
    del mtime_ns, size  # cache key only
    try:
        source = Path(path).read_bytes()
    except OSError as exc:
        return _syntax_error(f"cannot read the file ({exc.strerror})", Path(path))
    try:
        with warnings.catch_warnings():  # invalid escapes etc. are the user's business
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=path)
    except SyntaxError as exc:
        return exc
    except ValueError as exc:  # null bytes, before Python 3.12
        return _syntax_error(str(exc), Path(path))


def _syntax_error(message: str, path: Path) -> SyntaxError:
    error = SyntaxError(message)
    error.filename = str(path)
    return error


def find_def(tree: ast.Module, name: str) -> FunctionDef | None:
    """The last top-level `def name` / `async def name` (the one Python keeps)."""
    found = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found = node
    return found


def def_at(tree: ast.Module, line: int | None) -> FunctionDef | None:
    """The top-level def starting on `line` (v2 apps may reuse a Python name)."""
    for node in _top_level(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.lineno == line:
            return node
    return None


def parameters(node: FunctionDef) -> tuple[ast.arg, ...]:
    """Every parameter of a def, as inspect.signature lists them (the worker's view)."""
    args = node.args
    star = tuple(a for a in (args.vararg, args.kwarg) if a is not None)
    return (*args.posonlyargs, *args.args, *args.kwonlyargs, *star)


def module_file(root: Path, module: str) -> Path | None:
    """The file of a dotted module under `root`: `a/b.py` or `a/b/__init__.py`."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


# --- v1: one folder per function with function.json ---------------------------------------------


def v1_functions(root: Path) -> tuple[FunctionInfo, ...]:
    """One function per direct subfolder holding a function.json."""
    try:
        children = sorted(root.iterdir())
    except OSError:  # unreadable: the file walk reports it
        return ()
    folders = [p for p in children if _is_file(p / FUNCTION_JSON)]
    return tuple(_v1_function(root, folder) for folder in folders)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _v1_function(root: Path, folder: Path) -> FunctionInfo:
    value, _ = read_json(folder / FUNCTION_JSON)
    config: Mapping[str, Any] = value if isinstance(value, dict) else {}
    script = _str_or(config.get("scriptFile"), DEFAULT_SCRIPT)
    entry_point = _str_or(config.get("entryPoint"), DEFAULT_ENTRY_POINT)
    script_path = Path(os.path.normpath(folder / script))
    raw_bindings = config.get("bindings")
    raw = [b for b in raw_bindings if isinstance(b, dict)] if isinstance(raw_bindings, list) else []
    bindings = tuple(b for b in map(_v1_binding, raw) if b is not None)
    http = next((b for b in raw if str(b.get("type", "")).lower() == HTTP_TRIGGER.lower()), None)
    trigger = next((b.type for b in bindings if b.is_trigger), None)
    tree = parse_module(script_path) if script_path.is_file() else None
    node = find_def(tree, entry_point) if isinstance(tree, ast.Module) else None
    return FunctionInfo(
        name=folder.name,
        trigger=trigger,
        script=_relpath(root, script_path),
        entry_point=entry_point,
        line=node.lineno if node else None,
        route=_str_or(http.get("route"), folder.name) if http else None,
        methods=_v1_methods(http.get("methods")) if http else (),
        auth_level=_str_or(http.get("authLevel"), DEFAULT_AUTH_LEVEL).lower() if http else None,
        config=_relpath(root, folder / FUNCTION_JSON),
        bindings=bindings,
    )


def _v1_binding(raw: Mapping[str, Any]) -> BindingInfo | None:
    kind, direction, name = raw.get("type"), raw.get("direction"), raw.get("name")
    if not (isinstance(kind, str) and isinstance(direction, str) and isinstance(name, str)):
        return None
    return BindingInfo(type=kind, direction=direction.lower(), name=name)


def _v1_methods(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(m.upper() for m in value if isinstance(m, str))


def _str_or(value: object, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _relpath(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


# --- v2: decorators in function_app.py and its blueprints ----------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Names:
    """How a module refers to azure.functions: module aliases and imported class names."""

    modules: frozenset[str]  # "func", "azure.functions", "df"
    classes: Mapping[str, str]  # local name -> class name


def _import_names(tree: ast.Module) -> _Names:
    modules: set[str] = set()
    classes: dict[str, str] = {}
    for node in _top_level(tree):
        if isinstance(node, ast.Import):
            modules.update(a.asname or a.name for a in node.names if a.name in _FUNCTIONS_MODULES)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                if node.module == "azure" and f"azure.{alias.name}" in _FUNCTIONS_MODULES:
                    modules.add(alias.asname or alias.name)
                elif node.module in _FUNCTIONS_MODULES and alias.name == "*":
                    classes.update({name: name for name in _APP_CLASSES})
                elif node.module in _FUNCTIONS_MODULES and alias.name in _APP_CLASSES:
                    classes[alias.asname or alias.name] = alias.name
    return _Names(modules=frozenset(modules), classes=classes)


def _top_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """Module-level statements, looking inside top-level `try` and `if` blocks."""
    for node in tree.body:
        yield node
        if isinstance(node, ast.Try | ast.If):
            nested = ast.Module(body=[*node.body, *node.orelse], type_ignores=[])
            yield from _top_level(nested)


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _app_kind(call: ast.expr, names: _Names) -> AppKind | None:
    if not isinstance(call, ast.Call):
        return None
    dotted = dotted_name(call.func)
    if dotted is None:
        return None
    if dotted in names.classes:
        return _APP_CLASSES[names.classes[dotted]]
    module, _, cls = dotted.rpartition(".")
    return _APP_CLASSES.get(cls) if module in names.modules else None


def find_apps(tree: ast.Module) -> tuple[AppInstance, ...]:
    """Module-level `x = func.FunctionApp(...)` style assignments (apps and blueprints)."""
    names = _import_names(tree)
    found: list[AppInstance] = []
    for node in _top_level(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        kind = _app_kind(value, names)
        if kind is None or not isinstance(value, ast.Call):
            continue
        # FunctionApp(http_auth_level) vs AsgiFunctionApp(app, http_auth_level)
        auth = _keyword(value, "http_auth_level", {"app": 0, "asgi": 1, "wsgi": 1}.get(kind))
        level = _enum_value(auth) if auth is not None else None
        found.extend(
            AppInstance(name=target.id, kind=kind, line=node.lineno, auth_level=level)
            for target in targets
            if isinstance(target, ast.Name)
        )
    return tuple(found)


def _keyword(call: ast.Call, name: str, position: int | None = None) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _enum_value(node: ast.expr) -> str | None:
    """`"anonymous"` or `func.AuthLevel.ANONYMOUS` -> `anonymous`."""
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    literal = _literal_str(node)
    return literal.lower() if literal is not None else None


@dataclass(frozen=True, kw_only=True)
class _Decorator:
    method: str
    call: ast.Call | None
    line: int


def _decorators(node: FunctionDef, owners: frozenset[str]) -> tuple[_Decorator, ...]:
    found = []
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id in owners
        ):
            found.append(_Decorator(method=target.attr, call=call, line=decorator.lineno))
    return tuple(found)


def binding_type(method: str, call: ast.Call | None = None) -> str | None:
    """The binding type a decorator adds (`queue_trigger` -> `queueTrigger`); None if none."""
    if method in _BINDING_TYPES:
        return _BINDING_TYPES[method]
    if method in _GENERIC_BINDINGS:
        return (_literal_str(_keyword(call, "type")) if call else None) or "generic"
    for suffix, tail in (("_trigger", "Trigger"), ("_input", ""), ("_output", "")):
        if method.endswith(suffix):
            head, *rest = method.removesuffix(suffix).split("_")
            return head + "".join(part.capitalize() for part in rest) + tail
    return None


def _direction(method: str) -> str:
    return "out" if method.endswith("_output") or method == "generic_output_binding" else "in"


def _arg_name(call: ast.Call | None) -> str | None:
    """The parameter a binding decorator names: `arg_name=` (or kin), else its first argument."""
    if call is None:
        return None
    for keyword in _ARG_NAME_KEYWORDS:
        node = _keyword(call, keyword)
        if node is not None:
            return _literal_str(node)
    return _literal_str(call.args[0]) if call.args else None


def _named(call: ast.Call | None, keyword: str, default: str) -> str | None:
    """A literal keyword argument, its default when absent, None when it isn't a literal."""
    node = _keyword(call, keyword) if call else None
    return default if node is None else _literal_str(node)


def _decorator_bindings(decorator: _Decorator) -> tuple[BindingInfo, ...]:
    kind = binding_type(decorator.method, decorator.call)
    if kind is None:
        return ()
    call, line = decorator.call, decorator.line
    if decorator.method == "route":
        request = _named(call, "trigger_arg_name", "req")
        response = _named(call, "binding_arg_name", "$return")
        return (
            BindingInfo(type=kind, direction="in", name=request, line=line),
            BindingInfo(type="http", direction="out", name=response, line=line),
        )
    direction = _direction(decorator.method)
    return (BindingInfo(type=kind, direction=direction, name=_arg_name(call), line=line),)


@dataclass(frozen=True, kw_only=True)
class _Http:
    route: str | None = None
    methods: tuple[str, ...] = ()
    auth_level: str | None = None


def _v2_http(decorators: tuple[_Decorator, ...], name: str, auth_default: str) -> _Http:
    route = next((d for d in decorators if d.method == "route"), None)
    if route is None:
        return _Http()
    call = route.call
    level = _keyword(call, "auth_level") if call else None
    return _Http(
        route=(_literal_str(_keyword(call, "route", 0)) if call else None) or name,
        methods=_v2_methods(_keyword(call, "methods")) if call else (),
        auth_level=(_enum_value(level) if level is not None else None) or auth_default,
    )


def _v2_function(
    node: FunctionDef, decorators: tuple[_Decorator, ...], script: str, auth_default: str
) -> FunctionInfo:
    name = node.name
    for decorator in decorators:
        if decorator.method == "function_name" and decorator.call is not None:
            name = _literal_str(_keyword(decorator.call, "name", 0)) or name
    bindings = tuple(b for d in decorators for b in _decorator_bindings(d))
    http = _v2_http(decorators, name, auth_default)
    return FunctionInfo(
        name=name,
        trigger=next((b.type for b in bindings if b.is_trigger), None),
        script=script,
        entry_point=node.name,
        line=node.lineno,
        route=http.route,
        methods=http.methods,
        auth_level=http.auth_level,
        bindings=bindings,
    )


def _v2_methods(node: ast.expr | None) -> tuple[str, ...]:
    if not isinstance(node, ast.List | ast.Tuple | ast.Set):
        return ()
    values = (_enum_value(item) for item in node.elts)
    return tuple(value.upper() for value in values if value)


def _module_functions(
    tree: ast.Module, owners: frozenset[str], script: str, auth_default: str
) -> Iterator[FunctionInfo]:
    for node in _top_level(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorators = _decorators(node, owners)
            if decorators:
                yield _v2_function(node, decorators, script, auth_default)


def _catch_all(app: AppInstance, script: str) -> FunctionInfo:
    """The one http function AsgiFunctionApp / WsgiFunctionApp register for the web app."""
    return FunctionInfo(
        name="http_app_func",
        trigger=HTTP_TRIGGER,
        script=script,
        entry_point="http_app_func",
        line=app.line,
        route=CATCH_ALL_ROUTE,
        auth_level=app.auth_level or DEFAULT_AUTH_LEVEL,
        bindings=(
            BindingInfo(type=HTTP_TRIGGER, direction="in", name="req", line=app.line),
            BindingInfo(type="http", direction="out", name="$return", line=app.line),
        ),
    )


def v2_functions(root: Path) -> tuple[FunctionInfo, ...]:
    """Functions registered on the FunctionApp in function_app.py, blueprints included."""
    path = root / FUNCTION_APP
    tree = parse_module(path) if path.is_file() else None
    if not isinstance(tree, ast.Module):
        return ()
    apps = find_apps(tree)
    main = [a for a in apps if a.kind != "blueprint"]
    if not main:
        return ()
    auth = main[0].auth_level or DEFAULT_AUTH_LEVEL
    app_names = frozenset(a.name for a in main)
    found = [_catch_all(a, FUNCTION_APP) for a in main if a.kind in ("asgi", "wsgi")]
    found.extend(_module_functions(tree, app_names, FUNCTION_APP, auth))
    local_blueprints = frozenset(a.name for a in apps if a.kind == "blueprint")
    for registered in _registered(tree, app_names):
        found.extend(_blueprint_functions(root, tree, registered, local_blueprints, auth))
    return tuple(found)


def _registered(tree: ast.Module, apps: frozenset[str]) -> Iterator[str]:
    """Dotted names passed to `app.register_functions(...)` / `app.register_blueprint(...)`."""
    for node in _top_level(tree):
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        owner = call.func.value
        if isinstance(owner, ast.Name) and owner.id in apps and call.func.attr in _REGISTER_METHODS:
            argument = _keyword(call, "function_container", 0)
            dotted = dotted_name(argument) if argument is not None else None
            if dotted:
                yield dotted


def _blueprint_functions(
    root: Path, tree: ast.Module, registered: str, local: frozenset[str], auth: str
) -> Iterator[FunctionInfo]:
    if registered in local:
        yield from _module_functions(tree, frozenset({registered}), FUNCTION_APP, auth)
        return
    source = _blueprint_source(tree, registered)
    if source is None:
        return
    module, variable = source
    path = module_file(root, module)
    blueprint_tree = parse_module(path) if path else None
    if path is None or not isinstance(blueprint_tree, ast.Module):
        return
    blueprints = {a.name for a in find_apps(blueprint_tree) if a.kind == "blueprint"}
    if variable in blueprints:
        script = _relpath(root, path)
        yield from _module_functions(blueprint_tree, frozenset({variable}), script, auth)


def _blueprint_source(tree: ast.Module, registered: str) -> tuple[str, str] | None:
    """(module, variable) a registered name comes from: `from m import bp` or `import m; m.bp`."""
    head, _, variable = registered.rpartition(".")
    for node in _top_level(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and not head:
            for alias in node.names:
                if (alias.asname or alias.name) == registered:
                    return node.module, alias.name
        elif isinstance(node, ast.Import) and head:
            for alias in node.names:
                if (alias.asname or alias.name) == head:
                    return alias.name, variable
    return None
