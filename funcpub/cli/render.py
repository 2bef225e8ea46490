"""Rich renderables for results: validation reports, plans and packages. Nothing prints here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from funcpub.appsettings import KEY_VAULT_KEPT, VALUE_KEPT, ReplacePolicy
from funcpub.package import Artifact
from funcpub.validate import Finding

if TYPE_CHECKING:
    from funcpub.deploy import DeployResult
    from funcpub.deploy.settings import SettingsOutcome
    from funcpub.plan import Plan
    from funcpub.settingsdiff import DiffEntry, DiffStatus, SettingsDiff

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError  # pragma: no cover - the loop always returns


def render_findings(findings: Iterable[Finding]) -> RenderableType:
    """Compiler-style lines, `path:line: severity CODE message`, each with its hint."""
    lines: list[RenderableType] = []
    for finding in findings:
        style = SEVERITY_STYLE[finding.severity]
        line = Text.assemble(
            (f"{finding.location or 'app'}: ", "bold"),
            (f"{finding.severity} {finding.code} ", style),
            finding.message,
        )
        lines.append(line)
        if finding.hint:
            lines.append(Text(f"    hint: {finding.hint}", style="dim"))
    return Group(*lines)


def count_summary(findings: Iterable[Finding]) -> str:
    """'2 errors, 1 warning'."""
    severities = [finding.severity for finding in findings]
    errors, warnings = severities.count("error"), severities.count("warning")
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def render_artifact(artifact: Artifact) -> RenderableType:
    """The written package: path, entries, size, sha256."""
    table = Table(show_header=False, box=None, title="package", title_justify="left")
    table.add_row("path", escape(str(artifact.path)))
    table.add_row("files", str(artifact.file_count))
    table.add_row("size", f"{human_size(artifact.size)} ({artifact.size} bytes)")
    table.add_row("sha256", artifact.sha256)
    return table


def _key_values(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(show_header=False, box=None, title=title, title_justify="left")
    for key, value in rows:
        table.add_row(key, escape(value))
    return table


def _functions_table(plan: Plan) -> Table:
    table = Table(title=f"functions ({len(plan.functions)})", title_justify="left")
    for column in ("name", "trigger", "route", "script"):
        table.add_column(column)
    for function in plan.functions:
        route = function.route or ""
        table.add_row(function.name, function.trigger or "-", route, function.script)
    return table


def _files_table(plan: Plan) -> Table:
    files = plan.files
    deps = "yes" if plan.ships_python_packages else "no (built on Azure)"
    rows = [
        ("files", f"{files.count} ({human_size(files.total_bytes)}), {files.ignored} ignored"),
        (".python_packages ships", deps),
        *((f"  {item.path}", human_size(item.size)) for item in files.largest),
    ]
    return _key_values("files", rows)


def _commands(plan: Plan) -> RenderableType:
    lines: list[RenderableType] = [Text(f"build: {plan.strategy}", style="italic")]
    for command in plan.commands:
        lines.append(Text(f" {command.purpose} ({command.where}):"))
        lines.append(Text(f"   $ {command.display()}", style="bold"))
    if not plan.commands:
        lines.append(Text(" no commands: nothing is built"))
    return Group(*lines)


# What an ensure does when the app has another value (SettingChange.replace).
_IF_DIFFERENT: Final[Mapping[ReplacePolicy, str]] = {
    "always": "replaces the app's value",
    "unless-key-vault": "not over a Key Vault reference",
    "never": "only if the app has none",
}


def _settings_table(plan: Plan) -> Table:
    table = Table(title="app setting changes (applied only where different)", title_justify="left")
    table.add_column("scope", no_wrap=True)
    table.add_column("key", no_wrap=True)
    table.add_column("change", overflow="fold")
    table.add_column("why", overflow="fold")
    for change in plan.setting_changes:
        action = f"= {change.shown}" if change.action == "ensure" else "remove"
        why = change.reason
        if change.action == "ensure" and change.source != "funcpub":
            why += f" ({_IF_DIFFERENT[change.replace]})"
        table.add_row(change.scope, change.key, escape(action), escape(why))
    return table


def _refused_table(plan: Plan) -> Table:
    table = Table(title="settings not published", title_justify="left")
    for column in ("key", "from", "why"):
        table.add_column(column, overflow="fold")
    for refused in plan.refused_settings:
        table.add_row(refused.label, escape(refused.source), escape(refused.reason))
    return table


def render_plan(plan: Plan) -> RenderableType:
    """The whole plan, as tables."""
    where = plan.app_name + (f" (slot {plan.slot})" if plan.slot else "") if plan.app_name else ""
    overview = _key_values(
        "plan" + (f" for {where}" if where else ""),
        [
            ("project", str(plan.project_root)),
            ("model", plan.model),
            ("python", f"{plan.python_version} on Functions {plan.functions_version}.x"),
            ("target", plan.target.describe()),
        ],
    )
    parts: list[RenderableType] = [overview, _functions_table(plan), _files_table(plan)]
    parts.append(_commands(plan))
    if plan.delivery:
        parts.append(_key_values("delivery (decided from the app's hosting plan)", plan.delivery))
    if plan.setting_changes:
        parts.append(_settings_table(plan))
    if plan.refused_settings:
        parts.append(_refused_table(plan))
    if plan.findings:
        parts += [Text(f"findings: {count_summary(plan.findings)}"), render_findings(plan.findings)]
    return Group(*parts)


def render_deploy_result(
    result: DeployResult, artifact: Artifact, smoke: tuple[tuple[str, int, str], ...]
) -> RenderableType:
    """What the publish did: deployment, setting changes, functions and their URLs."""
    where = result.app_name + (f"/{result.slot}" if result.slot else "")
    lines: list[RenderableType] = [
        Text(f"published {where}: deployment {result.deployment_id}", style="bold green"),
        Text(f"package sha256 {artifact.sha256} ({human_size(artifact.size)})"),
    ]
    for change in result.applied_changes:
        action = f"= {change.shown}" if change.action == "ensure" else "removed"
        lines.append(Text(f"changed {change.label} {action}"))
    for key in result.skipped_settings:
        reason = KEY_VAULT_KEPT if key in result.key_vault_kept else VALUE_KEPT
        lines.append(Text(f"kept {key}: {reason}"))
    if result.undo_record:
        lines.append(undo_hint(result.app_name, result.slot))
    table = Table(title=f"functions ({len(result.functions)})", title_justify="left")
    for column in ("name", "trigger", "url"):
        table.add_column(column, overflow="fold")
    for function in result.functions:
        table.add_row(function.name, function.trigger or "-", escape(function.url or "-"))
    lines.append(table)
    for url, status, body in smoke:
        lines.append(Text(f"GET {url} -> {status}: {body.strip()}"))
    return Group(*lines)


_STATUS_STYLE: Final[Mapping[DiffStatus, tuple[str, str]]] = {
    "added": ("+", "green"),
    "changed": ("~", "yellow"),
    "removed": ("-", "red"),
    "unchanged": ("=", "dim"),
}
_PUBLISH_WORDS: Final[Mapping[str, str]] = {
    "add": "publish adds it",
    "replace": "publish replaces it",
    "refuse": "not published: ",
}


def _diff_line(entry: DiffEntry) -> Text:
    sign, style = _STATUS_STYLE[entry.status]
    key = entry.key + (" (slot setting)" if entry.sticky else "")
    if entry.status == "changed":
        values = f": {entry.azure} -> {entry.local}"
    else:
        values = f" = {entry.local if entry.local is not None else entry.azure}"
    action = _PUBLISH_WORDS.get(entry.publish, "")
    what = action + entry.note if entry.publish == "refuse" else entry.note or action
    words = [word for word in (entry.source, what) if word]
    return Text.assemble((f"{sign} {key}", style), values, (f"  ({'; '.join(words)})", "dim"))


def render_settings_diff(diff: SettingsDiff, *, show_unchanged: bool = False) -> RenderableType:
    """The diff, a line per key: `+` added, `~` changed, `-` only in Azure (`=` unchanged with
    `show_unchanged`), values masked, and what a publish does with each; then the connection
    strings the same way, when either side has any."""
    lines: list[RenderableType] = [Text(f"app settings of {diff.app}", style="bold")]
    lines += [
        _diff_line(entry) for entry in diff.entries if show_unchanged or entry.status != "unchanged"
    ]
    counts = ", ".join(f"{diff.count(status)} {status}" for status in _STATUS_STYLE)
    lines.append(Text(counts))
    if diff.sticky:
        names = ", ".join(diff.sticky)
        lines.append(Text(f"slot settings (stay with their slot on a swap): {names}"))
    if diff.connection_strings:
        lines.append(Text(f"connection strings of {diff.app}", style="bold"))
        lines += [
            _diff_line(entry)
            for entry in diff.connection_strings
            if show_unchanged or entry.status != "unchanged"
        ]
    if diff.sticky_connection_strings:
        names = ", ".join(diff.sticky_connection_strings)
        lines.append(Text(f"slot connection strings (stay with their slot on a swap): {names}"))
    return Group(*lines)


def undo_hint(app_name: str, slot: str | None) -> Text:
    """How to put back the settings a run changed (funcpub keeps the previous values)."""
    command = f"funcpub settings undo {app_name}" + (f" --slot {slot}" if slot else "")
    return Text(f"to put the previous settings back: {command}", style="dim")


def render_settings_outcome(outcome: SettingsOutcome, *, undo: bool) -> RenderableType:
    """What `settings push` or `settings undo` changed, or would change in a dry run."""
    prefix = "" if outcome.applied else "would "
    lines: list[RenderableType] = [Text(prefix + item.describe()) for item in outcome.changes]
    lines += [Text(item.kept()) for item in outcome.skipped]
    if not outcome.changes:
        lines.append(Text(f"nothing to change on {outcome.app}"))
    elif outcome.applied:
        done = "undone" if undo else "applied"
        count = len(outcome.changes)
        lines.append(Text(f"{outcome.app}: {count} change(s) {done} and read back", style="bold"))
    return Group(*lines)
