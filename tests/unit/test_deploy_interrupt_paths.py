"""What Ctrl-C says on the run-from-package path: the app switches packages only when its
WEBSITE_RUN_FROM_PACKAGE changes, so the messages differ from Kudu's deployments."""

from __future__ import annotations

import pytest

from funcpub.deploy import _Progress
from funcpub.deploy.delivery import Stage


def interrupted(stage: Stage, *, changed: tuple[str, ...] = ()) -> str:
    progress = _Progress(
        display="y1-app",
        stage=stage,
        changed=changed,
        scm_host="y1-app.scm.azurewebsites.net",
        deployment_id="20250101000000-abc.zip",
        delivery="run-from-package",
    )
    error = progress.interrupted()
    return f"{error.message} | {error.hint}"


@pytest.mark.parametrize(
    ("stage", "says"),
    [
        ("storing", "uploading the package to storage: y1-app still runs its previous package"),
        (
            "switching",
            "pointing y1-app at package 20250101000000-abc.zip: WEBSITE_RUN_FROM_PACKAGE",
        ),
        ("verifying", "after y1-app was switched to package 20250101000000-abc.zip"),
    ],
)
def test_run_from_package_interruptions(stage: Stage, says: str) -> None:
    message = interrupted(stage, changed=("SCM_DO_BUILD_DURING_DEPLOYMENT",))
    assert says in message
    assert "settings already changed in Azure: SCM_DO_BUILD_DURING_DEPLOYMENT" in message
    assert "/api/deployments" not in message  # no Kudu deployment on this path


def test_before_the_upload_it_is_the_common_message() -> None:
    assert "no deployment was started on y1-app" in interrupted("prepared")
