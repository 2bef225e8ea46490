"""`funcpub.deploy.deploy` end to end against the emulator, with the real clients over TLS.

azure-identity signs in at the emulator's Entra ID, azure-mgmt-web talks to its ARM, requests
talks to the site's Kudu and app hosts; the emulator's CA comes from REQUESTS_CA_BUNDLE in the
`environ` passed to deploy(), never from os.environ.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from funcpub.deploy import AzureTarget, DeployOptions, DeployResult, deploy
from funcpub.deploy.timing import Backoff, Timing
from funcpub.emulator import Emulator, FaultRule, SiteInfo
from funcpub.errors import AuthError, DeployError
from funcpub.ignore import select_files
from funcpub.options import resolve_options
from funcpub.package import Artifact, write_zip
from funcpub.plan import Plan, make_plan
from funcpub.project import FunctionProject
from funcpub.validate import validate
from tests.emulator_fixtures import Kudu

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).parents[2]
HELLO = ROOT / "examples" / "hello"
V1_GOOD = ROOT / "tests" / "projects" / "v1-good"
IN_PROGRESS = "There is a deployment currently in progress. Please try again when it completes."
FAST = Timing(
    poll=Backoff(initial=0.1, maximum=0.5),
    not_found_grace=10,
    conflict_budget=30,
    conflict=Backoff(initial=0.1, maximum=0.5),
    retry=Backoff(initial=0.1, maximum=0.5, factor=2),
    scm_settings_timeout=30,
    verify_timeout=30,
    verify_poll=Backoff(initial=0.2, maximum=1),
    arm_retry_backoff=0.05,
)
TARGET = AzureTarget(
    cloud="emulator", subscription_id=None, resource_group=None, tenant_id=None, client_id=None
)


@dataclass
class Recorder:
    """A DeployReporter that keeps everything."""

    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    progress: list[tuple[int, int]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    results: list[tuple[DeployResult, Artifact]] = field(default_factory=list)

    def step(self, message: str) -> None:
        self.steps.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def upload_progress(self, sent: int, total: int) -> None:
        self.progress.append((sent, total))

    def deployment_log(self, line: str) -> None:
        self.logs.append(line)

    def secret(self, value: str) -> None:
        self.secrets.add(value)

    def deployed(self, result: DeployResult, artifact: Artifact) -> None:
        self.results.append((result, artifact))

    def text(self) -> str:
        return "\n".join([*self.steps, *self.warnings, *self.logs])


def package(
    project_dir: Path, tmp_path: Path, app_name: str, *, python: str = "3.11", **cli: str
) -> tuple[Plan, Artifact]:
    """Plan a `--build none` publish of `project_dir` and pack it, as the CLI does."""
    project = FunctionProject.load(project_dir)
    values: dict[str, str | None] = {"build": "none", "python-version": python, **cli}
    options = resolve_options("publish", project.root, values, {})
    selection = select_files(project.root, ship_python_packages=True)
    report = validate(
        project,
        python_version=options.python_version,
        functions_version=options.functions_version,
        selection=selection,
    )
    plan = make_plan(project, options, selection=selection, report=report, app_name=app_name)
    assert plan.ok, plan.findings
    return plan, write_zip(selection.included, tmp_path / f"{app_name}.zip")


def run(
    emulator: Emulator,
    plan: Plan,
    artifact: Artifact,
    *,
    reporter: Recorder | None = None,
    environ: dict[str, str] | None = None,
    options: DeployOptions | None = None,
    target: AzureTarget = TARGET,
) -> DeployResult:
    return deploy(
        plan,
        artifact,
        target=target,
        options=options or DeployOptions(),
        reporter=reporter or Recorder(),
        environ=environ if environ is not None else emulator.client_env(),
        timing=FAST,
    )


def deployments(emulator: Emulator, site: SiteInfo) -> list[Any]:
    response = Kudu(site, str(emulator.ca_bundle)).get("/api/deployments")
    assert response.status_code == 200
    records: list[Any] = response.json()
    return records


def missing_module_project(tmp_path: Path) -> Path:
    """A v2 app that imports `requests` without shipping it."""
    root = tmp_path / "missing-module"
    shutil.copytree(HELLO, root, ignore=shutil.ignore_patterns("tests", "*.md"))
    (root / "function_app.py").write_text(
        "import azure.functions as func\n"
        "import requests\n\n"
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)\n\n\n"
        '@app.route(route="ping")\n'
        "def ping(req: func.HttpRequest) -> func.HttpResponse:\n"
        "    return func.HttpResponse(requests.__version__)\n",
        encoding="utf-8",
    )
    (root / "requirements.txt").write_text("azure-functions\nrequests\n", encoding="utf-8")
    return root


# --- the happy paths ----------------------------------------------------------------------


def test_publish_hello(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("hello-app")
    plan, artifact = package(HELLO, tmp_path, "hello-app")
    reporter = Recorder()
    result = run(emulator, plan, artifact, reporter=reporter)

    site = emulator.site("hello-app")
    assert result.app_name == "hello-app"
    assert result.deployment_id == site.active_deployment
    assert {f.name for f in result.functions} == {"hello", "health"}
    hello = next(f for f in result.functions if f.name == "hello")
    assert hello.trigger == "httpTrigger"
    assert hello.url is not None
    reply = requests.get(hello.url + "?name=Ada", verify=str(emulator.ca_bundle), timeout=30)
    assert (reply.status_code, reply.text) == (200, "Hello, Ada!")

    assert "set SCM_DO_BUILD_DURING_DEPLOYMENT=false (new)" in reporter.steps
    assert [c.key for c in result.applied_changes] == ["SCM_DO_BUILD_DURING_DEPLOYMENT"]
    assert site.app_settings["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "false"
    assert reporter.progress[-1] == (artifact.size, artifact.size)
    assert "Deployment successful." in reporter.logs
    assert len(reporter.logs) == len(set(reporter.logs)), "each log line once"
    assert site.master_key in reporter.secrets
    assert emulator.client_secret not in reporter.text()
    assert site.last_trigger_sync is not None


def test_publish_a_v1_app(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("v1-app", plan="P1v3")
    plan, artifact = package(V1_GOOD, tmp_path, "v1-app")
    result = run(emulator, plan, artifact)
    assert {f.name for f in result.functions} == {"HttpFunc", "QueueFunc"}
    triggers = {f.name: f.trigger for f in result.functions}
    assert triggers["QueueFunc"] == "queueTrigger"


def test_publish_to_a_slot(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("slotted")
    emulator.create_slot("slotted", "staging")
    plan, artifact = package(HELLO, tmp_path, "slotted", slot="staging")
    result = run(emulator, plan, artifact)
    assert result.slot == "staging"
    assert emulator.site("slotted", "staging").active_deployment == result.deployment_id
    assert emulator.site("slotted").active_deployment is None


def test_read_modify_write_keeps_unrelated_settings(emulator: Emulator, tmp_path: Path) -> None:
    before = emulator.create_app(
        "settings-app",
        app_settings={"KEEP_ME": "yes", "SCM_DO_BUILD_DURING_DEPLOYMENT": "true"},
    )
    plan, artifact = package(HELLO, tmp_path, "settings-app")
    reporter = Recorder()
    result = run(emulator, plan, artifact, reporter=reporter)
    after = emulator.site("settings-app").app_settings
    assert after["KEEP_ME"] == "yes"
    assert after["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "false"
    assert after["AzureWebJobsStorage"] == before.app_settings["AzureWebJobsStorage"]
    assert set(after) == set(before.app_settings)
    assert "set SCM_DO_BUILD_DURING_DEPLOYMENT=false (was true)" in reporter.steps
    assert [c.key for c in result.applied_changes] == ["SCM_DO_BUILD_DURING_DEPLOYMENT"]
    # Secret-looking settings are registered for redaction.
    assert before.app_settings["AzureWebJobsStorage"] in reporter.secrets


def test_a_second_publish_changes_nothing(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("again")
    plan, artifact = package(HELLO, tmp_path, "again")
    run(emulator, plan, artifact)
    reporter = Recorder()
    result = run(emulator, plan, artifact, reporter=reporter)
    assert result.applied_changes == ()
    assert "the app's settings are already as needed" in reporter.steps
    assert len(deployments(emulator, emulator.site("again"))) == 2


# --- auth ---------------------------------------------------------------------------------


def test_wrong_client_secret_is_an_auth_error(emulator: Emulator, tmp_path: Path) -> None:
    site = emulator.create_app("auth-app")
    plan, artifact = package(HELLO, tmp_path, "auth-app")
    environ = {**emulator.client_env(), "AZURE_CLIENT_SECRET": "not-the-secret"}
    with pytest.raises(AuthError) as info:
        run(emulator, plan, artifact, environ=environ)
    assert "AADSTS7000215" in info.value.message
    assert "not-the-secret" not in info.value.message
    assert deployments(emulator, site) == []


def test_basic_auth_disabled_still_deploys_with_bearer(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("bearer-app", basic_auth=False)
    plan, artifact = package(HELLO, tmp_path, "bearer-app")
    reporter = Recorder()
    result = run(emulator, plan, artifact, reporter=reporter)
    assert result.deployment_id
    assert reporter.warnings == []


def test_a_refused_token_falls_back_to_basic(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("basic-app")
    plan, artifact = package(HELLO, tmp_path, "basic-app")
    emulator.faults.add(
        FaultRule(role="scm", method="GET", path="^/api/deployments/latest$", status=401)
    )
    reporter = Recorder()
    run(emulator, plan, artifact, reporter=reporter)
    assert any("publishing credentials" in warning for warning in reporter.warnings)
    assert emulator.site("basic-app").publishing_password in reporter.secrets


# --- failures -----------------------------------------------------------------------------


def test_conflicts_are_waited_out(emulator: Emulator, tmp_path: Path) -> None:
    site = emulator.create_app("busy-app")
    plan, artifact = package(HELLO, tmp_path, "busy-app")
    rule = emulator.faults.add(
        FaultRule(
            role="scm", method="POST", path="/api/zipdeploy", status=409, body=IN_PROGRESS, times=2
        )
    )
    result = run(emulator, plan, artifact)
    assert emulator.faults.fired(rule) == 2
    assert [record["id"] for record in deployments(emulator, site)] == [result.deployment_id]


def test_failed_deployment_quotes_the_log(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("failing-app")
    plan, artifact = package(HELLO, tmp_path, "failing-app")
    emulator.faults.add(FaultRule(role="deploy", status=500, body="Oryx build failed: boom"))
    with pytest.raises(DeployError) as info:
        run(emulator, plan, artifact)
    assert "failed" in info.value.message
    assert "Oryx build failed: boom" in info.value.message
    assert "settings already changed in Azure: SCM_DO_BUILD_DURING_DEPLOYMENT" in info.value.message
    assert info.value.hint is not None
    assert "/log" in info.value.hint


def test_missing_module_fails_verification(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("broken-app")
    plan, artifact = package(missing_module_project(tmp_path), tmp_path, "broken-app")
    with pytest.raises(DeployError) as info:
        run(emulator, plan, artifact)
    assert "ModuleNotFoundError" in info.value.message
    assert "requests" in info.value.message


def test_verify_can_be_skipped(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("unverified")
    plan, artifact = package(missing_module_project(tmp_path), tmp_path, "unverified")
    result = run(emulator, plan, artifact, options=DeployOptions(verify=False))
    assert result.functions == ()


# --- refused targets: nothing changes, nothing is uploaded --------------------------------


def test_windows_app_is_refused(emulator: Emulator, tmp_path: Path) -> None:
    site = emulator.create_app("win-app", os="windows")
    plan, artifact = package(HELLO, tmp_path, "win-app")
    with pytest.raises(DeployError, match="Python function apps need Linux"):
        run(emulator, plan, artifact)
    assert deployments(emulator, site) == []
    assert emulator.site("win-app").app_settings == site.app_settings


def test_python_mismatch_needs_force(emulator: Emulator, tmp_path: Path) -> None:
    site = emulator.create_app("py310", python="3.10")
    plan, artifact = package(HELLO, tmp_path, "py310")
    with pytest.raises(DeployError) as info:
        run(emulator, plan, artifact)
    assert "linuxFxVersion=Python|3.10" in info.value.message
    assert "--python-version 3.10" in (info.value.hint or "")
    assert deployments(emulator, site) == []
    assert emulator.site("py310").app_settings == site.app_settings

    result = run(emulator, plan, artifact, options=DeployOptions(force=True))
    assert "linuxFxVersion" in [c.key for c in result.applied_changes]


def test_unknown_app(emulator: Emulator, tmp_path: Path) -> None:
    plan, artifact = package(HELLO, tmp_path, "nowhere")
    with pytest.raises(DeployError, match="no function app named 'nowhere'"):
        run(emulator, plan, artifact)
    target = AzureTarget(
        cloud="emulator",
        subscription_id=None,
        resource_group="rg-x",
        tenant_id=None,
        client_id=None,
    )
    with pytest.raises(DeployError, match="resource group 'rg-x'"):
        run(emulator, plan, artifact, target=target)


# --- a struggling Azure -------------------------------------------------------------------


def test_short_lived_tokens_are_renewed(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emulator", token_lifetime=2) as emulator:
        emulator.create_app("slow-app")
        plan, artifact = package(HELLO, tmp_path, "slow-app")
        emulator.faults.add(FaultRule(role="deploy", delay=4))  # outlives two tokens
        result = run(emulator, plan, artifact)
        assert result.deployment_id == emulator.site("slow-app").active_deployment


def test_server_errors_and_throttling_are_retried(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("flaky-app")
    plan, artifact = package(HELLO, tmp_path, "flaky-app")
    throttled = emulator.faults.add(
        FaultRule(
            role="arm",
            method="POST",
            path="/config/appsettings/list$",
            status=429,
            headers={"Retry-After": "0"},
            times=2,
        )
    )
    unavailable = emulator.faults.add(
        FaultRule(role="scm", method="POST", path="^/api/zipdeploy", status=503, times=1)
    )
    result = run(emulator, plan, artifact)
    assert result.deployment_id
    assert (emulator.faults.fired(throttled), emulator.faults.fired(unavailable)) == (2, 1)


def test_no_credential_says_how_to_sign_in(emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_app("anon-app")
    plan, artifact = package(HELLO, tmp_path, "anon-app")
    environ = {
        k: v
        for k, v in emulator.client_env().items()
        if k not in {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"}
    }
    with pytest.raises(AuthError) as info:
        run(emulator, plan, artifact, environ=environ)
    assert info.value.hint is not None
    assert "az login" in info.value.hint
    assert emulator.client_secret not in info.value.message


def test_show_keys_adds_the_function_key(emulator: Emulator, tmp_path: Path) -> None:
    site = emulator.create_app("keyed-app")
    plan, artifact = package(HELLO, tmp_path, "keyed-app")
    reporter = Recorder()
    result = run(emulator, plan, artifact, reporter=reporter, options=DeployOptions(show_keys=True))
    urls = [f.url for f in result.functions]
    assert all(url and url.endswith(f"?code={site.function_key}") for url in urls)
    assert site.function_key not in reporter.secrets  # asked for, so it may be shown
