"""The figures docs/reliability.md states, computed from the suites' own tables.

`python -m tests.reliability.figures` prints the block; test_figures.py fails when the docs
quote other numbers than the tables hold (so a new row means a new figure).
"""

from __future__ import annotations

from tests.reliability.corpus import CLI_FIXTURES, CORPUS, ERROR_FIXTURES
from tests.reliability.fault_matrix import FAULTS, figures

INTERRUPTED_STAGES = (
    "writing the zip",
    "uploading",
    "polling the deployment",
    "uploading to storage",
    "pip in a local build",
    "a remote build running",
    "pip in a --refresh build (the cache kept)",
)
SIGNALS = ("SIGINT", "SIGTERM")


def render() -> str:
    """The figures as the Markdown table of docs/reliability.md."""
    offline = sum(case.kind == "offline" for case in CORPUS)
    publish = sum(case.kind == "publish" for case in CORPUS)
    accepted = sum(case.code == 0 for case in CORPUS)
    inputs = len(CORPUS) + len(CLI_FIXTURES) + len(ERROR_FIXTURES)
    faults = figures()
    rows = [
        ("bad inputs tried", inputs),
        ("  corpus rows, offline (validate, pack, dry run; sockets forbidden)", offline),
        ("  corpus rows, publish to the emulator (nothing uploaded, nothing changed)", publish),
        ("  of the corpus rows, unusual but valid inputs that must be accepted", accepted),
        ("  validation-rule fixtures through `funcpub validate`", len(CLI_FIXTURES)),
        ("  error-rule fixtures through `funcpub publish`", len(ERROR_FIXTURES)),
        ("faults injected", faults.injected),
        ("  survived (publish succeeded, the app runs exactly the zip)", faults.survived),
        (
            "  failed cleanly (exit code, one message, hint, settings reported)",
            faults.failed_cleanly,
        ),
        ("  lost (a wrong deployment reported as good, a setting changed silently)", 0),
        ("  run by tests/reliability/test_faults.py", faults.run_here),
        ("  run by the existing tests they name", faults.injected - faults.run_here),
        (
            "interruptions (stage and signal)",
            len(INTERRUPTED_STAGES) * len(SIGNALS),
        ),
    ]
    lines = ["| figure | count |", "| --- | ---: |"]
    lines += [f"| {label.replace('  ', '&nbsp;&nbsp;')} | {count} |" for label, count in rows]
    return "\n".join(lines)


def fault_table() -> str:
    """Every fault row: what is injected and how it must end."""
    lines = ["| fault | outcome | exit | where |", "| --- | --- | ---: | --- |"]
    for case in FAULTS:
        where = f"`{case.covered_by.split('::')[-1]}`" if case.covered_by else "test_faults.py"
        lines.append(f"| `{case.id}` | {case.outcome} | {case.code} | {where} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
    print()
    print(fault_table())
