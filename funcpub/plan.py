"""The plan: everything a run will do, computed up front without side effects.

`make_plan` is pure; `--dry-run` prints the plan and stops, and execution only reads it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from funcpub import __version__
from funcpub.appsettings import (
    RefusedSetting,
    SettingChange,
    SettingsPlan,
    SettingsRequest,
    base_settings,
    change_to_dict,
    plan_settings,
)
from funcpub.hosting import delivery_table
from funcpub.ignore import PYTHON_PACKAGES, FileSelection
from funcpub.options import Options, StrategyName
from funcpub.process import Command
from funcpub.project import FunctionProject, ProgrammingModel
from funcpub.strategies import BuildStrategy, strategy_for
from funcpub.strategies.base import build_request
from funcpub.targets import TargetPlatform
from funcpub.validate import Finding, Report

LARGEST_SHOWN = 5


@dataclass(frozen=True, kw_only=True)
class PlannedFunction:
    """A function the host should index after the deploy."""

    name: str
    trigger: str | None
    script: str
    route: str | None


@dataclass(frozen=True, kw_only=True)
class PlannedFile:
    """One file of the package, for the largest-files list."""

    path: str
    size: int


@dataclass(frozen=True, kw_only=True)
class FileSummary:
    """The files that ship (before the build adds dependencies)."""

    count: int
    total_bytes: int
    largest: tuple[PlannedFile, ...]
    ignored: int


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What `funcpub publish` (or `pack`) will do."""

    funcpub_version: str
    app_name: str | None
    slot: str | None
    project_root: Path
    model: ProgrammingModel
    functions: tuple[PlannedFunction, ...]
    files: FileSummary
    strategy: StrategyName
    ships_python_packages: bool
    python_version: str
    functions_version: str
    target: TargetPlatform
    commands: tuple[Command, ...]
    setting_changes: tuple[SettingChange, ...]
    findings: tuple[Finding, ...]
    refused_settings: tuple[RefusedSetting, ...] = ()  # settings of a file not published, why
    warnings: tuple[str, ...] = ()  # e.g. a v2 app on an old pinned host
    # (hosting plan, how the package gets there): the app's plan, read at deploy time, decides
    delivery: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """No validation errors: the run may go ahead."""
        return not any(finding.severity == "error" for finding in self.findings)


def summarize_files(selection: FileSelection) -> FileSummary:
    """Counts, bytes and the largest files of a selection."""
    return FileSummary(
        count=len(selection.included),
        total_bytes=selection.total_bytes,
        largest=tuple(
            PlannedFile(path=item.relpath, size=item.size)
            for item in selection.largest(LARGEST_SHOWN)
        ),
        ignored=len(selection.ignored),
    )


def make_plan(
    project: FunctionProject,
    options: Options,
    *,
    selection: FileSelection,
    report: Report,
    app_name: str | None = None,
    settings: SettingsRequest | None = None,
) -> Plan:
    """Plan a pack or publish of `project`; reads nothing, writes nothing.

    `settings` holds the settings files to publish (already read) and how; the configuration's
    own app settings (`options.app_settings`) are planned for every publish.
    """
    strategy = strategy_for(options.build)
    request = build_request(project, options)
    planned = (
        plan_app_settings(project, options, settings)
        if app_name
        else SettingsPlan(changes=(), refused=(), warnings=())
    )
    return Plan(
        funcpub_version=__version__,
        app_name=app_name,
        slot=options.slot,
        project_root=project.root,
        model=project.model,
        functions=tuple(
            PlannedFunction(name=f.name, trigger=f.trigger, script=f.script, route=f.route)
            for f in project.functions
        ),
        files=summarize_files(selection),
        strategy=strategy.name,
        ships_python_packages=strategy.ships_python_packages,
        python_version=options.python_version,
        functions_version=options.functions_version,
        target=request.target,
        commands=strategy.commands(request),
        setting_changes=planned.changes,
        findings=report.findings,
        refused_settings=planned.refused,
        warnings=(*_package_warnings(strategy, selection), *planned.warnings),
        delivery=delivery_table(strategy.name) if app_name else (),
    )


def _package_warnings(strategy: BuildStrategy, selection: FileSelection) -> tuple[str, ...]:
    """A `.python_packages` of the app's that this build leaves out of the zip."""
    if strategy.ships_python_packages or f"{PYTHON_PACKAGES}/" not in selection.ignored:
        return ()
    return (
        f"leaving the app's {PYTHON_PACKAGES} out of the package: the {strategy.name} build"
        " installs requirements.txt on Azure",
    )


def plan_app_settings(
    project: FunctionProject, options: Options, settings: SettingsRequest | None = None
) -> SettingsPlan:
    """The setting changes of a publish: funcpub's (base and strategy) and the user's."""
    managed = (
        *base_settings(options.python_version, options.functions_version),
        *strategy_for(options.build).settings(),
    )
    return plan_settings(
        managed, options.app_settings, settings or SettingsRequest(), model=project.model
    )


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """A JSON-ready view of the plan (the `--json` document)."""
    data = asdict(plan)
    data["project_root"] = str(plan.project_root)
    data["ok"] = plan.ok
    data["target"] |= {
        "abi": plan.target.abi,
        "manylinux_tags": list(plan.target.manylinux_tags),
        "uv_platform": plan.target.uv_platform,
    }
    data["setting_changes"] = [change_to_dict(change) for change in plan.setting_changes]
    data["delivery"] = [
        {"hosting_plan": hosting_plan, "delivery": delivery}
        for hosting_plan, delivery in plan.delivery
    ]
    data["commands"] = [
        {"argv": list(c.argv), "where": c.where, "purpose": c.purpose, "display": c.display()}
        for c in plan.commands
    ]
    return data
