"""Configuration, parsed once into a frozen `Options`.

Precedence, highest first: command line > `FUNCPUB_*` environment variables >
`[tool.funcpub]` in the app's pyproject.toml > packaged defaults (resources/defaults.toml).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

from funcpub.errors import ConfigError
from funcpub.masking import shown_value
from funcpub.resources import TOMLDecodeError, parse_toml, read_toml
from funcpub.settingrules import canonical_key, name_hint, name_problem, value_problem
from funcpub.settingsfiles import parse_assignment

StrategyName = Literal["local", "docker", "remote", "none"]
Installer = Literal["uv", "pip"]
CommandName = Literal["validate", "pack", "publish"]
Source = Literal["command line", "environment", "pyproject.toml", "default"]
CloudName = Literal["AzureCloud", "AzureChinaCloud", "AzureUSGovernment", "emulator"]

BUILDS_BY_COMMAND: Final[Mapping[CommandName, tuple[StrategyName, ...]]] = {
    "validate": get_args(StrategyName),
    "pack": ("local", "docker", "none"),
    "publish": get_args(StrategyName),
}
# Keys that mean something only to some builds, and their command-line flags. Given on the
# command line for another build they are refused; from the environment or pyproject.toml
# (defaults for every build of the project) they are left alone.
BUILD_SPECIFIC: Final[Mapping[str, tuple[str, tuple[StrategyName, ...]]]] = {
    "installer": ("--installer", ("local", "docker")),
    "dockerfile": ("--dockerfile", ("docker",)),
    "image": ("--image", ("docker",)),
    "base-image": ("--base-image", ("docker",)),
    "docker-network": ("--network", ("docker",)),
    "pull": ("--pull", ("docker",)),
}
ENV_PREFIX: Final = "FUNCPUB_"
# FUNCPUB_* variables that are not configuration keys.
EMULATOR_URL_ENV: Final = "FUNCPUB_EMULATOR_URL"  # the emulator cloud's endpoints
EMULATOR_DATA_ENV: Final = "FUNCPUB_EMULATOR_DATA"  # `funcpub emulator`'s default data dir
CI_ENV: Final = "FUNCPUB_CI"  # force a CI flavour or turn CI mode off (funcpub.cimode)
KEEP_CONTAINER_ENV: Final = "FUNCPUB_KEEP_CONTAINER"  # `1`: keep a docker build's container
OTHER_ENV_VARIABLES: Final = frozenset(
    {EMULATOR_URL_ENV, EMULATOR_DATA_ENV, CI_ENV, KEEP_CONTAINER_ENV}
)
# `[tool.funcpub.app-settings]`: app settings to publish (a table, not a configuration key).
APP_SETTINGS_TABLE: Final = "app-settings"
_PYTHON_VERSION = re.compile(r"3\.\d{1,2}")
_FUNCTIONS_VERSION = re.compile(r"~?(\d+)(?:\.x|\.\*)?")
# Slot names share the site-name alphabet; Azure caps the combined host name at 59 characters.
_SLOT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,57}[A-Za-z0-9])?")
# Azure resource group names: 1-90 of letters, digits, _ - . ( ), not ending with a period.
_RESOURCE_GROUP = re.compile(r"[\w().-]{0,89}[\w()-]")
_SUBSCRIPTION_ID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")
# An image reference: [registry[:port]/]name[:tag][@digest]; a registry has a dot, a port or
# is localhost, the path components are lower case.
_IMAGE_REFERENCE = re.compile(
    r"(?:(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d+)?/|[A-Za-z0-9-]+:\d+/)?"
    r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
_NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _parse_python_version(value: str) -> str:
    if not _PYTHON_VERSION.fullmatch(value):
        msg = f"python-version must look like 3.11, got {value!r}"
        raise ConfigError(msg)
    return value


def _parse_functions_version(value: str) -> str:
    match = _FUNCTIONS_VERSION.fullmatch(value)
    if not match:
        msg = f"functions-version must be a major version such as 4 (or ~4), got {value!r}"
        raise ConfigError(msg)
    return match.group(1)


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            msg = f"{name} must be one of {', '.join(choices)}, got {value!r}"
            raise ConfigError(msg)
        return value

    return parse


def _parse_resource_group(value: str) -> str:
    if not _RESOURCE_GROUP.fullmatch(value):
        msg = f"resource-group is not a valid resource group name: {value!r}"
        raise ConfigError(msg)
    return value


def _matching(pattern: re.Pattern[str], expected: str) -> Callable[[str], str]:
    """A parser of values `pattern` matches in full; `expected` says what they must be."""

    def parse(value: str) -> str:
        if not pattern.fullmatch(value):
            msg = f"{expected}, got {value!r}"
            raise ConfigError(msg)
        return value

    return parse


def _parse_path(value: str) -> str:
    if not value.strip():
        msg = "dockerfile must be a path to a Dockerfile, got an empty value"
        raise ConfigError(msg)
    return value


PARSERS: Final[Mapping[str, Callable[[str], str]]] = {
    "build": _choice("build", get_args(StrategyName)),
    "python-version": _parse_python_version,
    "functions-version": _parse_functions_version,
    "installer": _choice("installer", get_args(Installer)),
    "slot": _matching(_SLOT_NAME, "slot must be letters, digits and hyphens (1-59 characters)"),
    "cloud": _choice("cloud", get_args(CloudName)),
    "subscription": _matching(_SUBSCRIPTION_ID, "subscription must be a subscription id (a GUID)"),
    "resource-group": _parse_resource_group,
    "dockerfile": _parse_path,
    "image": _matching(_IMAGE_REFERENCE, "image must be an image reference like python:3.11"),
    "base-image": _matching(
        _IMAGE_REFERENCE, "base-image must be an image reference like python:3.11"
    ),
    "docker-network": _matching(
        _NETWORK_NAME, "docker-network must be a network name such as none or bridge"
    ),
    "pull": _choice("pull", ("true", "false")),
}
# Keys only a docker build reads: the run's summary lists them for docker builds only.
DOCKER_KEYS: Final = ("dockerfile", "image", "base-image", "docker-network", "pull")


def env_var(key: str) -> str:
    """The environment variable of a key: `python-version` -> FUNCPUB_PYTHON_VERSION."""
    return ENV_PREFIX + key.upper().replace("-", "_")


@dataclass(frozen=True, kw_only=True)
class AppSetting:
    """An app setting asked for by `--app-setting` or `[tool.funcpub.app-settings]`."""

    key: str
    value: str
    source: Source

    @property
    def public(self) -> bool:
        """pyproject.toml is committed with the app: its values may be printed."""
        return self.source == "pyproject.toml"


@dataclass(frozen=True, kw_only=True)
class DockerSettings:
    """How `--build docker` gets its image and runs its container."""

    dockerfile: Path | None = None  # the user's Dockerfile (absolute); None: funcpub's own
    image: str | None = None  # a prebuilt image: no image build at all
    base_image: str | None = None  # BASE_IMAGE of the Dockerfile; None: Azure's Python image
    network: str | None = None  # the container's network (`none` for offline builds)
    pull: bool = False  # pull the base image (or --image) and rebuild, even when present


@dataclass(frozen=True, kw_only=True)
class Options:
    """The effective configuration of one run."""

    command: CommandName
    build: StrategyName
    python_version: str
    functions_version: str
    installer: Installer
    slot: str | None
    cloud: CloudName
    subscription: str | None
    resource_group: str | None
    sources: Mapping[str, Source]
    warnings: tuple[str, ...] = field(default=())
    app_settings: tuple[AppSetting, ...] = field(default=())
    docker: DockerSettings = field(default_factory=DockerSettings)

    def summary(self) -> tuple[tuple[str, str, Source], ...]:
        """(key, value, where it came from) for every setting, printed at the start of a run."""
        values = {
            "build": self.build,
            "python-version": self.python_version,
            "functions-version": self.functions_version,
            "installer": self.installer,
            "slot": self.slot or "(production)",
            "cloud": self.cloud,
            "subscription": self.subscription or "(from the environment)",
            "resource-group": self.resource_group or "(looked up)",
        }
        if self.build == "docker":
            values |= {
                "dockerfile": str(self.docker.dockerfile or "(funcpub's own)"),
                "image": self.docker.image or "(built from the Dockerfile)",
                "base-image": self.docker.base_image or "(Azure's Python image)",
                "docker-network": self.docker.network or "(the engine's default)",
                "pull": "true" if self.docker.pull else "false",
            }
        rows = [(key, value, self.sources[key]) for key, value in values.items()]
        for item in self.app_settings:
            shown = shown_value(item.key, item.value, public=item.public)
            rows.append((f"app-setting {item.key}", shown, item.source))
        return tuple(rows)


def read_pyproject_config(app_root: Path) -> dict[str, str]:
    """The `[tool.funcpub]` table of the app's pyproject.toml, values as strings.

    The `app-settings` sub-table is not a configuration key: see `read_pyproject_app_settings`.
    """
    path, table = _tool_table(app_root)
    return {
        key: _config_string(path, key, value)
        for key, value in table.items()
        if key != APP_SETTINGS_TABLE
    }


def read_pyproject_app_settings(app_root: Path) -> dict[str, str]:
    """`[tool.funcpub.app-settings]`: KEY = "value" (numbers and booleans become strings)."""
    path, table = _tool_table(app_root)
    settings = table.get(APP_SETTINGS_TABLE, {})
    if not isinstance(settings, dict):
        msg = f"[tool.funcpub] {APP_SETTINGS_TABLE} in {path} must be a table"
        raise ConfigError(msg, hint='[tool.funcpub.app-settings] then KEY = "value" lines')
    return {str(key): _setting_string(path, key, value) for key, value in settings.items()}


def _tool_table(app_root: Path) -> tuple[Path, dict[str, Any]]:
    path = app_root / "pyproject.toml"
    if not path.is_file():
        return path, {}
    try:
        data = parse_toml(path.read_text(encoding="utf-8"))
    except (TOMLDecodeError, UnicodeDecodeError) as error:
        msg = f"{path} is not valid TOML: {error}"
        raise ConfigError(msg, hint="fix the file or remove the [tool.funcpub] table") from None
    table = data.get("tool", {}).get("funcpub", {})
    if not isinstance(table, dict):
        msg = f"[tool.funcpub] in {path} must be a table"
        raise ConfigError(msg)
    return path, table


def _setting_string(path: Path, key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    msg = f"[tool.funcpub.app-settings] {key} in {path} must be a string, number or boolean"
    raise ConfigError(msg, hint=f'write it as a string: {key} = "..."')


def _config_string(path: Path, key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        msg = f"[tool.funcpub] {key} in {path} must be a string, got {value!r}"
        raise ConfigError(msg, hint=f'quote it: {key} = "{value}"')
    return str(value)


def _reject_unknown_keys(config: Mapping[str, object], origin: str) -> None:
    for key in config:
        if key not in PARSERS and key != APP_SETTINGS_TABLE:
            close = difflib.get_close_matches(key, PARSERS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(PARSERS)}"
            msg = f"unknown configuration key {key!r} in {origin}"
            raise ConfigError(msg, hint=hint)


def _unknown_env_warnings(environ: Mapping[str, str]) -> tuple[str, ...]:
    known = {env_var(key) for key in PARSERS} | OTHER_ENV_VARIABLES
    return tuple(
        f"ignoring unknown environment variable {name}"
        for name in sorted(environ)
        if name.startswith(ENV_PREFIX) and name not in known
    )


def _defaults(command: CommandName) -> dict[str, str | None]:
    data = read_toml("defaults.toml")
    build_defaults: dict[str, str] = data.pop("build")
    unset = dict.fromkeys(("slot", "subscription", "resource-group"))
    return {**data, **unset, "build": build_defaults.get(command, build_defaults["publish"])}


def resolve_options(
    command: CommandName,
    app_root: Path,
    cli: Mapping[str, str | None],
    environ: Mapping[str, str],
    *,
    app_settings: Sequence[str] = (),
) -> Options:
    """Merge every configuration level into `Options`; ConfigError on any bad value.

    `app_settings` are the command line's `--app-setting KEY=VALUE` values; they win over
    `[tool.funcpub.app-settings]` key by key (there is no environment level for them).
    """
    pyproject = read_pyproject_config(app_root)
    _reject_unknown_keys(pyproject, f"{app_root / 'pyproject.toml'} [tool.funcpub]")
    _reject_unknown_keys(cli, "the command line")
    if APP_SETTINGS_TABLE in cli:
        msg = f"{APP_SETTINGS_TABLE} is not a command-line key"
        raise ConfigError(msg, hint="pass --app-setting KEY=VALUE")
    layers: tuple[tuple[Source, Mapping[str, str | None]], ...] = (
        ("command line", cli),
        ("environment", {key: environ.get(env_var(key)) for key in PARSERS}),
        ("pyproject.toml", pyproject),
        ("default", _defaults(command)),
    )
    values: dict[str, str | None] = {}
    sources: dict[str, Source] = {}
    for key, parse in PARSERS.items():
        source, raw = next(
            ((name, layer[key]) for name, layer in layers if layer.get(key) is not None),
            ("default", None),
        )
        values[key] = None if raw is None else _parse_from(source, key, raw, parse)
        sources[key] = source
    build = cast("StrategyName", values["build"])
    _check_build_allowed(command, build, sources["build"])
    _check_build_specific(build, sources)
    return Options(
        command=command,
        build=build,
        python_version=cast("str", values["python-version"]),
        functions_version=cast("str", values["functions-version"]),
        installer=cast("Installer", values["installer"]),
        slot=values["slot"],
        cloud=cast("CloudName", values["cloud"]),
        subscription=values["subscription"],
        resource_group=values["resource-group"],
        sources=sources,
        warnings=_unknown_env_warnings(environ),
        app_settings=resolve_app_settings(read_pyproject_app_settings(app_root), app_settings),
        docker=_docker_settings(app_root, values, sources),
    )


def _docker_settings(
    app_root: Path, values: Mapping[str, str | None], sources: Mapping[str, Source]
) -> DockerSettings:
    """The docker keys; a Dockerfile path is relative to the app in pyproject.toml, else to here."""
    dockerfile = values["dockerfile"]
    path = None
    if dockerfile is not None:
        base = app_root if sources["dockerfile"] == "pyproject.toml" else Path.cwd()
        path = (base / dockerfile).resolve()
        if not path.is_file():
            msg = f"the Dockerfile {path} does not exist (dockerfile from {sources['dockerfile']})"
            raise ConfigError(msg, hint="pass the path of a Dockerfile, or drop the option")
    if path is not None and values["image"] is not None:
        msg = "dockerfile and image cannot be combined: an image is used as it is, never built"
        raise ConfigError(msg, hint="drop one of the two")
    return DockerSettings(
        dockerfile=path,
        image=values["image"],
        base_image=values["base-image"],
        network=values["docker-network"],
        pull=values["pull"] == "true",
    )


def resolve_app_settings(
    pyproject: Mapping[str, str], cli: Sequence[str]
) -> tuple[AppSetting, ...]:
    """pyproject.toml's app settings, then the command line's (which win per key), validated."""
    merged: dict[str, AppSetting] = {}
    layers: tuple[tuple[Source, list[tuple[str, str]]], ...] = (
        ("pyproject.toml", list(pyproject.items())),
        ("command line", [parse_assignment(text, "--app-setting") for text in cli]),
    )
    for source, pairs in layers:
        for key, value in pairs:
            setting = AppSetting(key=canonical_key(key), value=value, source=source)
            check_app_setting(setting)
            merged.pop(setting.key.upper(), None)
            merged[setting.key.upper()] = setting
    return tuple(merged.values())


def check_app_setting(setting: AppSetting) -> None:
    """ConfigError for a bad name, an empty value or a known key's value out of range."""
    where = " (from pyproject.toml)" if setting.source == "pyproject.toml" else ""
    problem = name_problem(setting.key)
    if problem:
        raise ConfigError(f"app setting {problem}{where}", hint=name_hint(setting.key))
    if not setting.value.strip():
        msg = f"app setting {setting.key} has an empty value{where}"
        raise ConfigError(msg, hint="funcpub sets settings; remove one in the portal or with az")
    problem = value_problem(setting.key, setting.value)
    if problem:
        raise ConfigError(f"{problem}{where}", hint="see docs/guide/settings.md for the ranges")


def _parse_from(source: Source, key: str, raw: str, parse: Callable[[str], str]) -> str:
    try:
        return parse(raw)
    except ConfigError as error:
        where = {
            "environment": f" (from {env_var(key)})",
            "pyproject.toml": " (from pyproject.toml)",
        }
        raise ConfigError(error.message + where.get(source, ""), hint=error.hint) from None


def _check_build_specific(build: StrategyName, sources: Mapping[str, Source]) -> None:
    """ConfigError for a command-line option that the build would silently ignore."""
    for key, (flag, builds) in BUILD_SPECIFIC.items():
        if sources[key] == "command line" and build not in builds:
            raise inapplicable(flag, build, builds)


def inapplicable(flag: str, build: StrategyName, builds: tuple[StrategyName, ...]) -> ConfigError:
    """The error for `flag`, which means nothing to a `build` build."""
    kinds = " and ".join((", ".join(builds[:-1]), builds[-1])) if len(builds) > 1 else builds[0]
    msg = f"{flag} only applies to {kinds} builds, and this one is a {build} build"
    return ConfigError(msg, hint=f"drop {flag}, or use --build {'|'.join(builds)}")


def _check_build_allowed(command: CommandName, build: StrategyName, source: Source) -> None:
    allowed = BUILDS_BY_COMMAND[command]
    if build not in allowed:
        msg = f"`funcpub {command}` cannot run a {build} build (build={build} from {source})"
        raise ConfigError(msg, hint=f"use --build {'|'.join(allowed)}")
