"""CI logging commands: Azure Pipelines and GitHub Actions, chosen once from the environment.

In a pipeline funcpub speaks the agent's language: log groups around long tool output,
annotations (file and line) for validation findings and errors, secret masking, output
variables, a Markdown run summary and an explicit failure. A `CiFlavour` turns each event into
command lines (and writes the files GitHub Actions reads); `funcpub.console.Console` prints them,
so it stays the only module that prints.

Both agents parse commands from stdout *and* stderr, each stream on its own reader thread:
commands keep their order only relative to lines on the same stream. Console therefore writes
them to stderr, next to the progress lines they group or precede, which also keeps stdout one
JSON document with `--json` and a clean file list with `pack --list-included`.
References: Azure Pipelines logging commands
(https://learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands), escaping as in
microsoft/azure-pipelines-task-lib node/taskcommand.ts; GitHub Actions workflow commands
(https://docs.github.com/actions/reference/workflow-commands-for-github-actions), escaping as in
actions/toolkit packages/core/src/command.ts.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, Protocol

from funcpub.options import CI_ENV

CiName = Literal["azure-pipelines", "github-actions", "none"]
IssueSeverity = Literal["error", "warning"]

CI_NAMES: Final[tuple[CiName, ...]] = ("azure-pipelines", "github-actions", "none")
MIN_SECRET_LENGTH: Final = 4  # masking "ab" would star out every "ab" in the log
_ZERO_WIDTH_SPACE: Final = "\u200b"


@dataclass(frozen=True, kw_only=True)
class Annotation:
    """An error or warning for the run's summary page, optionally at a file and line."""

    severity: IssueSeverity
    message: str
    path: str | None = None  # as the agent wants it: relative to the repository when possible
    line: int | None = None
    code: str | None = None  # e.g. FP103


class CiFlavour(Protocol):
    """One CI system's logging commands. Methods return the lines to print (maybe none)."""

    @property
    def name(self) -> CiName:
        """`azure-pipelines`, `github-actions` or `none`."""

    def start_group(self, title: str) -> tuple[str, ...]:
        """Open a collapsible log group."""

    def end_group(self) -> tuple[str, ...]:
        """Close the open log group."""

    def annotate(self, annotation: Annotation) -> tuple[str, ...]:
        """Report an error or warning on the run's summary."""

    def mask(self, secret: str) -> tuple[str, ...]:
        """Have the agent hide `secret` in every later log line."""

    def set_output(self, name: str, value: str) -> tuple[str, ...]:
        """Make `value` available to later steps as output `name` (kebab-case)."""

    def publish_summary(self, title: str, markdown: str) -> tuple[str, ...]:
        """Show a Markdown summary, titled `title`, on the run's page."""

    def fail(self, message: str) -> tuple[str, ...]:
        """Mark the step failed, whatever the script does with the exit code."""

    def neutralize(self, line: str) -> str:
        """`line` (from a tool or a server) made unable to act as a command."""

    def source_path(self, path: Path) -> str:
        """How annotations name `path` (an absolute path) so the agent can link it."""


def _relative_to_any(path: Path, bases: Iterable[str]) -> str:
    """`path` relative to the first base holding it, else as given."""
    for base in bases:
        if not base:
            continue
        try:
            return path.relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def camel_case(name: str) -> str:
    """`package-sha256` -> `PackageSha256`."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))


# --- Azure Pipelines ----------------------------------------------------------------------


def azure_data(text: str) -> str:
    """Escape a logging command's data (what follows `]`)."""
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def azure_property(text: str) -> str:
    """Escape a logging command's property value."""
    return azure_data(text).replace("]", "%5D").replace(";", "%3B")


def azure_command(area_event: str, properties: Mapping[str, str | None], data: str = "") -> str:
    """`##vso[area.event k=v;k=v]data`, properties without a value left out."""
    props = ";".join(f"{k}={azure_property(v)}" for k, v in properties.items() if v is not None)
    head = f"{area_event} {props}" if props else area_event
    return f"##vso[{head}]{azure_data(data)}"


@dataclass(frozen=True)
class AzurePipelines:
    """Azure Pipelines agent (`TF_BUILD=True`)."""

    environ: Mapping[str, str] = field(repr=False)
    name: Literal["azure-pipelines"] = "azure-pipelines"

    def start_group(self, title: str) -> tuple[str, ...]:
        """`##[group]` (a formatting command: one line of its own)."""
        return (f"##[group]{_one_line(title)}",)

    def end_group(self) -> tuple[str, ...]:
        """`##[endgroup]`."""
        return ("##[endgroup]",)

    def annotate(self, annotation: Annotation) -> tuple[str, ...]:
        """`task.logissue` with sourcepath, linenumber and code."""
        properties = {
            "type": annotation.severity,
            "sourcepath": annotation.path,
            "linenumber": str(annotation.line) if annotation.line else None,
            "code": annotation.code,
        }
        return (azure_command("task.logissue", properties, annotation.message),)

    def mask(self, secret: str) -> tuple[str, ...]:
        """`task.setsecret`, one per line of the value (the agent masks line by line)."""
        return tuple(
            azure_command("task.setsecret", {}, line)
            for line in secret.splitlines()
            if len(line.strip()) >= MIN_SECRET_LENGTH
        )

    def set_output(self, name: str, value: str) -> tuple[str, ...]:
        """`task.setvariable` twice: `$(funcpubX)` in this job, `$(step.funcpubX)` in others."""
        variable = "funcpub" + camel_case(name)
        return (
            azure_command("task.setvariable", {"variable": variable}, value),
            azure_command("task.setvariable", {"variable": variable, "isoutput": "true"}, value),
        )

    def publish_summary(self, title: str, markdown: str) -> tuple[str, ...]:
        """Write the Markdown where the agent keeps job files, then `task.uploadsummary` it.

        The agent names the summary section after the file, so the file is `<title>.md`, in a
        folder of its own: two runs in one job never overwrite each other's summary.
        """
        base = Path(self.environ.get("AGENT_TEMPDIRECTORY") or tempfile.gettempdir())
        folder = base / f"funcpub-summary-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_file_name(title)}.md"
        path.write_text(markdown, encoding="utf-8")
        return (azure_command("task.uploadsummary", {}, str(path)),)

    def fail(self, message: str) -> tuple[str, ...]:
        """`task.complete result=Failed`."""
        return (azure_command("task.complete", {"result": "Failed"}, message),)

    def neutralize(self, line: str) -> str:
        """The agent acts on `##vso[` anywhere in a line; break it with a zero-width space."""
        return line.replace("##vso[", f"##{_ZERO_WIDTH_SPACE}vso[")

    def source_path(self, path: Path) -> str:
        """Relative to the checked-out repository (`Build.SourcesDirectory`)."""
        bases = (self.environ.get("BUILD_SOURCESDIRECTORY", ""), str(Path.cwd()))
        return _relative_to_any(path, bases)


# --- GitHub Actions -----------------------------------------------------------------------


def github_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(name: str, properties: Mapping[str, str | None], message: str = "") -> str:
    """`::name k=v,k=v::message`, properties without a value left out."""
    props = ",".join(f"{k}={github_property(v)}" for k, v in properties.items() if v is not None)
    head = f"{name} {props}" if props else name
    return f"::{head}::{github_data(message)}"


@dataclass(frozen=True)
class GitHubActions:
    """GitHub Actions runner (`GITHUB_ACTIONS=true`)."""

    environ: Mapping[str, str] = field(repr=False)
    name: Literal["github-actions"] = "github-actions"

    def start_group(self, title: str) -> tuple[str, ...]:
        """`::group::`."""
        return (github_command("group", {}, _one_line(title)),)

    def end_group(self) -> tuple[str, ...]:
        """`::endgroup::`."""
        return ("::endgroup::",)

    def annotate(self, annotation: Annotation) -> tuple[str, ...]:
        """`::error file=…,line=…,title=…::` (or `::warning`)."""
        properties = {
            "file": annotation.path,
            "line": str(annotation.line) if annotation.line else None,
            "title": f"funcpub {annotation.code}" if annotation.code else "funcpub",
        }
        return (github_command(annotation.severity, properties, annotation.message),)

    def mask(self, secret: str) -> tuple[str, ...]:
        """`::add-mask::`, one per line of the value."""
        return tuple(
            github_command("add-mask", {}, line)
            for line in secret.splitlines()
            if len(line.strip()) >= MIN_SECRET_LENGTH
        )

    def set_output(self, name: str, value: str) -> tuple[str, ...]:
        """Append to `$GITHUB_OUTPUT` (a heredoc, so any value is safe); nothing to print."""
        target = self.environ.get("GITHUB_OUTPUT")
        if target:
            delimiter = f"funcpub_{uuid.uuid4().hex}"
            with Path(target).open("a", encoding="utf-8") as file:
                file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        return ()

    def publish_summary(self, title: str, markdown: str) -> tuple[str, ...]:
        """Append to `$GITHUB_STEP_SUMMARY` (the Markdown has its own heading); nothing to print."""
        target = self.environ.get("GITHUB_STEP_SUMMARY")
        if target:
            with Path(target).open("a", encoding="utf-8") as file:
                file.write(markdown.rstrip("\n") + "\n\n")
        return ()

    def fail(self, message: str) -> tuple[str, ...]:
        """The runner fails the step on the exit code; the error is already annotated."""
        return ()

    def neutralize(self, line: str) -> str:
        """The runner acts on lines starting with `::` after leading blanks; shield them."""
        return _ZERO_WIDTH_SPACE + line if line.lstrip().startswith("::") else line

    def source_path(self, path: Path) -> str:
        """Relative to the repository (`GITHUB_WORKSPACE`), as annotations require."""
        bases = (self.environ.get("GITHUB_WORKSPACE", ""), str(Path.cwd()))
        return _relative_to_any(path, bases)


# --- no CI --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoCi:
    """Not in a pipeline (or FUNCPUB_CI=none): no commands at all."""

    name: Literal["none"] = "none"

    def start_group(self, title: str) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def end_group(self) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def annotate(self, annotation: Annotation) -> tuple[str, ...]:
        """Nothing: the human output already shows it."""
        return ()

    def mask(self, secret: str) -> tuple[str, ...]:
        """Nothing: Console redacts its own output."""
        return ()

    def set_output(self, name: str, value: str) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def publish_summary(self, title: str, markdown: str) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def fail(self, message: str) -> tuple[str, ...]:
        """Nothing: the exit code says it."""
        return ()

    def neutralize(self, line: str) -> str:
        """Unchanged."""
        return line

    def source_path(self, path: Path) -> str:
        """Unchanged."""
        return path.as_posix()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _file_name(title: str) -> str:
    """`title` usable as a file name on any agent OS."""
    return "".join(c if c.isalnum() or c in " ._-" else "_" for c in _one_line(title)) or "funcpub"


def detect_flavour(environ: Mapping[str, str]) -> tuple[CiFlavour, str | None]:
    """The CI flavour for this environment, and a warning when FUNCPUB_CI is not understood.

    FUNCPUB_CI (azure-pipelines, github-actions or none) wins; otherwise TF_BUILD=True means
    Azure Pipelines and GITHUB_ACTIONS=true means GitHub Actions.
    """
    forced = environ.get(CI_ENV, "").strip().lower()
    warning = None
    if forced and forced not in CI_NAMES:
        warning = f"ignoring {CI_ENV}={forced!r}: use one of {', '.join(CI_NAMES)}"
        forced = ""
    if forced == "azure-pipelines" or (
        not forced and environ.get("TF_BUILD", "").lower() == "true"
    ):
        return AzurePipelines(environ), warning
    if forced == "github-actions" or (not forced and environ.get("GITHUB_ACTIONS") == "true"):
        return GitHubActions(environ), warning
    return NoCi(), warning


# --- the run summary ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SummaryFinding:
    """A validation finding as the summary lists it."""

    code: str
    severity: IssueSeverity
    location: str
    message: str


@dataclass(kw_only=True)
class RunSummary:
    """What a run reported that belongs on the pipeline's summary page."""

    command: str
    findings: list[SummaryFinding] = field(default_factory=list)
    validated: bool = False
    outputs: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def has_content(self) -> bool:
        """Whether there is anything to summarize (a bare `--version` has not)."""
        return bool(self.validated or self.outputs or self.warnings or self.errors)

    def to_markdown(self, exit_code: int) -> str:
        """The summary as Markdown."""
        verdict = "succeeded" if exit_code == 0 else f"failed (exit code {exit_code})"
        lines = [f"## `{self.command}` {verdict}", ""]
        lines += _markdown_errors(self.errors)
        lines += _markdown_outputs(self.outputs)
        lines += _markdown_findings(self.findings, validated=self.validated)
        if self.warnings:
            lines += ["**Warnings**", "", *(f"- {_cell(w)}" for w in self.warnings), ""]
        return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _markdown_errors(errors: list[str]) -> list[str]:
    lines: list[str] = []
    for error in errors:
        lines += [f"> **Error:** {_cell(error)}", ""]
    return lines


def _markdown_outputs(outputs: Mapping[str, str]) -> list[str]:
    if not outputs:
        return []
    rows = [f"| `{name}` | `{_cell(value)}` |" for name, value in outputs.items()]
    return ["| output | value |", "| --- | --- |", *rows, ""]


def _markdown_findings(findings: list[SummaryFinding], *, validated: bool) -> list[str]:
    if not findings:
        return ["Validation: no findings.", ""] if validated else []
    errors = sum(finding.severity == "error" for finding in findings)
    head = f"**Validation:** {errors} error(s), {len(findings) - errors} warning(s)"
    rows = [
        f"| {f.code} | {f.severity} | `{_cell(f.location) or 'app'}` | {_cell(f.message)} |"
        for f in findings
    ]
    return [
        head,
        "",
        "| code | severity | where | message |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]
