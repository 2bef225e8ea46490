"""`funcpub publish` in a pipeline, against the emulator: the logging commands it emits."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from funcpub.cli import run
from funcpub.emulator import Emulator
from funcpub.emulator.records import DEVOPS_ISSUER
from tests.ci_commands import azure_commands, github_commands, github_outputs
from tests.emulator.test_entra import claims_of

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "hello"
SHA256 = re.compile(r"[0-9a-f]{64}")

pytestmark = pytest.mark.emulator


def funcpub_merged(argv: list[str], env: dict[str, str]) -> tuple[int, list[str]]:
    """Run the CLI in a child with stdout and stderr on one pipe, as an agent would see it."""
    completed = subprocess.run(
        [sys.executable, "-m", "funcpub", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    return completed.returncode, completed.stdout.splitlines()


@pytest.mark.subprocess
def test_publish_on_azure_pipelines(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TF_BUILD": "True",
        "AGENT_TEMPDIRECTORY": str(tmp_path),
        "BUILD_SOURCESDIRECTORY": str(ROOT),
    }
    code, lines = funcpub_merged(
        ["publish", "ci-azure", str(EXAMPLE), "--build", "none", "--emulator"], env
    )
    assert code == 0, "\n".join(lines)
    commands = azure_commands(lines)

    # Every secret is registered before any line could show it, and shown nowhere else.
    secrets = [c for c in commands if c.name == "task.setsecret"]
    assert len(secrets) >= 2  # the emulator's client secret and at least one access token
    for secret in secrets:
        assert len(secret.data) >= 16
        leaks = [i for i, line in enumerate(lines) if secret.data in line and i != secret.index]
        assert not leaks, [lines[i] for i in leaks]

    # Outputs, as job variables and as output variables.
    plain = {
        c.properties["variable"]: c.data
        for c in commands
        if c.name == "task.setvariable" and "isoutput" not in c.properties
    }
    outputs = {
        c.properties["variable"]: c.data
        for c in commands
        if c.name == "task.setvariable" and c.properties.get("isoutput") == "true"
    }
    assert plain == outputs
    assert set(plain) == {"funcpubPackageSha256", "funcpubDeploymentId", "funcpubFunctionUrls"}
    assert SHA256.fullmatch(plain["funcpubPackageSha256"])
    assert plain["funcpubDeploymentId"]
    urls = json.loads(plain["funcpubFunctionUrls"])
    assert sorted(urls) == ["health", "hello"]
    assert all(url.startswith("https://") and "code=" not in url for url in urls.values())

    # The deployment log sits in one group, opened before its first line.
    starts = [i for i, line in enumerate(lines) if line.startswith("##[group]")]
    ends = [i for i, line in enumerate(lines) if line == "##[endgroup]"]
    assert "##[group]deployment log" in lines
    assert len(starts) == len(ends)
    assert all(start < end for start, end in zip(starts, ends, strict=True))

    # The summary is attached; success means no failure command.
    (upload,) = [c for c in commands if c.name == "task.uploadsummary"]
    markdown = Path(upload.data).read_text(encoding="utf-8")
    assert markdown.startswith("## `funcpub publish` succeeded")
    assert plain["funcpubPackageSha256"] in markdown
    assert not [c for c in commands if c.name == "task.complete"]


def test_publish_on_github_actions(
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator.create_app("ci-github")
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    zip_path = tmp_path / "deployed.zip"
    argv = ["publish", "ci-github", str(EXAMPLE), "--build", "none", "-o", str(zip_path), "--json"]
    code = run(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)  # --json: stdout is still one document

    values = github_outputs(output.read_text(encoding="utf-8"))
    assert values["package-sha256"] == result["package"]["sha256"]
    assert values["deployment-id"] == result["deployment_id"]
    assert sorted(json.loads(values["function-urls"])) == ["health", "hello"]

    commands = github_commands(captured.err.splitlines())
    masks = [c for c in commands if c.name == "add-mask"]
    assert masks  # the access tokens
    for mask in masks:
        assert mask.data not in captured.out
    assert "`funcpub publish` succeeded" in summary.read_text(encoding="utf-8")


def test_a_failed_publish_fails_the_step(
    capsys: pytest.CaptureFixture[str],
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator.create_app("ci-windows", os="windows")
    for key, value in emulator.client_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    code = run(["publish", "ci-windows", str(EXAMPLE), "--build", "none"])
    assert code == 6
    commands = azure_commands(capsys.readouterr().err.splitlines())
    errors = [c for c in commands if c.name == "task.logissue" and c.properties["type"] == "error"]
    assert any("Windows" in c.data for c in errors)
    assert not [c for c in commands if c.name == "task.setvariable"]
    upload = next(c for c in commands if c.name == "task.uploadsummary")
    assert "failed (exit code 6)" in Path(upload.data).read_text(encoding="utf-8")
    assert commands[-1].name == "task.complete"
    assert commands[-1].properties == {"result": "Failed"}
    assert "Windows" in commands[-1].data


def pipeline_step_env(emulator: Emulator, tmp_path: Path, **pipeline: Any) -> dict[str, str]:
    """A pipeline step's environment: the service connection's variables, no Azure secret."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE", "FUNCPUB_", "SYSTEM_", "TF_BUILD", "GITHUB_"))
    }
    return {
        **inherited,
        **emulator.pipeline_env(**pipeline),
        "AGENT_TEMPDIRECTORY": str(tmp_path),
        "BUILD_SOURCESDIRECTORY": str(ROOT),
    }


@pytest.mark.subprocess
def test_publish_signs_in_with_the_service_connection(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("ci-wif")
    env = pipeline_step_env(emulator, tmp_path)
    code, lines = funcpub_merged(["publish", "ci-wif", str(EXAMPLE), "--build", "none"], env)
    assert code == 0, "\n".join(lines)
    assert emulator.site("ci-wif").active_deployment is not None

    # The job's access token, Azure DevOps' OIDC token and the access tokens are masked first.
    secrets = [c.data for c in azure_commands(lines) if c.name == "task.setsecret"]
    assert env["SYSTEM_ACCESSTOKEN"] in secrets
    assert any(claims_of(s).get("iss") == DEVOPS_ISSUER for s in secrets if s.count(".") == 2)
    for secret in secrets:
        assert sum(secret in line for line in lines) == 1, "shown outside its setsecret"


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("step", "words", "hint"),
    [
        pytest.param(
            "no SYSTEM_ACCESSTOKEN",
            "Azure Pipelines service connection: not set in this step: SYSTEM_ACCESSTOKEN",
            "env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)",
            id="access-token-not-mapped",
        ),
        pytest.param(
            "renamed connection",
            "AADSTS700213 (No matching federated identity record found for presented assertion"
            " subject 'sc://funcpub-emulator/funcpub/renamed'.)",
            "renaming the connection changes it",
            id="wrong-subject",
        ),
    ],
)
def test_a_service_connection_that_cannot_sign_in_says_why(
    emulator: Emulator, tmp_path: Path, step: str, words: str, hint: str
) -> None:
    emulator.create_app("ci-wif")
    if step == "renamed connection":
        emulator.add_service_connection("before-the-rename")
        env = pipeline_step_env(emulator, tmp_path, service_connection="renamed", federated=False)
    else:
        env = pipeline_step_env(emulator, tmp_path)
        del env["SYSTEM_ACCESSTOKEN"]
    code, lines = funcpub_merged(["publish", "ci-wif", str(EXAMPLE), "--build", "none"], env)
    assert code == 7, "\n".join(lines)
    commands = azure_commands(lines)
    (error,) = [
        c for c in commands if c.name == "task.logissue" and c.properties["type"] == "error"
    ]
    assert words in error.data
    assert hint in "\n".join(lines)
    assert commands[-1].name == "task.complete"
    assert commands[-1].properties == {"result": "Failed"}
    assert emulator.site("ci-wif").active_deployment is None
    if "SYSTEM_ACCESSTOKEN" in env:  # the job token never shows, even in a failure
        assert sum(env["SYSTEM_ACCESSTOKEN"] in line for line in lines) == 1
