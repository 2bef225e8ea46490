"""The only module that prints.

Results (tables, reports, JSON) go to stdout; progress, settings, warnings and errors go to
stderr, so `--json` output stays machine-readable. Rich honours NO_COLOR and plain pipes.
Every line passes through `redact`, so a secret the run learned is never shown.

In a pipeline (Azure Pipelines, GitHub Actions: see `funcpub.cimode`) the console also speaks
the agent's logging commands, on stderr beside the progress lines: log groups around tool output
and deployment logs, annotations for findings and errors, secret masks, output variables, a
summary and an explicit failure at `finish`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console as RichConsole
from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from funcpub.cimode import Annotation, CiFlavour, RunSummary, SummaryFinding, detect_flavour
from funcpub.errors import FuncpubError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from rich.status import Status

    from funcpub.deploy import DeployResult
    from funcpub.package import Artifact
    from funcpub.validate import Finding

REDACTED = "***"


class Console:
    """Output for one run: human (rich) or `--json`, quiet or not."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        command: str = "funcpub",
        ci: CiFlavour | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self._out = RichConsole(file=stdout, highlight=False, soft_wrap=True)
        self._err = RichConsole(file=stderr, stderr=stderr is None, highlight=False, soft_wrap=True)
        self._secrets: set[str] = set()
        self._upload: tuple[Progress, TaskID] | None = None
        self._status: Status | None = None
        ci_warning = None
        if ci is None:
            ci, ci_warning = detect_flavour(os.environ)
        self.ci: CiFlavour = ci
        self._summary = RunSummary(command=command)
        self._group: str | None = None  # the open CI log group's title
        self._auto_group = False  # opened by a command or a deployment log, not by group()
        self._annotated: set[str] = set()
        if ci_warning:
            self.warn(ci_warning)

    def secret(self, value: str) -> None:
        """Never print `value` from now on."""
        if value and value not in self._secrets:
            self._secrets.add(value)
            self._emit(self.ci.mask(value))  # before any line that could hold it

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def step(self, message: str) -> None:
        """A progress line on stderr (hidden with -q and --json)."""
        self.end_status()
        self._end_auto_group()
        if not (self.quiet or self.json_mode):
            self._err.print(f"[bold cyan]>[/] {escape(self.redact(message))}")

    def deployment_log(self, line: str) -> None:
        """One line of a deployment's log, as it arrives (hidden with -q and --json)."""
        if not (self.quiet or self.json_mode):
            if self._group is None:
                self._open_group("deployment log", auto=True)
            text = self.ci.neutralize(self.redact(line))
            self._err.print(f"  [dim]{escape(text)}[/]")

    def upload_progress(self, sent: int, total: int) -> None:
        """A transfer bar on stderr, removed when the transfer completes."""
        if self.quiet or self.json_mode:
            return
        if self._upload is None:
            # rich's progress and status widgets load when first shown: most runs show neither.
            from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

            progress = Progress(
                "uploading", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                console=self._err, transient=True,
            )  # fmt: skip
            progress.start()
            self._upload = (progress, progress.add_task("upload", total=total))
        progress, task = self._upload
        progress.update(task, completed=sent)
        if sent >= total:
            progress.stop()
            self._upload = None

    def command(self, display: str) -> None:
        """A command about to run, shell-style: `+ uv pip install …` (hidden with -q, --json)."""
        self.end_status()
        if not (self.quiet or self.json_mode):
            self._open_group(self.redact(display), auto=True)  # the command line in its group
            self._err.print(f"[dim]+ {escape(self.redact(display))}[/]")

    def output(self, line: str) -> None:
        """One line a command printed, in full (the -v view of a build)."""
        if not (self.quiet or self.json_mode):
            text = self.ci.neutralize(self.redact(line))
            self._err.print(f"  [dim]{escape(text)}[/]")

    def status(self, line: str) -> None:
        """The latest line of a running command, on one transient line (terminals only)."""
        if self._group is not None and not self._err.is_terminal:
            self.output(line)  # in a pipeline every line goes into the command's log group
            return
        if self.quiet or self.json_mode or not self._err.is_terminal:
            return
        text = escape(self.redact(line)[: max(self._err.width - 4, 20)])
        if self._status is None:
            self._status = self._err.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def end_status(self) -> None:
        """Remove the transient status line, if any."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def warn(self, message: str) -> None:
        """A warning on stderr, shown even with -q."""
        self.end_status()
        self._end_auto_group()
        if message not in self._annotated:  # a finding's warning is annotated already
            self._annotate(Annotation(severity="warning", message=self.redact(message)))
            self._summary.warnings.append(self.redact(message))
        self._err.print(f"[yellow]warning:[/] {escape(self.redact(message))}")

    def error(self, error: FuncpubError) -> None:
        """A failure with its hint on stderr."""
        self.end_status()
        self._end_auto_group()
        text = error.message + (f"\nhint: {error.hint}" if error.hint else "")
        self._annotate(Annotation(severity="error", message=self.redact(text)))
        self._summary.errors.append(self.redact(text))
        self._err.print(f"[bold red]error:[/] {escape(self.redact(error.message))}")
        if error.hint:
            self._err.print(f"[dim]hint:[/] {escape(self.redact(error.hint))}")

    def internal_error(self, error: BaseException) -> None:
        """An unexpected exception: short report and where to send it."""
        text = self.redact(f"{type(error).__name__}: {error}")
        self._end_auto_group()
        self._annotate(Annotation(severity="error", message=f"internal error: {text}"))
        self._summary.errors.append(f"internal error: {text}")
        self._err.print(f"[bold red]internal error:[/] {escape(text)}")
        self._err.print("This is a bug in funcpub; please report it with the command you ran.")

    def settings(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """The effective settings at the start of a run (hidden with -q and --json)."""
        if self.quiet or self.json_mode:
            return
        table = Table(title="settings", title_justify="left", show_header=False, box=None)
        for key, value, source in rows:
            table.add_row(f"  {key}", escape(self.redact(value)), f"[dim]({source})[/]")
        self._err.print(table)

    def result(self, renderable: RenderableType) -> None:
        """A human-readable result on stdout."""
        self._out.print(renderable)

    def line(self, text: str) -> None:
        """A plain result line on stdout, printed as is (file lists for scripts)."""
        self._out.out(self.redact(text), highlight=False)

    def json(self, data: Any) -> None:
        """The `--json` document on stdout."""
        self._out.out(self.redact(json.dumps(data, indent=2, sort_keys=False)), highlight=False)

    # --- CI: groups, annotations, outputs, the summary (see funcpub.cimode) ---------------

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible log group in a pipeline around what is printed inside (else nothing)."""
        self.end_status()
        self._open_group(self.redact(title), auto=False)
        try:
            yield
        finally:
            self._close_group()

    def findings(self, findings: Iterable[Finding], root: Path) -> None:
        """Annotate validation findings (at their file and line) and keep them for the summary."""
        self._summary.validated = True
        for finding in findings:
            path = self.ci.source_path((root / finding.path).resolve()) if finding.path else None
            text = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
            annotation = Annotation(
                severity=finding.severity,
                message=self.redact(f"{finding.code} {text}"),
                path=path,
                line=finding.line,
                code=finding.code,
            )
            self._annotate(annotation)
            self._annotated.add(f"{finding.code} {finding.message}")
            location = f"{path}:{finding.line}" if path and finding.line else path or ""
            self._summary.findings.append(
                SummaryFinding(
                    code=finding.code,
                    severity=finding.severity,
                    location=location,
                    message=self.redact(finding.message),
                )
            )

    def set_outputs(self, values: Mapping[str, str]) -> None:
        """Output variables for later pipeline steps (kebab-case names), kept for the summary."""
        for name, value in values.items():
            self._summary.outputs[name] = self.redact(value)
            self._emit(self.ci.set_output(name, self.redact(value)))

    def deployed(self, result: DeployResult, artifact: Artifact) -> None:
        """A deploy finished: its package, deployment id and function URLs become outputs."""
        urls = {f.name: f.url.split("?", 1)[0] for f in result.functions if f.url}  # no keys
        self.set_outputs(
            {
                "package-sha256": artifact.sha256,
                "deployment-id": result.deployment_id,
                "function-urls": json.dumps(urls, sort_keys=True),
            }
        )

    def finish(self, exit_code: int) -> None:
        """The end of the run: the pipeline summary, and the step marked failed on failure."""
        self.end_status()
        self._close_group()
        if self.ci.name == "none":
            return
        if self._summary.has_content or exit_code != 0:
            markdown = self.redact(self._summary.to_markdown(exit_code))
            self._emit(self.ci.publish_summary(self._summary.command, markdown))
        if exit_code != 0:
            errors = self._summary.errors
            reason = errors[-1] if errors else f"exit code {exit_code}"
            self._emit(self.ci.fail(f"{self._summary.command} failed: {reason}"))

    def _emit(self, lines: Iterable[str]) -> None:
        """Logging commands, verbatim (their content is redacted, except in a mask command)."""
        for line in lines:
            self._err.out(line, highlight=False)

    def _annotate(self, annotation: Annotation) -> None:
        self._annotated.add(annotation.message)
        self._emit(self.ci.annotate(annotation))

    def _open_group(self, title: str, *, auto: bool) -> None:
        if self.ci.name == "none":
            return
        self._close_group()  # the agents do not nest groups
        self._emit(self.ci.start_group(title[:200]))
        self._group, self._auto_group = title, auto

    def _close_group(self) -> None:
        if self._group is not None:
            self._emit(self.ci.end_group())
            self._group, self._auto_group = None, False

    def _end_auto_group(self) -> None:
        if self._auto_group:
            self._close_group()
