"""What `funcpub publish` does once its plan may go ahead: build, pack, deploy and report.

This module loads the Azure SDK (`funcpub.deploy`) and the emulator, so only a publish that
deploys imports it (`funcpub.cli.publish.run_publish`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import requests

from funcpub.appsettings import change_to_dict
from funcpub.cli.building import built_package, write_package
from funcpub.cli.common import Prepared
from funcpub.cli.render import render_deploy_result
from funcpub.console import Console
from funcpub.deploy import AzureTarget, DeployedFunction, DeployOptions, DeployResult, deploy
from funcpub.emulator import Emulator
from funcpub.emulator.records import PlanSku
from funcpub.errors import EXIT_OK
from funcpub.options import Options
from funcpub.package import Artifact
from funcpub.plan import Plan

if TYPE_CHECKING:
    from funcpub.cli.publish import DeployChoices, PublishRequest

SMOKE_TIMEOUT: Final = 30

SmokeAnswers = tuple[tuple[str, int, str], ...]  # (url, status, start of the body)


def deploy_plan(
    plan: Plan,
    prepared: Prepared,
    request: PublishRequest,
    console: Console,
    *,
    emulator_plan: PlanSku,
) -> int:
    """Build and pack the app, deploy the zip as `plan` says, and report the outcome.

    With --emulator the app is created on `emulator_plan` in an emulator started for the run.
    """
    choices = request.deploy
    one_shot = _OneShot(app_name=request.app_name, plan=emulator_plan) if choices.emulator else None
    with (
        _package(prepared, request, console) as artifact,
        _environment(one_shot, prepared.options, console) as environ,
    ):
        result = deploy(
            plan,
            artifact,
            target=_azure_target(prepared.options, choices),
            options=_deploy_options(choices),
            reporter=console,
            environ=environ,
        )
        answers = _smoke_requests(result.functions, environ) if choices.emulator else ()
    _report(console, result, artifact, answers, json_output=request.json_output)
    return EXIT_OK


def _azure_target(options: Options, choices: DeployChoices) -> AzureTarget:
    return AzureTarget(
        cloud=options.cloud,
        subscription_id=options.subscription,
        resource_group=options.resource_group,
        tenant_id=choices.tenant,
        client_id=choices.client_id,
    )


def _deploy_options(choices: DeployChoices) -> DeployOptions:
    return DeployOptions(
        force=choices.force,
        verify=choices.verify,
        timeout=choices.timeout,
        show_keys=choices.show_keys,
        keep_undo=not choices.emulator,  # the emulator of this run is gone when it ends
    )


@contextmanager
def _package(prepared: Prepared, request: PublishRequest, console: Console) -> Iterator[Artifact]:
    """Build, then the zip to deploy: at --output, or in a temporary folder removed afterwards.

    The build's staging folder is gone before the deploy starts; only the zip stays.
    """
    with tempfile.TemporaryDirectory(prefix="funcpub-") as scratch:
        destination = (request.output or Path(scratch) / f"{request.app_name}.zip").resolve()
        with built_package(
            prepared.project, prepared.options, prepared.selection, console, request.build
        ) as staged:
            console.step(f"packing {len(staged.files)} files into {destination.name}")
            artifact = write_package(staged, destination, console)
        yield artifact


@dataclass(frozen=True, kw_only=True)
class _OneShot:
    """The app to create in an emulator started for the run."""

    app_name: str
    plan: PlanSku


@contextmanager
def _environment(
    one_shot: _OneShot | None, options: Options, console: Console
) -> Iterator[Mapping[str, str]]:
    """The process environment, or one pointing at a fresh emulator holding the app."""
    if one_shot is None:
        yield os.environ
        return
    with (
        tempfile.TemporaryDirectory(prefix="funcpub-emulator-") as data_dir,
        Emulator(Path(data_dir)) as emulator,
    ):
        console.step(f"started the Azure emulator at {emulator.url}")
        emulator.create_app(
            one_shot.app_name,
            python=options.python_version,
            functions_version=options.functions_version,
            resource_group=options.resource_group or "rg-funcpub",
            plan=one_shot.plan,
        )
        if options.slot:
            emulator.create_slot(one_shot.app_name, options.slot)
        console.secret(emulator.client_secret)
        yield {**os.environ, **emulator.client_env()}


def _smoke_requests(
    functions: tuple[DeployedFunction, ...], environ: Mapping[str, str]
) -> SmokeAnswers:
    """GET each HTTP function once."""
    verify = environ.get("REQUESTS_CA_BUNDLE", True)
    answers = []
    for function in functions:
        if function.trigger != "httpTrigger" or not function.url:
            continue
        response = requests.get(function.url, verify=verify, timeout=SMOKE_TIMEOUT)
        answers.append((function.url, response.status_code, response.text[:200]))
    return tuple(answers)


def _report(
    console: Console,
    result: DeployResult,
    artifact: Artifact,
    smoke: SmokeAnswers,
    *,
    json_output: bool,
) -> None:
    if json_output:
        document = asdict(result) | {"package": asdict(artifact) | {"path": str(artifact.path)}}
        document["applied_changes"] = [change_to_dict(c) for c in result.applied_changes]
        document["smoke"] = [{"url": u, "status": s, "body": b} for u, s, b in smoke]
        console.json(document)
        return
    console.result(render_deploy_result(result, artifact, smoke))
