"""The only module that prints.

Results (tables, reports, JSON) go to stdout; progress, settings, warnings and errors go to
stderr, so `--json` output stays machine-readable. Rich honours NO_COLOR and plain pipes.
Every line passes through `redact`, so a secret the run learned is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Console as RichConsole
from rich.console import RenderableType
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn
from rich.table import Table

from funcpub.errors import FuncpubError

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
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self._out = RichConsole(file=stdout, highlight=False, soft_wrap=True)
        self._err = RichConsole(file=stderr, stderr=stderr is None, highlight=False, soft_wrap=True)
        self._secrets: set[str] = set()
        self._upload: tuple[Progress, TaskID] | None = None

    def secret(self, value: str) -> None:
        """Never print `value` from now on."""
        if value:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        """`text` with every known secret replaced."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def step(self, message: str) -> None:
        """A progress line on stderr (hidden with -q and --json)."""
        if not (self.quiet or self.json_mode):
            self._err.print(f"[bold cyan]>[/] {escape(self.redact(message))}")

    def deployment_log(self, line: str) -> None:
        """One line of a deployment's log, as it arrives (hidden with -q and --json)."""
        if not (self.quiet or self.json_mode):
            self._err.print(f"  [dim]{escape(self.redact(line))}[/]")

    def upload_progress(self, sent: int, total: int) -> None:
        """A transfer bar on stderr, removed when the transfer completes."""
        if self.quiet or self.json_mode:
            return
        if self._upload is None:
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

    def warn(self, message: str) -> None:
        """A warning on stderr, shown even with -q."""
        self._err.print(f"[yellow]warning:[/] {escape(self.redact(message))}")

    def error(self, error: FuncpubError) -> None:
        """A failure with its hint on stderr."""
        self._err.print(f"[bold red]error:[/] {escape(self.redact(error.message))}")
        if error.hint:
            self._err.print(f"[dim]hint:[/] {escape(self.redact(error.hint))}")

    def internal_error(self, error: BaseException) -> None:
        """An unexpected exception: short report and where to send it."""
        text = self.redact(f"{type(error).__name__}: {error}")
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
