"""The documentation site and the CI examples: generated pages current, commands real."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
import yaml

from funcpub import docgen
from funcpub.cli import cli_app
from funcpub.validate import RULES

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
TEMPLATE = ROOT / "azure-pipelines" / "funcpub-publish.yml"
EXAMPLE_PIPELINE = ROOT / "azure-pipelines" / "example-pipeline.yml"
WORKFLOW = ROOT / ".github" / "workflows" / "example-funcpub.yml"
_FUNCPUB_CALL = re.compile(r"\bfuncpub (validate|pack|publish)\b(.*)")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def options_by_command() -> dict[str, set[str]]:
    root = typer.main.get_command(cli_app())
    assert isinstance(root, typer.core.TyperGroup)
    found: dict[str, set[str]] = {}
    for name, command in root.commands.items():
        opts: set[str] = set()
        for param in command.params:
            if isinstance(param, typer.core.TyperOption):
                opts.update(param.opts, param.secondary_opts)
        found[name] = opts
    return found


def funcpub_calls(script: str) -> list[tuple[str, list[str]]]:
    """(command, options) of every funcpub call in a bash script, `args` arrays included."""
    text = script.replace("\\\n", " ")
    arrays = re.findall(r"args=\(([^)]*)\)", text) + re.findall(r"args\+=\(([^)]*)\)", text)
    array_options = [t for chunk in arrays for t in shlex.split(chunk) if t.startswith("-")]
    calls = []
    for line in text.splitlines():
        for command, rest in _FUNCPUB_CALL.findall(line):
            tokens = shlex.split(rest.split(">")[0])
            options = [t for t in tokens if t.startswith("-")]
            if '"${args[@]}"' in rest:
                options += array_options
            calls.append((command, options))
    return calls


def template_scripts(node: Any) -> list[str]:
    """Every bash script in a pipeline or workflow document, at any depth."""
    if isinstance(node, list):
        return [script for item in node for script in template_scripts(item)]
    if not isinstance(node, dict):
        return []
    scripts = [str(node[key]) for key in ("script", "bash", "run", "inlineScript") if key in node]
    return scripts + [script for value in node.values() for script in template_scripts(value)]


# --- generated pages ----------------------------------------------------------------------


def test_generated_pages_are_current() -> None:
    stale = docgen.stale_pages()
    assert not stale, f"regenerate with `bash scripts/docs generate`: {stale}"


def test_every_region_is_on_a_page() -> None:
    pages = "".join(path.read_text(encoding="utf-8") for path in DOCS.rglob("*.md"))
    for name in docgen.REGIONS:
        assert f"<!-- BEGIN GENERATED: {name} -->" in pages


def test_an_unknown_region_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown generated region 'nope'"):
        docgen.render("<!-- BEGIN GENERATED: nope -->\n<!-- END GENERATED: nope -->\n")


def test_every_rule_has_an_example_section() -> None:
    page = (DOCS / "validation.md").read_text(encoding="utf-8")
    for code in RULES:
        assert f"### {code}: " in page
        assert docgen.example_dir(code) is not None, code


def test_the_cli_reference_lists_every_option() -> None:
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for command, options in options_by_command().items():
        assert f"## `funcpub {command}`" in page
        for option in options:
            assert option in page, (command, option)


def test_the_benchmarks_page_records_a_real_run_of_the_script() -> None:
    config = load_yaml(ROOT / "mkdocs.yml")
    assert config["strict"] is True
    assert "benchmarks.md" in str(config["nav"])
    page = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert (ROOT / "benchmarks" / "build_and_pack.py").is_file()
    assert "benchmarks/build_and_pack.py" in page
    assert "2026-11-26" in page  # when it was measured, on which machine
    for run in ("funcpub cold build+pack (uv)", "pip install + zip -r -6", "uv install + zip"):
        assert f"| {run}" in page


def test_core_tools_page_maps_every_publish_flag() -> None:
    page = (DOCS / "core-tools.md").read_text(encoding="utf-8")
    flags = [
        "--slot", "--subscription", "--access-token", "--access-token-stdin", "--management-url",
        "--python", "-b/--build local", "-b/--build remote", "--build-native-deps", "--no-build",
        "--additional-packages", "--force", "--nozip", "--no-bundler", "--list-ignored-files",
        "--list-included-files", "-i/--publish-local-settings", "-o/--publish-settings-only",
        "-y/--overwrite-settings", "--show-keys", "--dotnet-cli-params", "--csx",
    ]  # fmt: skip
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    for flag in flags:
        assert any(f"`{flag}" in row.split("|")[1] for row in rows), flag
    (nozip,) = [row for row in rows if row.startswith("| `--nozip`")]
    assert "always zip-deploys" not in page, "Y1 runs from package, Flex uses OneDeploy"
    for delivery in ("Kudu zipdeploy", "run-from-package", "Y1", "OneDeploy", "FC1"):
        assert delivery in nozip, delivery


# --- the Azure Pipelines template and the examples ----------------------------------------


def test_the_template_has_the_documented_parameters() -> None:
    parameters = {p["name"]: p for p in load_yaml(TEMPLATE)["parameters"]}
    assert set(parameters) >= {
        "appName", "appDir", "build", "pythonVersion", "functionsVersion", "slot",
        "azureSubscription", "dryRun",
    }  # fmt: skip
    assert parameters["build"]["values"] == ["local", "remote", "docker", "none"]
    assert parameters["dryRun"]["type"] == "boolean"


def test_no_secret_in_the_pipelines() -> None:
    for path in (TEMPLATE, EXAMPLE_PIPELINE, WORKFLOW):
        text = path.read_text(encoding="utf-8")
        assert "AZURE_CLIENT_SECRET" not in text
        assert "secrets." not in text
        assert "servicePrincipalKey" not in text


@pytest.mark.parametrize("path", [TEMPLATE, EXAMPLE_PIPELINE, WORKFLOW], ids=lambda p: p.name)
def test_every_funcpub_option_in_the_examples_exists(path: Path) -> None:
    options = options_by_command()
    calls = [call for script in template_scripts(load_yaml(path)) for call in funcpub_calls(script)]
    assert calls or path == EXAMPLE_PIPELINE
    for command, used in calls:
        unknown = set(used) - options[command]
        assert not unknown, f"{path.name}: funcpub {command} has no {sorted(unknown)}"


def test_the_example_workflow_never_runs_by_itself() -> None:
    workflow = load_yaml(WORKFLOW)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers == {"workflow_dispatch": None}
    assert workflow["permissions"]["id-token"] == "write"


def test_the_example_pipeline_uses_the_template() -> None:
    pipeline = load_yaml(EXAMPLE_PIPELINE)
    steps = pipeline["stages"][0]["jobs"][0]["steps"]
    (use,) = [step for step in steps if "template" in step]
    assert use["template"] == TEMPLATE.name
    assert use["parameters"]["slot"] == "staging"
    assert "refs/heads/main" in use["parameters"]["dryRun"]
