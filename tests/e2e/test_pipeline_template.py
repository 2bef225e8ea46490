"""The Azure Pipelines template, run by a small stand-in for the agent against the emulator.

The YAML is parsed; `${{ parameters.x }}` and the template's `${{ if … }}` steps are expanded;
`$(Pipeline.Variable)` macros are replaced; each `script:` step and the `AzureCLI@2` inline script
run with bash, with the step's `env:`, `TF_BUILD=True` and the variables earlier steps set through
`##vso[task.setvariable]`. The AzureCLI@2 task is played for two kinds of service connection:
workload identity federation, where it exports the connection's AZURESUBSCRIPTION_* variables
(the job has SYSTEM_OIDCREQUESTURI, and `$(System.AccessToken)` is the emulator's job token), and
a secret-based one, where only its `az login` is left: an `az` on PATH that answers
`az account get-access-token` with the emulator's tokens. No client secret reaches a script.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from funcpub.emulator import Emulator
from funcpub.emulator.tokens import RESOURCE_AUDIENCES
from tests.ci_commands import azure_commands

ROOT = Path(__file__).parents[2]
TEMPLATE = ROOT / "azure-pipelines" / "funcpub-publish.yml"
EXAMPLE = ROOT / "examples" / "hello"
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_MACRO = re.compile(r"\$\((\w+(?:\.\w+)*)\)")
_CALL = re.compile(r"(\w+)\((.*)\)")

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]


# --- a minimal template expander (only what the template uses) ----------------------------


def _split_arguments(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    return [*parts, current.strip()] if current.strip() else parts


def evaluate(expression: str, parameters: Mapping[str, Any]) -> Any:
    """parameters.x, 'literals', true/false, and eq/ne/not/and."""
    expression = expression.strip()
    if expression.startswith("parameters."):
        return parameters[expression.removeprefix("parameters.")]
    if expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    if expression in {"true", "false"}:
        return expression == "true"
    match = _CALL.fullmatch(expression)
    assert match, f"unsupported expression {expression!r}"
    name = match.group(1)
    args = [evaluate(arg, parameters) for arg in _split_arguments(match.group(2))]
    if name in {"eq", "ne"}:
        left, right = (str(arg).lower() for arg in args)
        return (left == right) == (name == "eq")
    if name == "not":
        return not args[0]
    assert name == "and", f"unsupported function {name!r}"
    return all(args)


def expand(node: Any, parameters: Mapping[str, Any]) -> Any:
    """The template with its parameters substituted and its conditional steps resolved."""
    if isinstance(node, str):
        whole = _EXPRESSION.fullmatch(node)
        if whole:
            return evaluate(whole.group(1), parameters)
        return _EXPRESSION.sub(lambda m: str(evaluate(m.group(1), parameters)), node)
    if isinstance(node, dict):
        return {key: expand(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        items: list[Any] = []
        for item in node:
            condition = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else None
            if isinstance(condition, str) and condition.startswith("${{ if "):
                if evaluate(condition[len("${{ if ") : -len(" }}")], parameters):
                    items.extend(expand(item[condition], parameters))
            else:
                items.append(expand(item, parameters))
        return items
    return node


def template_steps(overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
    template = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    parameters = {p["name"]: p.get("default") for p in template["parameters"]}
    unknown = set(overrides) - set(parameters)
    assert not unknown, unknown
    parameters |= overrides
    steps: list[dict[str, Any]] = expand(template["steps"], parameters)
    return steps


# --- the stand-in agent -------------------------------------------------------------------


@dataclass
class Agent:
    """Runs steps like the agent: macros, env, logging commands, variables between steps."""

    workspace: Path
    environ: dict[str, str]
    predefined: dict[str, str]
    service_connection: dict[str, str]  # what AzureCLI@2 exports for a WIF connection
    variables: dict[str, str] = field(default_factory=dict)
    outputs: list[list[str]] = field(default_factory=list)

    def macro(self, text: str) -> str:
        names = self.predefined | self.variables
        return _MACRO.sub(lambda m: names.get(m.group(1), m.group(0)), text)

    def run_bash(self, script: str, env: Mapping[str, str], name: str) -> None:
        path = self.workspace.parent / f"step-{len(self.outputs)}.sh"
        path.write_text(self.macro(script), encoding="utf-8")
        step_env = {**self.environ, **{k: self.macro(str(v)) for k, v in env.items()}}
        step_env |= {k.upper().replace(".", "_"): v for k, v in self.variables.items()}
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", str(path)],
            cwd=self.workspace,
            env=step_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
            check=False,
        )
        lines = completed.stdout.splitlines()
        self.outputs.append(lines)
        assert completed.returncode == 0, f"step {name!r} failed:\n{completed.stdout}"
        for command in azure_commands(lines):
            if command.name == "task.setvariable":
                variable = command.properties["variable"]
                is_output = command.properties.get("isoutput") == "true"
                self.variables[f"{name}.{variable}" if is_output else variable] = command.data

    def run(self, step: Mapping[str, Any], connection: Mapping[str, str]) -> str:
        """Run one step (AzureCLI@2 with the service connection's `connection` variables)."""
        if "script" in step:
            self.run_bash(step["script"], step.get("env", {}), step.get("name", "script"))
            return "script"
        task = str(step["task"])
        if task == "AzureCLI@2":
            inputs = step["inputs"]
            assert inputs["scriptType"] == "bash"
            assert not inputs.get("addSpnToEnvironment")  # never the connection's secret
            env = {**step.get("env", {}), **connection}
            self.run_bash(inputs["inlineScript"], env, step["name"])
        elif task == "PublishPipelineArtifact@1":
            target = Path(self.macro(step["inputs"]["targetPath"]))
            assert target.is_dir()
            assert any(target.iterdir())
        else:
            assert task == "UsePythonVersion@0"  # the test's Python is on PATH already
        return task


@pytest.fixture
def agent(emulator: Emulator, tmp_path: Path) -> Agent:
    workspace = tmp_path / "s"
    shutil.copytree(EXAMPLE, workspace / "src" / "app")
    staging = tmp_path / "a"
    staging.mkdir()
    temp = tmp_path / "_temp"
    temp.mkdir()
    job = emulator.pipeline_env()
    access_token = job.pop("SYSTEM_ACCESSTOKEN")  # a secret: in a step's env only when mapped
    service_connection = {k: job.pop(k) for k in list(job) if k.startswith("AZURESUBSCRIPTION_")}
    environ = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AZURE", "FUNCPUB_", "SYSTEM_"))
        },
        **job,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        f"{os.environ['PATH']}",
        "PIP_NO_INDEX": "1",  # funcpub is installed already: pip must not go looking
        "TF_BUILD": "True",
        "AGENT_TEMPDIRECTORY": str(temp),
        "BUILD_SOURCESDIRECTORY": str(workspace),
        "BUILD_ARTIFACTSTAGINGDIRECTORY": str(staging),
    }
    predefined = {
        "Build.ArtifactStagingDirectory": str(staging),
        "System.JobAttempt": "1",
        "Agent.TempDirectory": str(temp),
        "System.AccessToken": access_token,
    }
    return Agent(
        workspace=workspace,
        environ=environ,
        predefined=predefined,
        service_connection=service_connection,
    )


def azure_cli_login(emulator: Emulator, bin_dir: Path) -> None:
    """The `az login` AzureCLI@2 makes with a secret-based connection: an `az` on PATH whose
    `account get-access-token --resource R` prints a token for R from the emulator."""
    cases = "\n".join(
        f"  {resource}) token='{emulator.issue_token(audience)}' ;;"
        for resource, audience in RESOURCE_AUDIENCES.items()
    )
    script = f"""#!/usr/bin/env bash
set -euo pipefail
[ "$1 $2" = "account get-access-token" ] || {{ echo "az: unsupported: $*" >&2; exit 2; }}
while [ "$#" -gt 0 ] && [ "$1" != --resource ]; do shift; done
echo "${{2:-}}" >> "$0.log"
case "${{2:-}}" in
{cases}
  *) echo "ERROR: no token for ${{2:-}}" >&2; exit 1 ;;
esac
printf '{{"accessToken": "%s", "expires_on": %d, "tokenType": "Bearer"}}\n' "$token" \
  "$(( $(date +%s) + 3600 ))"
"""
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(script, encoding="utf-8")
    az.chmod(0o755)


PARAMETERS: Mapping[str, Any] = {
    "appName": "pipeline-app",
    "appDir": "src/app",
    "build": "none",
    "pythonVersion": "3.11",
    "slot": "staging",
    "azureSubscription": "funcpub-wif",
}


def test_the_template_publishes_to_a_slot(agent: Agent, emulator: Emulator) -> None:
    emulator.create_app("pipeline-app", python="3.11")
    emulator.create_slot("pipeline-app", "staging")
    steps = template_steps(PARAMETERS)
    kinds = [agent.run(step, agent.service_connection) for step in steps]
    assert kinds == [
        "UsePythonVersion@0", "script", "script", "script", "script", "AzureCLI@2",
        "PublishPipelineArtifact@1",
    ]  # fmt: skip

    staging = Path(agent.predefined["Build.ArtifactStagingDirectory"]) / "funcpub"
    plan = json.loads((staging / "plan.json").read_text(encoding="utf-8"))
    assert plan["app_name"] == "pipeline-app"
    assert plan["slot"] == "staging"
    package = json.loads((staging / "package.json").read_text(encoding="utf-8"))
    deployed = hashlib.sha256((staging / "pipeline-app.zip").read_bytes()).hexdigest()
    # funcpub's outputs reached later steps, and the deployed zip is the packed one, bit for bit.
    assert agent.variables["funcpubPackageSha256"] == deployed == package["sha256"]
    assert agent.variables["publish.funcpubDeploymentId"] == agent.variables["funcpubDeploymentId"]
    assert sorted(json.loads(agent.variables["funcpubFunctionUrls"])) == ["health", "hello"]
    assert emulator.site("pipeline-app", slot="staging").active_deployment is not None
    assert emulator.site("pipeline-app").active_deployment is None  # production untouched

    # The publish step: masks before use, a summary, no failure; no secret in any step's log.
    publish_lines = agent.outputs[-1]
    commands = azure_commands(publish_lines)
    assert any(c.name == "task.setsecret" for c in commands)
    assert any(c.name == "task.uploadsummary" for c in commands)
    assert not any(c.name == "task.complete" for c in commands)
    every_line = [line for lines in agent.outputs for line in lines]
    assert not any(emulator.client_secret in line for line in every_line)
    job_token = agent.predefined["System.AccessToken"]
    assert [line for line in every_line if job_token in line] == [
        f"##vso[task.setsecret]{job_token}"
    ]


def test_a_secret_based_connection_publishes_with_the_tasks_azure_cli_login(
    agent: Agent, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.create_app("pipeline-app", python="3.11")
    emulator.create_slot("pipeline-app", "staging")
    azure_cli_login(emulator, tmp_path / "bin")
    for step in template_steps(PARAMETERS):
        agent.run(step, {})  # no AZURESUBSCRIPTION_* variables for such a connection
    assert emulator.site("pipeline-app", slot="staging").active_deployment is not None
    asked = (tmp_path / "bin" / "az.log").read_text(encoding="utf-8").split()
    assert "https://management.azure.com" in asked


def test_a_dry_run_never_reaches_azure(agent: Agent, emulator: Emulator) -> None:
    emulator.create_app("pipeline-app", python="3.11")
    steps = template_steps({**PARAMETERS, "slot": "", "dryRun": True, "azureSubscription": ""})
    kinds = [agent.run(step, {}) for step in steps]
    assert "AzureCLI@2" not in kinds
    staging = Path(agent.predefined["Build.ArtifactStagingDirectory"]) / "funcpub"
    assert sorted(p.name for p in staging.iterdir()) == [
        "package.json",
        "pipeline-app.zip",
        "plan.json",
    ]
    assert emulator.site("pipeline-app").active_deployment is None


def test_a_remote_build_has_no_pack_step() -> None:
    steps = template_steps({**PARAMETERS, "build": "remote"})
    names = [step.get("displayName", "") for step in steps]
    assert not [name for name in names if name.startswith("Pack")]
    assert any(name.startswith("Publish pipeline-app") for name in names)


def test_an_invalid_app_stops_at_validation(agent: Agent, emulator: Emulator) -> None:
    (agent.workspace / "src" / "app" / "host.json").write_text('{"version": "1.0"}\n')
    steps = template_steps(PARAMETERS)
    agent.run(steps[0], {})
    agent.run(steps[1], {})
    with pytest.raises(AssertionError, match="failed"):
        agent.run(steps[2], {})
    commands = azure_commands(agent.outputs[-1])
    (issue,) = [c for c in commands if c.name == "task.logissue"]
    assert issue.properties["sourcepath"] == "src/app/host.json"
    assert issue.properties["code"] == "FP103"
    assert commands[-1].name == "task.complete"
