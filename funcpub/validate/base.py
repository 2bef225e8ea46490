"""The vocabulary of validation: rules, findings, the context checks read, the report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import Literal

from funcpub.ignore import FileSelection
from funcpub.options import StrategyName
from funcpub.project import FunctionProject
from funcpub.requirements import Scan, scan_requirements

Severity = Literal["error", "warning"]


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem: what is wrong (message), what to do (hint), and where."""

    code: str
    severity: Severity
    message: str
    hint: str | None = None
    path: str | None = None  # relative to the app root, POSIX
    line: int | None = None

    @property
    def location(self) -> str:
        """`path:line`, `path`, or "" when the finding is about the whole app."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A registry entry: one stable code, its severity, and a title for the docs."""

    code: str
    severity: Severity
    title: str

    def finding(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> Finding:
        """A finding of this rule (the only way checks create findings)."""
        return Finding(
            code=self.code, severity=self.severity, message=message, hint=hint, path=path, line=line
        )


@dataclass(frozen=True, kw_only=True)
class ValidationContext:
    """What every check reads. `selection` is None when the file walk itself failed (FP604)."""

    project: FunctionProject
    selection: FileSelection | None
    python_version: str | None
    functions_version: str | None
    build: StrategyName | None = None  # the build the app is checked for (None: any)

    @cached_property
    def shipped_files(self) -> frozenset[str]:
        """Relpaths of the files that ship (empty when the selection is unknown)."""
        if self.selection is None:
            return frozenset()
        return frozenset(item.relpath for item in self.selection.included)

    @cached_property
    def shipped_dirs(self) -> frozenset[str]:
        """Every folder holding a shipped file, at any depth ("" is the root)."""
        dirs = {""}
        for relpath in self.shipped_files:
            dirs.update(parent.as_posix() for parent in PurePosixPath(relpath).parents)
        dirs.discard(".")
        return frozenset(dirs)

    @cached_property
    def shipped_by_folder(self) -> Mapping[str, frozenset[str]]:
        """File names that ship, by folder relpath ("" is the root)."""
        folders: dict[str, set[str]] = {}
        for relpath in self.shipped_files:
            folder, _, name = relpath.rpartition("/")
            folders.setdefault(folder, set()).add(name)
        return {folder: frozenset(names) for folder, names in folders.items()}

    @cached_property
    def requirements(self) -> Scan | None:
        """requirements.txt and its includes, parsed once for every FP2xx check (None: no file)."""
        path = self.project.requirements_path
        return scan_requirements(path) if path is not None else None

    def ships(self, relpath: str) -> bool:
        """Does the file ship? Assumed yes when the selection is unknown."""
        return self.selection is None or relpath in self.shipped_files


Check = Callable[[ValidationContext], Iterable[Finding]]


def sort_key(finding: Finding) -> tuple[str, int, str]:
    """Report order: by file, then line, then code."""
    return (finding.path or "", finding.line or 0, finding.code)


@dataclass(frozen=True, kw_only=True)
class Report:
    """Everything validation found, sorted by (path, line, code)."""

    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that block packaging and publishing."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings worth reading that do not block."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors
