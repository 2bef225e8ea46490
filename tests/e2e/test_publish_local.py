"""`funcpub publish --build local` end to end: build, pack, deploy to the emulator, call it.

The app imports a pure dependency (alpha, which needs beta) and one with a compiled extension
module (fastgreet's `.so`), installed offline from the test wheelhouse. A local build reaches
every plan the way Azure expects it: Linux Consumption (Y1) runs the package from the app's
storage account (Azurite), Flex Consumption (FC1) gets it through OneDeploy without a build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from funcpub.cli import run
from funcpub.emulator import Emulator
from tests.azurite_fixtures import Azurite
from tests.clirun import invoke
from tests.e2e.conftest import ANSWER, FUNCTION_APP, MakeApp
from tests.e2e.test_publish_plans import answer_of
from tests.wheelhouse import EXTENSION_SUFFIX

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]
COMPILED = f".python_packages/lib/site-packages/fastgreet/_fastgreet{EXTENSION_SUFFIX}"


@pytest.fixture
def deps_app(make_app: MakeApp) -> Path:
    """The app importing alpha (and beta) and fastgreet's compiled module."""
    return make_app("azure-functions", "alpha", "fastgreet", function_app=FUNCTION_APP)


def test_publish_a_local_build_to_the_emulator(
    capsys: pytest.CaptureFixture[str], deps_app: Path
) -> None:
    argv = ["publish", "deps-app", str(deps_app), "--build", "local", "--emulator", "--json"]
    code = run(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert [f["name"] for f in result["functions"]] == ["deps"]
    (answer,) = result["smoke"]
    assert answer["status"] == 200
    assert answer["body"] == ANSWER
    assert not (deps_app / ".python_packages").exists()


@pytest.mark.azurite
def test_consumption_runs_a_local_build_from_blob_storage(
    capsys: pytest.CaptureFixture[str],
    storage_emulator: Emulator,
    azurite: Azurite,
    deps_app: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The package goes to Azurite and WEBSITE_RUN_FROM_PACKAGE names it; no Kudu build."""
    for key, value in storage_emulator.client_env().items():
        monkeypatch.setenv(key, value)
    storage = {"AzureWebJobsStorage": azurite.connection_string}
    storage_emulator.create_app("y1-local", plan="Y1", app_settings=storage)
    code, _, err = invoke(capsys, "publish", "y1-local", str(deps_app), "--build", "local")
    assert code == 0, err
    assert "Linux Consumption (Y1): upload to the app's storage" in err
    site = storage_emulator.site("y1-local")
    url = site.app_settings["WEBSITE_RUN_FROM_PACKAGE"]
    assert url.startswith(f"{azurite.blob_endpoint}/function-releases/")
    assert site.app_settings["SCM_DO_BUILD_DURING_DEPLOYMENT"] == "false"
    assert site.active_deployment is None  # no Kudu deployment: the site runs the blob
    assert (site.wwwroot / COMPILED).is_file()
    assert answer_of(storage_emulator, "y1-local") == ANSWER


def test_flex_gets_a_local_build_through_onedeploy(
    capsys: pytest.CaptureFixture[str], client: Emulator, deps_app: Path
) -> None:
    """OneDeploy with RemoteBuild=false: the site runs the package as built here."""
    before = dict(client.create_app("fc1-local", plan="FC1").app_settings)
    code, _, err = invoke(capsys, "publish", "fc1-local", str(deps_app), "--build", "local")
    assert code == 0, err
    assert "OneDeploy: POST /api/publish?RemoteBuild=false" in err
    assert "Running oryx build" not in err
    site = client.site("fc1-local")
    assert site.app_settings == before
    assert (site.wwwroot / COMPILED).is_file()
    assert answer_of(client, "fc1-local") == ANSWER
