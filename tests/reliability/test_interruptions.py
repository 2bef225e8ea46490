"""Interruptions and concurrency: Ctrl-C / SIGTERM at each stage, two publishes at once.

`python -m funcpub publish` runs in a child process against an emulator served by this one;
the signal goes out when the stage's own output line appears. Whatever the stage: exit 130, no
temporary file left (the child's TMPDIR is checked), and the message says whether a deployment
had started and where to check it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from funcpub.deploy import AzureTarget, DeployOptions, DeployResult, deploy
from funcpub.deploy.lock import lock_key, publish_lock
from funcpub.deploy.timing import SYSTEM_CLOCK, Backoff, Timing
from funcpub.emulator import Emulator, FaultRule
from funcpub.errors import DeployError
from funcpub.ignore import select_files
from funcpub.options import resolve_options
from funcpub.package import Artifact, write_zip
from funcpub.plan import Plan, make_plan
from funcpub.project import FunctionProject
from funcpub.validate import validate
from tests.azurite_fixtures import Azurite
from tests.reliability.helpers import (
    HELLO,
    SIGNAL_IDS,
    SIGNALS,
    Finished,
    assert_interrupted,
    copy_app,
    deployments,
    invoke,
    tree_contents,
)
from tests.wheelhouse import PURE_BACKEND, write_sdist

pytestmark = [pytest.mark.emulator, pytest.mark.subprocess]


class Child:
    """`python -m funcpub publish ...` with its own TMPDIR, against the emulator."""

    def __init__(
        self, emulator: Emulator, tmp_path: Path, app: str, app_dir: Path, *options: str
    ) -> None:
        self.tmp = tmp_path / "child-tmp"
        self.tmp.mkdir(exist_ok=True)
        self.env: Mapping[str, str] = {
            **os.environ,
            **emulator.client_env(),
            "TMPDIR": str(self.tmp),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
        argv = [sys.executable, "-m", "funcpub", "publish", app, str(app_dir)]
        argv += options or ("--build", "none")
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []

    def wait_for(self, words: str) -> str:
        """Read stderr until a line holds `words`; that line."""
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if words in line:
                return line
        pytest.fail(f"the child never printed {words!r}:\n{''.join(self.lines)}")

    def finish(self, timeout: float = 60) -> Finished:
        out, err = self.process.communicate(timeout=timeout)
        return Finished(code=self.process.returncode, out=out, err="".join(self.lines) + err)


def interrupt(child: Child, stage_line: str, sig: signal.Signals) -> Finished:
    """Signal the child once it is inside the stage that `stage_line` opens."""
    child.wait_for(stage_line)
    time.sleep(0.3)
    child.process.send_signal(sig)
    return child.finish()


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_interrupted_while_writing_the_zip(
    sig: signal.Signals, shared_emulator: Emulator, tmp_path: Path
) -> None:
    name = f"zip-{sig.name.lower()}"
    site = shared_emulator.create_app(name)
    app = copy_app(HELLO, tmp_path / "app")
    (app / "assets").mkdir()
    (app / "assets" / "big.bin").write_bytes(os.urandom(48 << 20))  # seconds of deflate
    child = Child(shared_emulator, tmp_path, name, app)
    result = interrupt(child, "packing", sig)
    assert_interrupted(result, child.tmp)
    assert "error: interrupted while writing" in result.err
    assert "nothing was uploaded" in result.err
    assert deployments(shared_emulator, site) == []
    assert shared_emulator.site(name).app_settings == site.app_settings


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_interrupted_during_the_upload(
    sig: signal.Signals, shared_emulator: Emulator, tmp_path: Path
) -> None:
    name = f"upload-{sig.name.lower()}"
    site = shared_emulator.create_app(name)
    shared_emulator.faults.add(
        FaultRule(role="scm", method="POST", path="^/api/zipdeploy", site=name, delay=3, status=503)
    )
    child = Child(shared_emulator, tmp_path, name, HELLO)
    result = interrupt(child, "uploading", sig)
    assert_interrupted(result, child.tmp)
    assert f"error: interrupted while uploading to {site.scm_host}" in result.err
    assert "a deployment may have started" in result.err
    assert f"hint: check {site.scm_url}/api/deployments/latest" in result.err
    assert "settings already changed in Azure: SCM_DO_BUILD_DURING_DEPLOYMENT" in result.err


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_interrupted_while_polling(
    sig: signal.Signals, shared_emulator: Emulator, tmp_path: Path
) -> None:
    name = f"poll-{sig.name.lower()}"
    site = shared_emulator.create_app(name)
    shared_emulator.faults.add(FaultRule(role="deploy", site=name, delay=1.2))
    child = Child(shared_emulator, tmp_path, name, HELLO)
    line = child.wait_for("waiting for deployment")
    deployment_id = line.split("waiting for deployment", 1)[1].strip()
    time.sleep(0.3)
    child.process.send_signal(sig)
    result = child.finish()
    assert_interrupted(result, child.tmp)
    assert f"interrupted while deployment {deployment_id} was running" in result.err
    assert "it goes on in Azure" in result.err
    assert f"{site.scm_url}/api/deployments/{deployment_id}" in result.err
    assert f"{site.scm_url}/api/deployments/latest" in result.err
    # What funcpub said is true: the deployment went on and finished.
    deadline = time.monotonic() + 20
    while shared_emulator.site(name).active_deployment != deployment_id:
        assert time.monotonic() < deadline, "the deployment went on after the interrupt"
        time.sleep(0.1)


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_interrupted_while_the_remote_build_runs(
    sig: signal.Signals, shared_emulator: Emulator, tmp_path: Path, wheelhouse: Path
) -> None:
    """A signal while Oryx builds: the deployment goes on in Azure, and funcpub says where."""
    name = f"remote-{sig.name.lower()}"
    offline = {"PIP_NO_INDEX": "true", "PIP_FIND_LINKS": str(wheelhouse)}
    site = shared_emulator.create_app(name, app_settings=offline)
    shared_emulator.faults.add(FaultRule(role="deploy", site=name, delay=1.5))
    child = Child(shared_emulator, tmp_path, name, HELLO, "--build", "remote")
    line = child.wait_for("waiting for deployment")
    deployment_id = line.split("waiting for deployment", 1)[1].strip()
    child.process.send_signal(sig)
    result = child.finish()
    assert_interrupted(result, child.tmp)
    assert f"interrupted while deployment {deployment_id} was running" in result.err
    assert "it goes on in Azure" in result.err
    assert f"hint: follow it at {site.scm_url}/api/deployments/{deployment_id}" in result.err
    assert "settings already changed in Azure: SCM_DO_BUILD_DURING_DEPLOYMENT" in result.err
    deadline = time.monotonic() + 60
    while shared_emulator.site(name).active_deployment != deployment_id:
        assert time.monotonic() < deadline, "the remote build went on after the interrupt"
        time.sleep(0.2)
    built = shared_emulator.site(name).wwwroot / ".python_packages/lib/site-packages/azure"
    assert (built / "functions").is_dir()


@pytest.mark.azurite
@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_interrupted_while_uploading_to_storage(
    sig: signal.Signals, storage_emulator: Emulator, azurite: Azurite, tmp_path: Path
) -> None:
    """Linux Consumption: a signal during the blob upload leaves the app on its old package."""
    name = f"y1-upload-{sig.name.lower()}"
    settings = {
        "AzureWebJobsStorage": azurite.connection_string,
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "false",
    }
    before = storage_emulator.create_app(name, plan="Y1", app_settings=settings).app_settings
    app = copy_app(HELLO, tmp_path / "app")
    (app / "assets").mkdir()
    (app / "assets" / "big.bin").write_bytes(os.urandom(96 << 20))
    child = Child(storage_emulator, tmp_path, name, app)
    child.wait_for("to storage account")
    child.process.send_signal(sig)
    result = child.finish()
    assert_interrupted(result, child.tmp)
    message = f"error: interrupted while uploading the package to storage: {name} still runs its"
    assert message in result.err, result.err
    assert "hint: publish again (a partly uploaded blob is never used)" in result.err
    assert storage_emulator.site(name).app_settings == before


def slow_app(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of hello needing `slowpkg`, an sdist whose build takes a minute while the
    returned marker file exists (so a local build is sure to be in pip), else no time."""
    marker = tmp_path / "slow"
    marker.touch()
    backend = f"import os, time\nif os.path.exists({str(marker)!r}):\n    time.sleep(60)\n"
    backend += PURE_BACKEND.format(name="slowpkg", version="1")
    files = {"slowpkg/__init__.py": "", "backend.py": backend}
    dists = tmp_path / "dists"
    dists.mkdir()
    write_sdist(dists, "slowpkg", "1", files)
    app = copy_app(HELLO, tmp_path / "app")
    requirements = f"--no-index\n--find-links {dists}\nslowpkg\n"
    (app / "requirements.txt").write_text(requirements, encoding="utf-8")
    return app, marker


def interrupt_pip(
    emulator: Emulator, tmp_path: Path, name: str, app: Path, sig: signal.Signals, *options: str
) -> Finished:
    """Publish `app` with a local build and signal it while pip builds slowpkg."""
    child = Child(emulator, tmp_path, name, app, "--build", "local", *options)
    interrupted = interrupt(child, "building from source: slowpkg", sig)
    assert_interrupted(interrupted, child.tmp)
    assert "error: interrupted while building: no temporary file" in interrupted.err
    assert "hint: nothing was uploaded and nothing was deployed" in interrupted.err
    return interrupted


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_interrupted_while_pip_installs(
    sig: signal.Signals, shared_emulator: Emulator, tmp_path: Path
) -> None:
    """A signal in a local build: nothing deployed, the project and the cache as they were."""
    name = f"pip-{sig.name.lower()}"
    site = shared_emulator.create_app(name)
    app, _slow = slow_app(tmp_path)
    kept = app / ".python_packages" / "lib" / "site-packages" / "kept.txt"
    kept.parent.mkdir(parents=True)
    kept.write_text("the user's own build", encoding="utf-8")
    interrupt_pip(shared_emulator, tmp_path, name, app, sig)
    assert kept.read_text(encoding="utf-8") == "the user's own build"
    assert [p.name for p in kept.parent.iterdir()] == ["kept.txt"]
    cache = tmp_path / "cache" / "funcpub" / "deps"
    assert [p.name for p in cache.iterdir()] == [], "no partial cache entry"
    assert deployments(shared_emulator, site) == []


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_an_interrupted_refresh_keeps_the_cached_build(
    sig: signal.Signals,
    shared_emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signal in a `--refresh` build: the cached build it was replacing is still there,
    whole, and the next pack uses it and makes the same zip as before."""
    name = f"refresh-{sig.name.lower()}"
    monkeypatch.setenv("UV_NO_CACHE", "1")  # the refresh builds slowpkg again, slowly
    site = shared_emulator.create_app(name)
    app, slow = slow_app(tmp_path)
    slow.unlink()
    pack = ["pack", str(app), "--build", "local", "-o"]
    first = invoke(capsys, *pack, str(tmp_path / "first.zip"))
    assert first.code == 0, first.err
    assert "building from source: slowpkg" in first.err
    cache = tmp_path / "cache" / "funcpub" / "deps"
    cached = tree_contents(cache)
    slow.touch()
    interrupt_pip(shared_emulator, tmp_path, name, app, sig, "--refresh")
    assert tree_contents(cache) == cached, "the previous entry is kept as it was"
    assert deployments(shared_emulator, site) == []
    slow.unlink()
    again = invoke(capsys, *pack, str(tmp_path / "again.zip"))
    assert again.code == 0, again.err
    assert "dependencies: from the cache" in again.err
    assert "building from source" not in again.err
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "first.zip").read_bytes()


def test_two_publishes_to_one_app_never_interleave(
    shared_emulator: Emulator, tmp_path: Path
) -> None:
    name = "two-at-once"
    site = shared_emulator.create_app(name)
    # Started together: whichever takes the lock first holds it for seconds (sign-in, upload,
    # indexing, verification) while the other one reaches it.
    children = [Child(shared_emulator, tmp_path, name, HELLO) for _ in range(2)]
    results = [child.finish() for child in children]
    assert [result.code for result in results] == [0, 0], [r.err for r in results]
    waited = [
        f"waiting for another funcpub publish to {name} on this machine" in r.err for r in results
    ]
    assert sorted(waited) == [False, True], "the second one waited for the first"
    records = sorted(deployments(shared_emulator, site), key=lambda r: r["received_time"])
    assert [r["status"] for r in records] == [4, 4]
    assert records[0]["end_time"] <= records[1]["received_time"], "one after the other"


# --- the lock itself ----------------------------------------------------------------------

SHORT = Timing(poll=Backoff(initial=0.05, maximum=0.1), conflict_budget=0.5)
EMULATOR_TARGET = AzureTarget(
    cloud="emulator", subscription_id=None, resource_group=None, tenant_id=None, client_id=None
)


def a_plan(tmp_path: Path, app: str) -> tuple[Plan, Artifact]:
    project = FunctionProject.load(HELLO)
    options = resolve_options("publish", project.root, {"build": "none"}, {})
    selection = select_files(project.root, ship_python_packages=True)
    report = validate(project, python_version=options.python_version, selection=selection)
    plan = make_plan(project, options, selection=selection, report=report, app_name=app)
    return plan, write_zip(selection.included, tmp_path / "app.zip")


def test_a_held_lock_fails_clearly_after_the_budget(tmp_path: Path) -> None:
    """No network at all: the lock is taken before signing in."""
    environ = {
        "FUNCPUB_EMULATOR_URL": "https://127.0.0.1:9",
        "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001",
    }
    plan, artifact = a_plan(tmp_path, "locked-app")
    key = lock_key("emulator", environ["AZURE_SUBSCRIPTION_ID"], "Locked-App", None)
    steps: list[str] = []
    held = publish_lock(
        key,
        "locked-app",
        timing=SHORT,
        clock=SYSTEM_CLOCK,
        on_wait=steps.append,
        on_unavailable=steps.append,
    )
    with held, pytest.raises(DeployError) as info:
        deploy(
            plan,
            artifact,
            target=EMULATOR_TARGET,
            options=DeployOptions(),
            reporter=_Steps(steps),
            environ=environ,
            timing=SHORT,
        )
    assert f"still running on this machine (pid {os.getpid()}" in info.value.message
    assert any("waiting for another funcpub publish to locked-app" in s for s in steps)


class _Steps:
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps

    def step(self, message: str) -> None:
        self.steps.append(message)

    warn = step
    deployment_log = step

    def upload_progress(self, sent: int, total: int) -> None: ...

    def secret(self, value: str) -> None: ...

    def deployed(self, result: DeployResult, artifact: Artifact) -> None: ...


def test_the_lock_of_a_killed_publish_is_free_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time\n"
            "from funcpub.deploy.lock import publish_lock\n"
            "from funcpub.deploy.timing import SYSTEM_CLOCK, Timing\n"
            "with publish_lock('k', 'app',"
            " timing=Timing(), clock=SYSTEM_CLOCK, on_wait=print, on_unavailable=print):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
        ],
        env={**os.environ, "XDG_CACHE_HOME": environ["XDG_CACHE_HOME"]},
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    holder.kill()  # SIGKILL: no cleanup code runs
    holder.wait()
    holder.stdout.close()
    waits: list[str] = []
    monkeypatch.setenv("XDG_CACHE_HOME", environ["XDG_CACHE_HOME"])
    with publish_lock(
        "k", "app", timing=replace(SHORT, conflict_budget=0.0),
        clock=SYSTEM_CLOCK, on_wait=waits.append, on_unavailable=waits.append,
    ):  # fmt: skip
        pass
    assert waits == []
