"""Apps declared in a seed file (TOML), created when the emulator starts if they are missing.

```toml
[[app]]
name = "hello-funcpub"        # required
plan = "EP1"                  # Y1, EP1, EP2, EP3, FC1 or P1v3
python = "3.11"
functions-version = "4"
os = "linux"
resource-group = "rg-funcpub"
basic-auth = true
slots = ["staging"]
settings = { FEATURE_FLAG = "on" }
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NoReturn

from funcpub.emulator.control import AppOptions
from funcpub.emulator.records import parse_os, parse_plan
from funcpub.emulator.server import Emulator, SiteInfo
from funcpub.errors import ConfigError
from funcpub.resources import TOMLDecodeError, parse_toml

KEYS: Final = frozenset(
    {"name", "plan", "python", "functions-version", "os", "resource-group", "basic-auth"}
    | {"slots", "settings"}
)


@dataclass(frozen=True, kw_only=True)
class SeedApp:
    """One declared app: what `create-app` takes, plus slots and extra settings."""

    app: AppOptions
    slots: tuple[str, ...] = ()
    settings: dict[str, str] = field(default_factory=dict)


def _fail(message: str) -> NoReturn:
    raise ConfigError(message, hint="the seed file format is in docs/emulator.md")


def read_seed(path: Path) -> tuple[SeedApp, ...]:
    """The apps of a seed file; ConfigError naming the problem."""
    try:
        data = parse_toml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TOMLDecodeError) as error:
        _fail(f"cannot read the seed file {path}: {error}")
    entries = data.get("app", [])
    if not isinstance(entries, list):
        _fail(f"{path}: `app` must be an array of tables ([[app]])")
    try:
        return tuple(_seed_app(path, n, entry) for n, entry in enumerate(entries, start=1))
    except ValueError as error:  # an unknown plan or os
        _fail(f"{path}: {error}")


def _seed_app(path: Path, index: int, entry: Any) -> SeedApp:
    where = f"{path}: app #{index}"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        _fail(f"{where} needs a name")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        _fail(f"{where} has unknown keys: {', '.join(unknown)}")
    settings = entry.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(v, str) for v in settings.values()):
        _fail(f"{where}: settings must be a table of strings")
    app = AppOptions(
        name=entry["name"],
        plan=parse_plan(entry.get("plan", "EP1")),
        python=str(entry.get("python", "3.11")),
        functions_version=str(entry.get("functions-version", "4")),
        os=parse_os(entry.get("os", "linux")),
        resource_group=str(entry.get("resource-group", "rg-funcpub")),
        basic_auth=bool(entry.get("basic-auth", True)),
    )
    return SeedApp(
        app=app,
        slots=tuple(str(slot) for slot in entry.get("slots", ())),
        settings={str(key): value for key, value in settings.items()},
    )


def apply_seed(emulator: Emulator, apps: tuple[SeedApp, ...]) -> tuple[SiteInfo, ...]:
    """Create the declared apps and slots that do not exist yet; the ones created."""
    existing = {(site.name.lower(), site.slot) for site in emulator.sites()}
    created: list[SiteInfo] = []
    for seed in apps:
        app = seed.app
        if (app.name.lower(), None) not in existing:
            created.append(
                emulator.create_app(
                    app.name,
                    plan=app.plan,
                    python=app.python,
                    functions_version=app.functions_version,
                    os=app.os,
                    resource_group=app.resource_group,
                    basic_auth=app.basic_auth,
                    app_settings=seed.settings,
                )
            )
        created.extend(
            emulator.create_slot(app.name, slot)
            for slot in seed.slots
            if (app.name.lower(), slot) not in existing
        )
    return tuple(created)
