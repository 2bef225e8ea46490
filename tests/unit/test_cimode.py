"""CI mode: the flavours' logging commands, Console's use of them, and the CLI in a pipeline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from funcpub.cimode import (
    Annotation,
    AzurePipelines,
    CiFlavour,
    GitHubActions,
    NoCi,
    RunSummary,
    SummaryFinding,
    azure_command,
    detect_flavour,
    github_command,
)
from funcpub.cli import run
from funcpub.console import REDACTED, Console
from funcpub.errors import DeployError
from funcpub.validate import Finding
from tests.ci_commands import azure_commands, first_index, github_commands, github_outputs

PROJECTS = Path(__file__).parents[1] / "projects"
MULTI_ERROR = PROJECTS / "multi-error"


def console_with(ci: CiFlavour, **kwargs: bool) -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(stdout=out, stderr=err, ci=ci, command="funcpub test", **kwargs), out, err


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({}, "none"),
        ({"TF_BUILD": "True"}, "azure-pipelines"),
        ({"TF_BUILD": "true"}, "azure-pipelines"),
        ({"GITHUB_ACTIONS": "true"}, "github-actions"),
        ({"TF_BUILD": "True", "FUNCPUB_CI": "none"}, "none"),
        ({"FUNCPUB_CI": "github-actions"}, "github-actions"),
        ({"GITHUB_ACTIONS": "true", "FUNCPUB_CI": "Azure-Pipelines"}, "azure-pipelines"),
    ],
)
def test_the_flavour_comes_from_the_environment(environ: dict[str, str], name: str) -> None:
    flavour, warning = detect_flavour(environ)
    assert flavour.name == name
    assert warning is None


def test_an_unknown_forced_flavour_is_a_warning_and_detection_goes_on() -> None:
    flavour, warning = detect_flavour({"FUNCPUB_CI": "jenkins", "TF_BUILD": "True"})
    assert flavour.name == "azure-pipelines"
    assert (
        warning == "ignoring FUNCPUB_CI='jenkins': use one of azure-pipelines, github-actions, none"
    )


# --- the commands themselves --------------------------------------------------------------


def test_azure_escapes_data_and_properties() -> None:
    line = azure_command("task.logissue", {"type": "error", "sourcepath": "a;b]c%"}, "50%\nnext")
    assert line == "##vso[task.logissue type=error;sourcepath=a%3Bb%5Dc%AZP25]50%AZP25%0Anext"
    (parsed,) = azure_commands([line])
    assert parsed.properties["sourcepath"] == "a;b]c%"
    assert parsed.data == "50%\nnext"


def test_github_escapes_data_and_properties() -> None:
    line = github_command("error", {"file": "a,b:c", "line": "3"}, "100%\r\nok")
    assert line == "::error file=a%2Cb%3Ac,line=3::100%25%0D%0Aok"
    (parsed,) = github_commands([line])
    assert parsed.properties == {"file": "a,b:c", "line": "3"}
    assert parsed.data == "100%\r\nok"


def test_azure_annotation_with_file_line_and_code() -> None:
    annotation = Annotation(
        severity="warning", message="m", path="app/host.json", line=3, code="FP1"
    )
    (line,) = AzurePipelines({}).annotate(annotation)
    assert (
        line == "##vso[task.logissue type=warning;sourcepath=app/host.json;linenumber=3;code=FP1]m"
    )
    (bare,) = AzurePipelines({}).annotate(Annotation(severity="error", message="boom"))
    assert bare == "##vso[task.logissue type=error]boom"


def test_github_annotation_with_file_line_and_title() -> None:
    annotation = Annotation(severity="error", message="m", path="app/host.json", line=3, code="FP1")
    assert GitHubActions({}).annotate(annotation) == (
        "::error file=app/host.json,line=3,title=funcpub FP1::m",
    )


def test_masks_register_each_line_and_skip_tiny_values() -> None:
    assert AzurePipelines({}).mask("first-line\nsecond-line\nab") == (
        "##vso[task.setsecret]first-line",
        "##vso[task.setsecret]second-line",
    )
    assert GitHubActions({}).mask("token-value") == ("::add-mask::token-value",)
    assert AzurePipelines({}).mask("abc") == ()


def test_azure_outputs_are_job_and_output_variables() -> None:
    lines = AzurePipelines({}).set_output("package-sha256", "abc")
    assert lines == (
        "##vso[task.setvariable variable=funcpubPackageSha256]abc",
        "##vso[task.setvariable variable=funcpubPackageSha256;isoutput=true]abc",
    )


def test_github_outputs_go_to_the_output_file(tmp_path: Path) -> None:
    target = tmp_path / "output"
    flavour = GitHubActions({"GITHUB_OUTPUT": str(target)})
    assert flavour.set_output("function-urls", '{"a": "b"}\nsecond line') == ()
    assert flavour.set_output("deployment-id", "42") == ()
    assert github_outputs(target.read_text()) == {
        "function-urls": '{"a": "b"}\nsecond line',
        "deployment-id": "42",
    }


def test_summaries(tmp_path: Path) -> None:
    (line,) = AzurePipelines({"AGENT_TEMPDIRECTORY": str(tmp_path)}).publish_summary(
        "funcpub publish", "# hi\n"
    )
    (command,) = azure_commands([line])
    assert command.name == "task.uploadsummary"
    path = Path(command.data)
    assert path.name == "funcpub publish.md"
    assert path.parent.parent == tmp_path
    assert path.read_text() == "# hi\n"
    summary = tmp_path / "step_summary.md"
    GitHubActions({"GITHUB_STEP_SUMMARY": str(summary)}).publish_summary("t", "# one")
    GitHubActions({"GITHUB_STEP_SUMMARY": str(summary)}).publish_summary("t", "# two\n")
    assert summary.read_text() == "# one\n\n# two\n\n"


def test_failure_is_explicit_on_azure_only() -> None:
    assert AzurePipelines({}).fail("it broke") == ("##vso[task.complete result=Failed]it broke",)
    assert GitHubActions({}).fail("it broke") == ()


def test_foreign_lines_cannot_act_as_commands() -> None:
    azure = AzurePipelines({}).neutralize("pip: ##vso[task.setvariable variable=x]evil")
    assert azure_commands([azure]) == []
    github = GitHubActions({}).neutralize("  ::add-mask::everything")
    assert github_commands([github]) == []
    assert GitHubActions({}).neutralize("a :: b") == "a :: b"


def test_source_paths_are_relative_to_the_repository(tmp_path: Path) -> None:
    file = tmp_path / "src" / "app" / "host.json"
    azure = AzurePipelines({"BUILD_SOURCESDIRECTORY": str(tmp_path)})
    github = GitHubActions({"GITHUB_WORKSPACE": str(tmp_path)})
    assert azure.source_path(file) == "src/app/host.json"
    assert github.source_path(file) == "src/app/host.json"
    assert AzurePipelines({"BUILD_SOURCESDIRECTORY": "/elsewhere"}).source_path(
        Path("/outside/x.py")
    ) == ("/outside/x.py")


def test_no_ci_emits_nothing() -> None:
    flavour = NoCi()
    assert flavour.start_group("t") == flavour.end_group() == flavour.mask("secret") == ()
    assert flavour.set_output("a", "b") == flavour.publish_summary("t", "m") == ()
    assert flavour.annotate(Annotation(severity="error", message="m")) == ()


def test_summary_markdown() -> None:
    summary = RunSummary(command="funcpub validate")
    assert not summary.has_content
    summary.validated = True
    summary.findings.append(
        SummaryFinding(code="FP103", severity="error", location="host.json:2", message="a | b")
    )
    summary.outputs["deployment-id"] = "42"
    text = summary.to_markdown(3)
    assert text.startswith("## `funcpub validate` failed (exit code 3)\n")
    assert "| `deployment-id` | `42` |" in text
    assert "| FP103 | error | `host.json:2` | a \\| b |" in text
    assert RunSummary(command="x", validated=True).to_markdown(0).count("no findings") == 1


# --- Console in a pipeline ----------------------------------------------------------------


def test_a_secret_is_masked_before_the_line_that_holds_it() -> None:
    console, out, err = console_with(AzurePipelines({}))
    console.step("signing in")
    console.secret("tok-123456")
    console.secret("tok-123456")  # registered once
    console.step("using tok-123456")
    lines = err.getvalue().splitlines()
    assert lines.count("##vso[task.setsecret]tok-123456") == 1
    assert lines.index("##vso[task.setsecret]tok-123456") < first_index(lines, "using")
    assert f"using {REDACTED}" in err.getvalue()
    assert out.getvalue() == ""


def test_deployment_logs_and_commands_are_grouped() -> None:
    console, _, err = console_with(GitHubActions({}))
    console.step("uploading")
    console.deployment_log("Preparing deployment")
    console.deployment_log("::set-output name=x::evil")
    console.step("syncing triggers")
    console.command("uv pip install -r requirements.txt")
    console.status("Resolved 3 packages")  # not a terminal: printed inside the group
    console.output("Installed 3 packages")
    console.finish(0)
    lines = err.getvalue().splitlines()
    commands = [(c.name, c.data) for c in github_commands(lines)]
    assert commands == [
        ("group", "deployment log"),
        ("endgroup", ""),
        ("group", "uv pip install -r requirements.txt"),
        ("endgroup", ""),
    ]
    assert first_index(lines, "::group::uv pip") < first_index(lines, "+ uv pip install")
    assert first_index(lines, "::group::uv pip") < first_index(lines, "Resolved 3 packages")


def test_an_explicit_group_survives_steps_inside_it() -> None:
    console, _, err = console_with(AzurePipelines({}))
    with console.group("docker build"):
        console.step("building the image")
        console.output("Step 1/5")
    console.step("after")
    lines = err.getvalue().splitlines()
    assert lines[0] == "##[group]docker build"
    assert lines.index("##[endgroup]") < first_index(lines, "after")


def test_quiet_and_json_runs_have_no_groups_but_all_other_commands() -> None:
    console, out, err = console_with(AzurePipelines({}), json_mode=True)
    console.deployment_log("hidden")
    console.secret("tok-abcdef")
    console.set_outputs({"deployment-id": "7"})
    console.json({"ok": True})
    console.finish(0)
    assert json.loads(out.getvalue()) == {"ok": True}
    names = [c.name for c in azure_commands(err.getvalue().splitlines())]
    assert names == ["task.setsecret", "task.setvariable", "task.setvariable", "task.uploadsummary"]


def test_findings_are_annotated_at_their_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "src" / "app"
    root.mkdir(parents=True)
    console, _, err = console_with(AzurePipelines({"BUILD_SOURCESDIRECTORY": str(tmp_path)}))
    finding = Finding(
        code="FP103", severity="error", message="bad", hint="fix", path="host.json", line=2
    )
    whole_app = Finding(code="FP602", severity="error", message="no functions")
    console.findings((finding, whole_app), root)
    console.warn("FP103 bad")  # pack repeats warnings of findings: not annotated twice
    issues = azure_commands(err.getvalue().splitlines())
    assert [(c.properties, c.data) for c in issues] == [
        (
            {
                "type": "error",
                "sourcepath": "src/app/host.json",
                "linenumber": "2",
                "code": "FP103",
            },
            "FP103 bad\nhint: fix",
        ),
        ({"type": "error", "code": "FP602"}, "FP602 no functions"),
    ]


def test_errors_and_warnings_are_annotated_and_secrets_stay_out() -> None:
    console, _, err = console_with(GitHubActions({}))
    console.secret("pw-98765")
    console.warn("slow pw-98765")
    console.error(DeployError("failed", hint="retry"))
    commands = [(c.name, c.data) for c in github_commands(err.getvalue().splitlines())]
    assert commands == [
        ("add-mask", "pw-98765"),
        ("warning", f"slow {REDACTED}"),
        ("error", "failed\nhint: retry"),
    ]


def test_finish_publishes_the_summary_and_fails_the_step(tmp_path: Path) -> None:
    console, _, err = console_with(AzurePipelines({"AGENT_TEMPDIRECTORY": str(tmp_path)}))
    console.secret("key-000111")
    console.set_outputs({"deployment-id": "key-000111"})
    console.error(DeployError("the deployment failed"))
    console.finish(6)
    commands = azure_commands(err.getvalue().splitlines())
    upload = next(c for c in commands if c.name == "task.uploadsummary")
    markdown = Path(upload.data).read_text()
    assert "## `funcpub test` failed (exit code 6)" in markdown
    assert "the deployment failed" in markdown
    assert "key-000111" not in markdown
    assert commands[-1].name == "task.complete"
    assert commands[-1].properties == {"result": "Failed"}
    assert commands[-1].data == "funcpub test failed: the deployment failed"


def test_nothing_to_summarize_emits_nothing() -> None:
    console, out, err = console_with(AzurePipelines({}))
    console.finish(0)
    assert out.getvalue() == err.getvalue() == ""


# --- the CLI in a pipeline (validate is offline) ------------------------------------------


def test_validate_on_azure_pipelines_annotates_every_finding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    monkeypatch.setenv("BUILD_SOURCESDIRECTORY", str(PROJECTS.parent.parent))
    code = run(["validate", str(MULTI_ERROR)])
    captured = capsys.readouterr()
    assert code == 3
    assert "##vso" not in captured.out  # results stay clean on stdout
    commands = azure_commands(captured.err.splitlines())
    issues = [c for c in commands if c.name == "task.logissue"]
    assert len(issues) == 10
    by_code = {c.properties["code"]: c for c in issues}
    assert by_code["FP103"].properties == {
        "type": "error",
        "sourcepath": "tests/projects/multi-error/host.json",
        "linenumber": "2",
        "code": "FP103",
    }
    assert by_code["FP103"].data.startswith("FP103 host.json declares version '3.0'")
    assert "linenumber" not in by_code["FP305"].properties  # a file without a line
    upload = next(c for c in commands if c.name == "task.uploadsummary")
    markdown = Path(upload.data).read_text()
    assert markdown.startswith("## `funcpub validate` failed (exit code 3)")
    assert "| FP202 | error | `tests/projects/multi-error/requirements.txt:3` |" in markdown
    assert commands[-1].name == "task.complete"
    assert commands[-1].properties == {"result": "Failed"}


def test_validate_on_github_actions_annotates_and_summarizes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(PROJECTS))
    code = run(["validate", str(MULTI_ERROR), "--json"])
    captured = capsys.readouterr()
    assert code == 3
    assert json.loads(captured.out)["errors"] == 10  # stdout is still one JSON document
    errors = [c for c in github_commands(captured.err.splitlines()) if c.name == "error"]
    located = {(c.properties["file"], c.properties.get("line")) for c in errors}
    assert ("multi-error/host.json", "2") in located
    assert ("multi-error/requirements.txt", "3") in located
    assert all(c.properties["title"].startswith("funcpub FP") for c in errors)
    assert summary.read_text().startswith("## `funcpub validate` failed (exit code 3)")


def test_a_valid_app_succeeds_without_a_failure_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    assert run(["validate", str(PROJECTS / "v2-good")]) == 0
    names = [c.name for c in azure_commands(capsys.readouterr().err.splitlines())]
    assert names == ["task.uploadsummary"]


def test_usage_errors_fail_the_step_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    assert run(["validate", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "error: No such option" in err
    commands = azure_commands(err.splitlines())
    assert commands[0].name == "task.logissue"
    assert commands[-1].name == "task.complete"


def test_ci_mode_can_be_turned_off(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("FUNCPUB_CI", "none")
    assert run(["validate", str(MULTI_ERROR)]) == 3
    captured = capsys.readouterr()
    assert "##vso" not in captured.err
    assert "FUNCPUB_CI" not in captured.err  # a known variable: no "unknown variable" warning
