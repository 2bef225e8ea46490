"""The generated parts of the documentation, written from the code so they cannot drift.

A page marks each generated region with HTML comments; everything else on it is written by hand:

    <!-- BEGIN GENERATED: config-keys -->
    ...replaced on every run...
    <!-- END GENERATED: config-keys -->

`python -m funcpub.docgen` (or `bash scripts/docs generate`) rewrites the regions in place;
`--check` only reports stale pages. The test suite runs the check, so a new option, rule or
configuration key fails CI until the pages are regenerated. Nothing here touches the network.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from funcpub.cli.reference import cli_reference
from funcpub.console import Console
from funcpub.options import PARSERS, env_var
from funcpub.project import FunctionProject
from funcpub.resources import read_toml
from funcpub.validate import RULES, Finding, Rule, validate
from funcpub.versions import functions_versions, python_versions, runtime_status, support

ROOT: Final = Path(__file__).resolve().parents[1]
DOCS: Final = ROOT / "docs"
PROJECTS: Final = ROOT / "tests" / "projects"
_REGION: Final = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)
MAX_EXAMPLE_LINES: Final = 30

# Versions the FP7xx examples run with (the others use Python 3.12 on Functions 4).
EXAMPLE_VERSIONS: Final[Mapping[str, tuple[str, str]]] = {
    "FP701": ("3.12", "5"),
    "FP702": ("3.6", "4"),
    "FP703": ("3.9", "4"),
}
# Examples that a test builds at run time (a symlink git cannot hold, a row the data lacks).
EXAMPLE_NOTES: Final[Mapping[str, str]] = {
    "FP604": (
        "The test adds a symbolic link `data` pointing to a folder outside the app; the file"
        " walk refuses to follow it. Other causes: a dangling or looping link, a file name that"
        " is not valid UTF-8."
    ),
    "FP704": (
        "No Python version is in preview on a supported runtime today, so the test adds one"
        " (3.15 on Functions 4) to the data before validating."
    ),
}

# What each configuration key means and accepts (the parsers check the values).
CONFIG_DOCS: Final[Mapping[str, tuple[str, str]]] = {
    "build": ("how dependencies get into the package", "`local`, `docker`, `remote`, `none`"),
    "python-version": ("the app's Python version", "`3.X`, e.g. `3.12`"),
    "functions-version": ("the Functions runtime major version", "`4`, `~4` or `4.x`"),
    "installer": ("the installer of local and docker builds", "`uv`, `pip`"),
    "slot": ("the deployment slot to publish to", "a slot name"),
    "cloud": (
        "which Azure cloud to sign in to and deploy to",
        "`AzureCloud`, `AzureChinaCloud`, `AzureUSGovernment`, `emulator`",
    ),
    "subscription": ("the app's subscription", "a subscription id (GUID)"),
    "resource-group": ("the app's resource group", "a resource group name"),
    "dockerfile": (
        "the Dockerfile of docker builds (relative to the app in pyproject.toml)",
        "a path",
    ),
    "image": ("a prebuilt image for docker builds (no image build)", "an image reference"),
    "base-image": (
        "`BASE_IMAGE` of the docker build's Dockerfile",
        "an image reference",
    ),
    "docker-network": (
        "the network of the docker build's container (`none`: offline)",
        "a network name",
    ),
    "pull": ("pull the base image and rebuild the docker build's image", "`true`, `false`"),
}
UNSET_DEFAULTS: Final[Mapping[str, str]] = {
    "slot": "production (no slot)",
    "subscription": "`AZURE_SUBSCRIPTION_ID`, else the Azure CLI's default",
    "resource-group": "looked up from the app name",
    "dockerfile": "funcpub's own (`dockerfiles/Dockerfile`)",
    "image": "built from the Dockerfile",
    "base-image": "Azure's Functions Python image for the version",
    "docker-network": "the engine's default",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --- validation rules ---------------------------------------------------------------------


def rules_table() -> str:
    """One row per rule: code, severity, title."""
    rows = [f"| `{r.code}` | {r.severity} | {r.title} |" for r in RULES.values()]
    return "\n".join(["| code | severity | rule |", "| --- | --- | --- |", *rows]) + "\n"


def example_dir(code: str) -> Path | None:
    """The failing example app of a rule: tests/projects/fpNNN-*/."""
    matches = sorted(PROJECTS.glob(f"{code.lower()}-*"))
    return matches[0] if matches else None


def _finding_lines(findings: Sequence[Finding]) -> list[str]:
    """The findings as `funcpub validate` prints them."""
    lines: list[str] = []
    for finding in findings:
        lines.append(
            f"{finding.location or 'app'}: {finding.severity} {finding.code} {finding.message}"
        )
        if finding.hint:
            lines.append(f"    hint: {finding.hint}")
    return lines


def _file_excerpt(root: Path, relpath: str | None) -> list[str]:
    """The file a finding names, when it is a short text file of the example."""
    if relpath is None:
        return []
    path = root / relpath
    if not path.is_file() or path.is_symlink():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    lines = text.splitlines()
    if not lines or len(lines) > MAX_EXAMPLE_LINES:
        return []
    language = {".json": "json", ".py": "python", ".toml": "toml"}.get(path.suffix, "text")
    return [f"`{relpath}`:", "", f"```{language}", *lines, "```", ""]


def _rule_example(rule: Rule) -> list[str]:
    root = example_dir(rule.code)
    lines = [f"### {rule.code}: {rule.title}", "", f"Severity: **{rule.severity}**.", ""]
    if root is None:
        return lines
    lines += [f"Example app: `tests/projects/{root.name}/`.", ""]
    if rule.code in EXAMPLE_NOTES:
        return [*lines, EXAMPLE_NOTES[rule.code], ""]
    python, runtime = EXAMPLE_VERSIONS.get(rule.code, ("3.12", "4"))
    report = validate(FunctionProject.load(root), python_version=python, functions_version=runtime)
    findings = [f for f in report.findings if f.code == rule.code]
    if rule.code in EXAMPLE_VERSIONS:
        lines += [f"With `--python-version {python} --functions-version {runtime}`:", ""]
    lines += _file_excerpt(root, findings[0].path if findings else None)
    if findings:
        lines += ["```text", *_finding_lines(findings), "```", ""]
    return lines


def rules_examples() -> str:
    """A section per rule: its example app, the file at fault and what funcpub says."""
    lines: list[str] = []
    for rule in RULES.values():
        lines += _rule_example(rule)
    return "\n".join(lines)


# --- configuration ------------------------------------------------------------------------


def _defaults() -> dict[str, str]:
    data = read_toml("defaults.toml")
    builds: dict[str, str] = data.pop("build")
    values = {key: f"`{value}`" for key, value in data.items()}
    values["build"] = ", ".join(f"`{value}` for `{command}`" for command, value in builds.items())
    return values | dict(UNSET_DEFAULTS)


def config_keys() -> str:
    """Every configuration key: meaning, values, default, environment variable."""
    missing = set(PARSERS) ^ set(CONFIG_DOCS)
    if missing:
        msg = f"configuration keys without docs (or docs without keys): {sorted(missing)}"
        raise ValueError(msg)
    defaults = _defaults()
    head = [
        "| key | what | values | default | environment variable |",
        "| --- | --- | --- | --- | --- |",
    ]
    rows = [
        f"| `{key}` | {CONFIG_DOCS[key][0]} | {CONFIG_DOCS[key][1]} | {defaults[key]}"
        f" | `{env_var(key)}` |"
        for key in PARSERS
    ]
    return "\n".join([*head, *rows]) + "\n"


# --- versions -----------------------------------------------------------------------------


def versions_matrix() -> str:
    """The Python <-> Functions runtime matrix from resources/versions.toml."""
    lines: list[str] = []
    for runtime in reversed(functions_versions()):
        lines += [f"### Functions {runtime}.x (runtime: {runtime_status(runtime)})", ""]
        lines += ["| Python | status | end of support |", "| --- | --- | --- |"]
        for python in reversed(python_versions(runtime)):
            entry = support(runtime, python)
            if entry is not None:
                end = entry.end.isoformat() if entry.end else "—"
                lines.append(f"| {python} | {entry.status} | {end} |")
        lines.append("")
    return "\n".join(lines)


# --- pages --------------------------------------------------------------------------------


REGIONS: Final[Mapping[str, Callable[[], str]]] = {
    "cli": cli_reference,
    "rules-table": rules_table,
    "rules-examples": rules_examples,
    "config-keys": config_keys,
    "versions-matrix": versions_matrix,
}


def render(text: str) -> str:
    """`text` with every generated region filled in; ValueError for an unknown region."""

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in REGIONS:
            msg = f"unknown generated region {name!r}; known: {', '.join(REGIONS)}"
            raise ValueError(msg)
        body = REGIONS[name]().rstrip("\n") + "\n"
        return f"{match.group(1)}{body}{match.group(4)}"

    return _REGION.sub(fill, text)


def generated_pages(docs: Path = DOCS) -> dict[Path, str]:
    """Every page holding a generated region, with its up-to-date text."""
    pages: dict[Path, str] = {}
    for path in sorted(docs.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if _REGION.search(text):
            pages[path] = render(text)
    return pages


def stale_pages(docs: Path = DOCS) -> list[Path]:
    """The pages whose generated regions are out of date."""
    return [
        path
        for path, text in generated_pages(docs).items()
        if path.read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str]) -> int:
    """`python -m funcpub.docgen [--check]`: rewrite the generated regions, or only check them."""
    console = Console()
    if "--check" in argv:
        stale = stale_pages()
        for path in stale:
            console.warn(f"stale: {path.relative_to(ROOT)} (run: bash scripts/docs generate)")
        return 1 if stale else 0
    for path, text in generated_pages().items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            console.step(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
