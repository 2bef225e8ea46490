"""The fault matrix: every fault a publish may meet, and how funcpub must come out of it.

`survived`: the publish succeeds anyway (bounded retries with backoff, Retry-After, waiting out
409s, renewed tokens) and the app runs exactly the zip. `failed`: funcpub stops with a clear
message, the exit code of its class and a hint, and leaves no setting changed without saying
so. Rows with `covered_by` are run by that existing test (not repeated here); the others by
test_faults.py, through the CLI against the emulator. docs/reliability.md quotes the totals,
computed by `figures()`.

Rule paths may hold `{app}` (the row's app); scm/app/deploy rules are limited to that site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from funcpub.emulator import FaultRule

Outcome = Literal["survived", "failed"]
IN_PROGRESS = "There is a deployment currently in progress. Please try again when it completes."
RECORD = r"^/api/deployments/[0-9a-f]{32}$"
SITE = r"/sites/{app}$"
SETTINGS_PUT = r"/sites/{app}/config/appsettings$"
TOKEN = r"/oauth2/v2\.0/token$"
E2E = "tests/e2e/test_deploy_emulator.py"
REMOTE = "tests/e2e/test_publish_remote.py"
PLANS = "tests/e2e/test_publish_plans.py"
PUBLISH = "^/api/publish"
FLEX_RECORD = r"^/api/deployments/[0-9a-f-]{36}$"
FLEX: Mapping[str, Any] = {"plan": "FC1"}
CONSUMPTION: Mapping[str, Any] = {"plan": "Y1"}
# No setting to change before the upload: the first settings PUT is WEBSITE_RUN_FROM_PACKAGE's.
SWITCH_ONLY: Mapping[str, Any] = {
    "plan": "Y1",
    "app_settings": {"SCM_DO_BUILD_DURING_DEPLOYMENT": "false"},
}


@dataclass(frozen=True, kw_only=True)
class FaultCase:
    """One injected fault and what must come of it."""

    id: str
    rules: tuple[FaultRule, ...] = ()
    outcome: Outcome
    code: int = 0
    words: str = ""  # in the error message (failed) or in stderr (survived)
    options: tuple[str, ...] = ()  # extra `funcpub publish` options
    app: Mapping[str, Any] = field(default_factory=dict)  # Emulator.create_app arguments
    big: bool = False  # ship 8 MiB more, so that a dropped upload breaks mid-body
    delete_during_deployment: bool = False
    once: bool = False  # a 4xx: must not be retried
    storage: bool = False  # a Linux Consumption app whose storage account is Azurite
    covered_by: str | None = None  # an existing test that injects this fault


def scm(method: str | None, path: str, **rule: Any) -> FaultRule:
    return FaultRule(role="scm", method=method, path=path, **rule)


def arm(method: str, path: str, **rule: Any) -> FaultRule:
    return FaultRule(role="arm", method=method, path=path, **rule)


FOREVER: Mapping[str, Any] = {"times": None}

FAULTS: tuple[FaultCase, ...] = (
    # --- Entra ID ---------------------------------------------------------------------------
    FaultCase(
        id="token-500-once",
        rules=(FaultRule(role="entra", method="POST", path=TOKEN, status=500),),
        outcome="survived",
    ),
    FaultCase(
        id="token-connection-dropped-once",
        rules=(FaultRule(role="entra", method="POST", path=TOKEN, drop=True),),
        outcome="survived",
    ),
    FaultCase(
        id="token-503-always",
        rules=(FaultRule(role="entra", method="POST", path=TOKEN, status=503, times=None),),
        outcome="failed",
        code=7,
        words="no Azure credential could sign in",
    ),
    FaultCase(
        id="token-expires-during-a-long-deployment",
        outcome="survived",
        covered_by=f"{E2E}::test_short_lived_tokens_are_renewed",
    ),
    FaultCase(
        id="token-wrong-secret",
        outcome="failed",
        code=7,
        covered_by=f"{E2E}::test_wrong_client_secret_is_an_auth_error",
    ),
    # --- ARM --------------------------------------------------------------------------------
    FaultCase(
        id="arm-get-site-500-502-503",
        rules=tuple(arm("GET", SITE, status=status) for status in (500, 502, 503)),
        outcome="survived",
    ),
    FaultCase(
        id="arm-get-site-429-retry-after",
        rules=(arm("GET", SITE, status=429, headers={"Retry-After": "1"}),),
        outcome="survived",
    ),
    FaultCase(
        id="arm-list-settings-429-and-zipdeploy-503",
        outcome="survived",
        covered_by=f"{E2E}::test_server_errors_and_throttling_are_retried",
    ),
    FaultCase(
        id="arm-get-site-slower-than-the-read-timeout",
        rules=(arm("GET", SITE, delay=1.2),),
        outcome="survived",
    ),
    FaultCase(
        id="arm-put-settings-429-retry-after",
        rules=(arm("PUT", SETTINGS_PUT, status=429, headers={"Retry-After": "1"}),),
        outcome="survived",
    ),
    FaultCase(
        id="arm-put-settings-500-once",
        rules=(arm("PUT", SETTINGS_PUT, status=500),),
        outcome="survived",
    ),
    FaultCase(
        id="arm-patch-config-503-once",
        rules=(arm("PATCH", r"/sites/{app}/config/web$", status=503),),
        outcome="survived",
        options=("--force",),
        app={"python": "3.10"},
    ),
    FaultCase(
        id="arm-sync-triggers-503-once",
        rules=(arm("POST", r"/syncfunctiontriggers$", status=503),),
        outcome="survived",
    ),
    FaultCase(
        id="arm-list-functions-500-twice",
        rules=(arm("GET", r"/sites/{app}/functions$", status=500, times=2),),
        outcome="survived",
    ),
    FaultCase(
        id="arm-get-site-500-always",
        rules=(arm("GET", SITE, status=500, **FOREVER),),
        outcome="failed",
        code=6,
        words="could not read the function app",
    ),
    FaultCase(
        id="arm-get-site-429-always",
        rules=(arm("GET", SITE, status=429, headers={"Retry-After": "0"}, **FOREVER),),
        outcome="failed",
        code=6,
        words="HTTP 429",
    ),
    FaultCase(
        id="arm-get-site-403",
        rules=(arm("GET", SITE, status=403, **FOREVER),),
        outcome="failed",
        code=7,
        words="refused to read the function app",
    ),
    FaultCase(
        id="arm-put-settings-500-always",
        rules=(arm("PUT", SETTINGS_PUT, status=500, **FOREVER),),
        outcome="failed",
        code=6,
        words="(no settings were changed)",
    ),
    FaultCase(
        id="arm-patch-config-500-after-the-settings-put",
        rules=(arm("PATCH", r"/sites/{app}/config/web$", status=500, **FOREVER),),
        outcome="failed",
        code=6,
        words="the changed settings were put back: SCM_DO_BUILD_DURING_DEPLOYMENT",
        options=("--force",),
        app={"python": "3.10"},
    ),
    FaultCase(
        id="arm-sync-triggers-500-always",
        rules=(arm("POST", r"/syncfunctiontriggers$", status=500, **FOREVER),),
        outcome="failed",
        code=6,
        words="could not sync the triggers",
    ),
    # --- zipdeploy --------------------------------------------------------------------------
    FaultCase(
        id="zipdeploy-500-502",  # 503: test_server_errors_and_throttling_are_retried
        rules=(
            scm("POST", "^/api/zipdeploy", status=500),
            scm("POST", "^/api/zipdeploy", status=502),
        ),
        outcome="survived",
    ),
    FaultCase(
        id="zipdeploy-409-twice",
        outcome="survived",
        covered_by=f"{E2E}::test_conflicts_are_waited_out",
    ),
    FaultCase(
        id="zipdeploy-reset-after-the-whole-body",
        rules=(scm("POST", "^/api/zipdeploy", drop=True),),
        outcome="survived",
    ),
    FaultCase(
        id="zipdeploy-reset-mid-upload",
        rules=(scm("POST", "^/api/zipdeploy", drop=True),),
        outcome="survived",
        big=True,
    ),
    FaultCase(
        id="zipdeploy-answer-slower-than-the-timeout",
        rules=(scm("POST", "^/api/zipdeploy", delay=1.2, status=503),),
        outcome="survived",
    ),
    FaultCase(
        id="zipdeploy-409-beyond-the-budget",
        rules=(scm("POST", "^/api/zipdeploy", status=409, body=IN_PROGRESS, **FOREVER),),
        outcome="failed",
        code=6,
        words="another deployment is still running",
    ),
    *(
        FaultCase(
            id=f"zipdeploy-{status}-always",
            rules=(scm("POST", "^/api/zipdeploy", status=status, **FOREVER),),
            outcome="failed",
            code=6,
            words=f"refused the zip: HTTP {status}",
        )
        for status in (500, 503)
    ),
    FaultCase(
        id="zipdeploy-connection-dropped-always",
        rules=(scm("POST", "^/api/zipdeploy", drop=True, **FOREVER),),
        outcome="failed",
        code=6,
        words="cannot reach",
    ),
    *(
        FaultCase(
            id=f"zipdeploy-{status}-is-not-retried",
            rules=(scm("POST", "^/api/zipdeploy", status=status, body="no", **FOREVER),),
            outcome="failed",
            code=6,
            words=f"HTTP {status}",
            once=True,
        )
        for status in (400, 413)
    ),
    FaultCase(
        id="scm-401-with-basic-auth-disabled",
        rules=(scm(None, "", status=401, **FOREVER),),
        outcome="failed",
        code=7,
        words="basic auth is off",
        app={"basic_auth": False},
    ),
    FaultCase(
        id="scm-403",
        rules=(scm("GET", "^/api/deployments/latest", status=403, **FOREVER),),
        outcome="failed",
        code=7,
        words="refused access (HTTP 403)",
    ),
    FaultCase(
        id="scm-bearer-refused-falls-back-to-basic",
        outcome="survived",
        covered_by=f"{E2E}::test_a_refused_token_falls_back_to_basic",
    ),
    FaultCase(
        id="basic-auth-disabled",
        outcome="survived",
        covered_by=f"{E2E}::test_basic_auth_disabled_still_deploys_with_bearer",
    ),
    FaultCase(
        id="zipdeploy-429-retry-after",
        rules=(scm("POST", "^/api/zipdeploy", status=429, headers={"Retry-After": "1"}),),
        outcome="survived",
    ),
    # --- Flex Consumption: OneDeploy --------------------------------------------------------
    *(
        FaultCase(
            id=f"flex-publish-{status}-once",
            rules=(scm("POST", PUBLISH, status=status, headers=headers),),
            outcome="survived",
            app=FLEX,
        )
        for status, headers in ((503, {}), (429, {"Retry-After": "1"}))
    ),
    FaultCase(
        id="flex-publish-409-twice",
        rules=(scm("POST", PUBLISH, status=409, body=IN_PROGRESS, times=2),),
        outcome="survived",
        app=FLEX,
    ),
    FaultCase(
        id="flex-record-404-right-after-the-202",
        rules=(scm("GET", FLEX_RECORD, status=404, times=3),),
        outcome="survived",
        app=FLEX,
    ),
    FaultCase(
        id="flex-publish-503-always",
        rules=(scm("POST", PUBLISH, status=503, **FOREVER),),
        outcome="failed",
        code=6,
        words="refused the zip: HTTP 503",
        app=FLEX,
    ),
    FaultCase(
        id="flex-publish-409-beyond-the-budget",
        rules=(scm("POST", PUBLISH, status=409, body=IN_PROGRESS, **FOREVER),),
        outcome="failed",
        code=6,
        words="another deployment is still running",
        app=FLEX,
    ),
    FaultCase(
        id="flex-record-404-beyond-the-grace",
        rules=(scm("GET", FLEX_RECORD, status=404, **FOREVER),),
        outcome="failed",
        code=6,
        words="does not exist",
        app=FLEX,
    ),
    FaultCase(
        id="flex-deployment-fails-with-a-log",
        rules=(FaultRule(role="deploy", status=500, body="Injected: the Flex build failed."),),
        outcome="failed",
        code=6,
        words="Injected: the Flex build failed.",
        app=FLEX,
    ),
    # --- remote build (Oryx) ------------------------------------------------------------------
    FaultCase(
        id="remote-build-pip-fails",
        outcome="failed",
        code=6,
        covered_by=f"{REMOTE}::test_an_unresolvable_requirement_fails_with_pips_error",
    ),
    FaultCase(
        id="flex-remote-build-pip-fails",
        outcome="failed",
        code=6,
        covered_by=f"{PLANS}::test_a_failing_flex_remote_build_quotes_pip",
    ),
    FaultCase(
        id="consumption-remote-build-without-storage",
        outcome="failed",
        code=6,
        covered_by=f"{PLANS}::test_consumption_without_storage_fails_the_remote_build",
    ),
    # --- Linux Consumption: run from package (the app's storage is Azurite) -------------------
    FaultCase(
        id="run-from-package-settings-put-500-once",
        rules=(arm("PUT", SETTINGS_PUT, status=500),),
        outcome="survived",
        app=SWITCH_ONLY,
        storage=True,
    ),
    FaultCase(
        id="run-from-package-settings-put-500-after-the-upload",
        rules=(arm("PUT", SETTINGS_PUT, status=500, **FOREVER),),
        outcome="failed",
        code=6,
        words="(no settings were changed); the uploaded package 20",
        app=SWITCH_ONLY,
        storage=True,
    ),
    FaultCase(
        id="run-from-package-download-refused-on-the-site",
        rules=(FaultRule(role="package", status=403, **FOREVER),),
        outcome="failed",
        code=6,
        words="downloading the package answered HTTP 403\n(settings already changed in Azure:",
        app=CONSUMPTION,
        storage=True,
    ),
    # --- tracking the deployment ------------------------------------------------------------
    FaultCase(
        id="polling-500-502-503",
        rules=tuple(scm("GET", RECORD, status=status) for status in (500, 502, 503)),
        outcome="survived",
    ),
    FaultCase(
        id="polling-connection-dropped-three-times",
        rules=(scm("GET", RECORD, drop=True, times=3),),
        outcome="survived",
    ),
    FaultCase(
        id="polling-answer-slower-than-the-timeout",
        rules=(scm("GET", RECORD, delay=1.2),),
        outcome="survived",
    ),
    FaultCase(
        id="latest-404-right-after-the-202",
        rules=(scm("GET", "^/api/deployments/latest", status=404, times=3),),
        outcome="survived",
    ),
    FaultCase(
        id="record-404-right-after-the-202",
        rules=(scm("GET", RECORD, status=404, times=3),),
        outcome="survived",
    ),
    FaultCase(
        id="log-500-three-times",
        rules=(scm("GET", r"/log$", status=500, times=3),),
        outcome="survived",
    ),
    FaultCase(
        id="scm-settings-503-while-restarting",
        rules=(scm("GET", "^/api/settings$", status=503, times=2),),
        outcome="survived",
    ),
    FaultCase(
        id="host-status-503-while-verifying",
        rules=(
            FaultRule(role="app", method="GET", path="/admin/host/status", status=503, times=2),
        ),
        outcome="survived",
    ),
    FaultCase(
        id="polling-slower-than-the-timeout-always",
        rules=(scm("GET", RECORD, delay=1.2, **FOREVER),),
        outcome="failed",
        code=6,
        words="did not finish within 1 s",
        options=("--timeout", "1"),
    ),
    FaultCase(
        id="deployment-slower-than-the-timeout",
        rules=(FaultRule(role="deploy", delay=3),),
        outcome="failed",
        code=6,
        words="did not finish within 1 s",
        options=("--timeout", "1"),
    ),
    FaultCase(
        id="record-404-always",
        rules=(scm("GET", RECORD, status=404, **FOREVER),),
        outcome="failed",
        code=6,
        words="does not exist",
    ),
    FaultCase(
        id="latest-404-always",
        rules=(scm("GET", "^/api/deployments/latest", status=404, **FOREVER),),
        outcome="failed",
        code=6,
        words="could not find the deployment the upload started",
    ),
    FaultCase(
        id="deployment-fails-with-a-log",
        outcome="failed",
        code=6,
        covered_by=f"{E2E}::test_failed_deployment_quotes_the_log",
    ),
    FaultCase(
        id="app-deleted-during-the-deployment",
        rules=(FaultRule(role="deploy", delay=2),),
        outcome="failed",
        code=6,
        words="no longer exists: it was deleted meanwhile",
        delete_during_deployment=True,
    ),
    FaultCase(
        id="app-missing",
        outcome="failed",
        code=6,
        covered_by=f"{E2E}::test_unknown_app",
    ),
)


@dataclass(frozen=True, kw_only=True)
class Figures:
    """The totals docs/reliability.md states."""

    injected: int
    survived: int
    failed_cleanly: int
    run_here: int


def figures() -> Figures:
    return Figures(
        injected=len(FAULTS),
        survived=sum(case.outcome == "survived" for case in FAULTS),
        failed_cleanly=sum(case.outcome == "failed" for case in FAULTS),
        run_here=sum(case.covered_by is None for case in FAULTS),
    )
