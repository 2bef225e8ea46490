"""Commands that a run executes, described before they run (the plan shows them verbatim)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Literal

Where = Literal["here", "container", "azure"]


@dataclass(frozen=True, kw_only=True)
class Command:
    """One command a build runs: its argv, where it runs and why."""

    argv: tuple[str, ...]
    where: Where
    purpose: str

    def display(self) -> str:
        """The command as a shell line."""
        return shlex.join(self.argv)
