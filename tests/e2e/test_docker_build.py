"""`--build docker` on a real engine: native sdists compiled in a linux/amd64 container.

The engine and the registry-free base image come from `scripts/docker-setup` (tests/
docker_fixtures.py); every build uses `--base-image` with it and `--network none`, installing
from the offline wheelhouse.
"""

from __future__ import annotations

import gc
import grp
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import docker
import pytest

from funcpub.build import smoke
from funcpub.build.base import NullReporter
from funcpub.cli import run
from funcpub.container.install import INSTALL_HINT
from funcpub.container.lifecycle import build_container
from tests.docker_fixtures import forwarded_engine, funcpub_containers
from tests.e2e.conftest import MakeApp
from tests.reliability.helpers import SIGNAL_IDS, SIGNALS, Finished, assert_interrupted
from tests.wheelhouse import write_sdist

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("no_leftover_containers")]

SITE = ".python_packages/lib/site-packages"
NATIVE_APP = """\
import azure.functions as func

import alpha
import cgreet

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="native")
def native(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"{alpha.MESSAGE}; {cgreet.greeting()}")
"""


def pack(
    capsys: pytest.CaptureFixture[str], app: Path, base_image: str, *args: str
) -> tuple[int, str]:
    argv = ["pack", str(app), "--build", "docker", "--base-image", base_image]
    code = run([*argv, "--network", "none", "-o", str(app.parent / "out.zip"), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def shipped(app: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(app.parent / "out.zip") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def run_in_image(client: docker.DockerClient, image: str, folder: Path, code: str) -> str:
    """Copy `folder` to /wwwroot in a fresh container of `image`, run `code` there; its output."""
    with build_container(client, image, network="none", reporter=NullReporter()) as container:
        container.put({"wwwroot": folder}, {})
        result = container.run(["python3", "-c", code], workdir="/wwwroot", timeout=60)
    assert result.ok, result.tail_text()
    return result.tail_text()


def test_a_native_sdist_is_compiled_in_the_container_and_imports_there(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
) -> None:
    app = make_app("azure-functions", "alpha", "cgreet", function_app=NATIVE_APP)
    code, output = pack(capsys, app, base_image, "--write-python-packages")
    assert code == 0, output
    files = shipped(app)
    (library,) = [n for n in files if n.startswith(f"{SITE}/cgreet/_cgreet.") and n.endswith(".so")]
    assert files[library].startswith(b"\x7fELF")
    assert "dependencies: alpha==1.0, azure-functions" in output
    assert "smoke import passed (functions: native)" in output
    # The packaged tree imports on the image's own Python (the platform it was built for).
    with zipfile.ZipFile(app.parent / "out.zip") as archive:
        archive.extractall(app.parent / "unpacked")
    site = app.parent / "unpacked" / SITE
    answer = run_in_image(
        docker_client, base_image, site, "import cgreet, alpha; print(cgreet.greeting())"
    )
    assert answer == "compiled C says hello"
    # What came out of the container belongs to the user who ran funcpub.
    written = list((app / ".python_packages").rglob("*"))
    assert written
    assert {path.lstat().st_uid for path in written} == {os.getuid()}


NOBODY = 65534  # the unprivileged user and group a pack runs as


def test_an_unprivileged_user_gets_the_containers_output_as_their_own(
    make_app: MakeApp, base_image: str, wheelhouse: Path
) -> None:
    """Run as `nobody` (in the docker group): the files root made in the container are theirs."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("switching to an unprivileged user needs root and setpriv")
    home = Path(tempfile.mkdtemp(prefix="funcpub-unprivileged-"))  # pytest's tmp is root's only
    try:
        app = home / "app"
        shutil.copytree(make_app(), app)
        shutil.copytree(wheelhouse, home / "wheels")
        requirements = f"--no-index\n--find-links {home / 'wheels'}\nalpha\n"
        (app / "requirements.txt").write_text(requirements, encoding="utf-8")
        for folder in ("tmp", "cache"):
            (home / folder).mkdir()
        for path in (home, *home.rglob("*")):
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        docker_group = str(grp.getgrnam("docker").gr_gid)
        switch = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", f"--groups={docker_group}"]
        argv = [*switch, "--", sys.executable, "-m", "funcpub", "pack", str(app)]
        argv += ["--build", "docker", "--base-image", base_image, "--network", "none"]
        argv += ["--no-smoke", "--write-python-packages", "-o", str(home / "out.zip")]
        env = {**os.environ, "HOME": str(home), "TMPDIR": str(home / "tmp")}
        env["XDG_CACHE_HOME"] = str(home / "cache")
        done = subprocess.run(
            argv, cwd=home, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        written = [app / ".python_packages", *(app / ".python_packages").rglob("*")]
        assert any(path.name == "alpha" for path in written)
        owners = {(path.lstat().st_uid, path.lstat().st_gid) for path in written}
        assert owners == {(NOBODY, NOBODY)}
        assert all(path.stat().st_mode & stat.S_IWUSR for path in written if path.is_dir())
    finally:
        shutil.rmtree(home)


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_the_local_build_refuses_the_same_app_with_its_hint(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, installer: str
) -> None:
    app = make_app("azure-functions", "alpha", "cgreet", function_app=NATIVE_APP)
    argv = ["pack", str(app), "--build", "local", "--installer", installer, "--no-smoke"]
    code = run([*argv, "-o", str(app.parent / "out.zip")])
    err = capsys.readouterr().err
    assert code == 4, err
    assert "cgreet==1.0" in err
    assert "--build docker" in err


def test_output_is_owned_by_the_invoking_user_not_the_containers_root(
    docker_client: docker.DockerClient, base_image: str, tmp_path: Path
) -> None:
    owner = (4242, 4343) if os.getuid() == 0 else (os.getuid(), os.getgid())
    with build_container(docker_client, base_image, network="none", reporter=NullReporter()) as box:
        made = box.run(
            ["sh", "-c", "mkdir -p /out/pkg && echo x > /out/pkg/mod.py && stat -c %u /out/pkg"],
            workdir="/",
            timeout=60,
        )
        assert made.tail_text() == "0"  # root made them in the container
        assert box.get("/out", tmp_path, owner=owner)
        assert not box.get("/missing", tmp_path / "nothing", owner=owner)
    paths = [tmp_path / "out", tmp_path / "out" / "pkg", tmp_path / "out" / "pkg" / "mod.py"]
    assert {(p.stat().st_uid, p.stat().st_gid) for p in paths} == {owner}


def test_a_broken_dockerfile_is_a_container_error(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, base_image: str, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo no-such-tool && exit 3\n")
    app = make_app("alpha")
    code, output = pack(capsys, app, base_image, "--dockerfile", str(dockerfile))
    assert code == 5, output
    assert f"building the image from {dockerfile} failed" in output
    assert "no-such-tool" in output
    assert "hint: fix the Dockerfile" in output
    assert "Traceback" not in output


def test_a_failed_install_is_a_build_error_and_removes_the_container(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, base_image: str
) -> None:
    app = make_app("no-such-distribution")
    code, output = pack(capsys, app, base_image)
    assert code == 4, output
    assert "installing the requirements in the build container failed" in output
    assert "No matching distribution found for no-such-distribution" in output
    assert INSTALL_HINT.split(";")[0] in output


def test_secrets_stay_out_of_the_output_and_the_image(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "s3cr3t-index-token-4711"
    monkeypatch.setenv("PRIVATE_INDEX_TOKEN", secret)
    app = make_app("alpha")
    requirements = app / "requirements.txt"
    requirements.write_text(
        "--find-links file:///tokens/${PRIVATE_INDEX_TOKEN}\n" + requirements.read_text()
    )
    code, output = pack(capsys, app, base_image, "-v", "--no-smoke")
    assert code == 0, output
    assert "/tokens/***" in output  # pip printed it, expanded: funcpub hid it
    assert secret not in output
    tag = built_tag(output)
    history = json.dumps(docker_client.images.get(tag).history())
    inspect = json.dumps(docker_client.images.get(tag).attrs)
    assert secret not in history + inspect


def test_index_credentials_from_the_environment_are_never_shown(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PIP_INDEX_URL's password, even where it shows up outside a URL (a backend printing it)."""
    password = "pa$$-index-4711"
    monkeypatch.setenv("PIP_INDEX_URL", "https://ci:pa%24%24-index-4711@pkgs.invalid/simple")
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", "https://tok-en-4711@more.invalid/simple")
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    backend = (
        "import os, urllib.parse\n\ndef build_wheel(*args, **kwargs):\n"
        "    url = urllib.parse.urlsplit(os.environ['PIP_INDEX_URL'])\n"
        "    print('password:', urllib.parse.unquote(url.password))\n"
        "    print('extra:', os.environ['PIP_EXTRA_INDEX_URL'].split('@')[0])\n"
        "    raise SystemExit(1)\n"
    )
    write_sdist(leaky, "leaky", "1.0", {"backend.py": backend, "leaky/__init__.py": ""})
    app = make_app(f"--find-links {leaky}", "leaky")
    code, output = pack(capsys, app, base_image, "-v", "--no-smoke")
    assert code == 4, output
    assert "password: ***" in output  # the backend ran with it; funcpub hid it
    assert "extra: https://***" in output
    image = docker_client.images.get(built_tag(output))
    layers = json.dumps(image.history()) + json.dumps(image.attrs)
    for secret in (password, "pa%24%24-index-4711", "tok-en-4711"):
        assert secret not in output
        assert secret not in layers
    # In a pipeline the agent is told to mask them too, before any line could hold them.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, output = pack(capsys, app, base_image, "-v", "--no-smoke")
    assert code == 4, output
    masks = {line for line in output.splitlines() if line.startswith("::add-mask::")}
    assert {f"::add-mask::{password}", "::add-mask::tok-en-4711"} <= masks
    assert password not in output.replace(f"::add-mask::{password}", "")


def test_an_offline_build_finds_the_wheels_pip_find_links_names(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    wheelhouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    (app / "requirements.txt").write_text("alpha\n", encoding="utf-8")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    code, output = pack(capsys, app, base_image, "--no-smoke")
    assert code == 0, output
    assert "dependencies: alpha==1.0, beta==1.0" in output


def built_tag(output: str) -> str:
    """The tag of the image funcpub built or reused for the run of `output`."""
    (tag,) = {word for word in output.split() if word.startswith("funcpub-build:")}
    return tag


def test_funcpub_keep_container_keeps_a_failed_build_for_debugging(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = funcpub_containers(docker_client)
    monkeypatch.setenv("FUNCPUB_KEEP_CONTAINER", "1")
    code, output = pack(capsys, make_app("no-such-distribution"), base_image)
    kept = funcpub_containers(docker_client) - before
    for container in kept:
        docker_client.api.remove_container(container, force=True)
    assert code == 4, output
    (container,) = kept
    assert f"remove it with: docker rm -f {container}" in output
    assert "ignoring unknown environment variable" not in output


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_an_interrupted_install_removes_the_container_and_its_temporary_files(
    docker_client: docker.DockerClient,
    make_app: MakeApp,
    base_image: str,
    tmp_path: Path,
    sig: signal.Signals,
) -> None:
    slow = tmp_path / "slow-wheels"
    slow.mkdir()
    backend = "import time\n\ndef build_wheel(*args, **kwargs):\n    time.sleep(300)\n"
    write_sdist(slow, "slowsd", "1.0", {"backend.py": backend, "slowsd/__init__.py": ""})
    app = make_app(f"--find-links {slow}", "slowsd")
    child_tmp = tmp_path / "child-tmp"
    child_tmp.mkdir()
    argv = [sys.executable, "-m", "funcpub", "pack", str(app), "--build", "docker", "-v"]
    argv += ["--base-image", base_image, "--network", "none", "-o", str(tmp_path / "out.zip")]
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TMPDIR": str(child_tmp)},
    ) as child:
        hung = threading.Timer(300, child.kill)  # a child that never gets there fails the test
        hung.start()
        try:
            # pip in the container says so before it runs the sdist's backend, which sleeps.
            before = read_until(child, "slow-wheels/slowsd-1.0.tar.gz")
            assert funcpub_containers(docker_client, child.pid)
            child.send_signal(sig)
            interrupted = time.monotonic()
            after, _ = child.communicate(timeout=60)
            seconds = time.monotonic() - interrupted
        finally:
            hung.cancel()
            if child.poll() is None or child.returncode == -signal.SIGKILL:
                child.kill()  # no cleanup possible: remove what it left, then fail
                for name in funcpub_containers(docker_client, child.pid):
                    docker_client.api.remove_container(name, force=True)
    output = before + after
    assert_interrupted(Finished(code=child.returncode, out=output, err=""), child_tmp)
    assert seconds < 30, output
    assert "interrupted" in after
    assert funcpub_containers(docker_client, child.pid) == set()
    assert not (tmp_path / "out.zip").exists()


def read_until(child: subprocess.Popen[str], marker: str) -> str:
    """The child's output up to the first line with `marker` (a failure if it ends first)."""
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        lines.append(line)
        if marker in line:
            return "".join(lines)
    child.wait()
    pytest.fail(f"no {marker!r} in the output (exit code {child.returncode}):\n{''.join(lines)}")


@pytest.mark.emulator
def test_publish_a_docker_build_to_the_emulator(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, base_image: str
) -> None:
    app = make_app("azure-functions", "alpha", "cgreet", function_app=NATIVE_APP)
    argv = ["publish", "native-app", str(app), "--build", "docker", "--emulator", "--json"]
    code = run([*argv, "--base-image", base_image, "--network", "none"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert [f["name"] for f in result["functions"]] == ["native"]
    (answer,) = result["smoke"]
    assert answer["status"] == 200
    assert answer["body"] == "alpha and beta; compiled C says hello"
    assert not (app / ".python_packages").exists()


@pytest.fixture
def macos(monkeypatch: pytest.MonkeyPatch) -> str:
    """This machine pretends it cannot load the package; why, as the smoke import says."""
    why = "this machine is macOS arm64 and the package is for Linux x86_64 (glibc 2.36)"
    monkeypatch.setattr(smoke, "host_mismatch", lambda _target: why)
    return why


def test_a_machine_that_cannot_load_the_package_runs_the_smoke_import_in_the_image(
    capsys: pytest.CaptureFixture[str], make_app: MakeApp, base_image: str, macos: str
) -> None:
    app = make_app("azure-functions", "alpha", "cgreet", function_app=NATIVE_APP)
    code, output = pack(capsys, app, base_image, "--smoke")
    assert code == 0, output
    assert f"smoke import: {macos}; using a container of" in output
    assert "smoke import passed (functions: native)" in output
    broken = NATIVE_APP.replace("import cgreet", "import cgreet\nimport not_installed")
    (app / "function_app.py").write_text(broken)
    code, output = pack(capsys, app, base_image, "--smoke")
    assert code == 4, output
    assert "No module named 'not_installed'" in output


def test_a_cache_hit_rebuilds_a_removed_image_for_the_smoke_import_in_a_container(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    macos: str,
) -> None:
    dockerfile = tmp_path / "Dockerfile"  # an image of this test only: removing it is safe
    marker = f"# removed image test {time.time_ns()}"
    dockerfile.write_text(f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\n{marker}\n", encoding="utf-8")
    app = make_app("alpha")
    own = ("--dockerfile", str(dockerfile), "--smoke")
    tag = ""
    try:
        code, first = pack(capsys, app, base_image, *own)
        tag = built_tag(first)
        assert code == 0, first
        assert MISS in first
        docker_client.images.remove(tag, force=True)
        code, second = pack(capsys, app, base_image, *own)
        assert code == 0, second
        assert HIT in second
        assert f"building the image {tag}" in second
        assert "smoke import passed (functions: " in second
        docker_client.images.get(tag)  # there again
    finally:
        if tag:
            docker_client.images.remove(tag, force=True)


MISS = "dependencies: not in the cache yet"
HIT = "dependencies: from the cache"
IN_CONTAINER = "installing dependencies in a linux/amd64 container"


def test_a_second_docker_pack_comes_from_the_cache_without_the_engine(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app("alpha")
    code, first = pack(capsys, app, base_image, "--no-smoke")
    assert code == 0, first
    assert MISS in first
    assert IN_CONTAINER in first
    cold = (app.parent / "out.zip").read_bytes()
    with monkeypatch.context() as unreachable:  # any use of the engine would fail (exit 5)
        unreachable.setenv("DOCKER_HOST", f"unix://{app.parent / 'no-engine.sock'}")
        code, second = pack(capsys, app, base_image, "--no-smoke")
    assert code == 0, second
    assert HIT in second
    assert IN_CONTAINER not in second
    assert "dependencies: alpha==1.0, beta==1.0" in second
    assert (app.parent / "out.zip").read_bytes() == cold
    code, fresh = pack(capsys, app, base_image, "--no-smoke", "--no-cache")
    assert code == 0, fresh
    assert IN_CONTAINER in fresh
    assert HIT not in fresh
    assert (app.parent / "out.zip").read_bytes() == cold
    # A local build of the same requirements is another entry.
    code = run(
        ["pack", str(app), "--build", "local", "--no-smoke", "-o", str(app.parent / "l.zip")]
    )
    local = capsys.readouterr().err
    assert code == 0, local
    assert MISS in local
    listed = run(["cache", "list"])
    out = capsys.readouterr().out
    assert listed == 0
    assert "2 cached build(s)" in out
    assert "    docker funcpub-build:py3.11-" in out
    assert "(network none), Linux x86_64" in out
    assert "    uv, Linux x86_64" in out


def test_the_image_is_built_once_and_a_changed_dockerfile_builds_the_dependencies_again(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    marker = f"# cache test {time.time_ns()}"
    dockerfile.write_text(f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\n{marker}\n", encoding="utf-8")
    own = ("--dockerfile", str(dockerfile), "--no-smoke")
    app = make_app("alpha")
    made: set[str] = set()
    try:
        code, first = pack(capsys, app, base_image, *own)
        made |= {word for word in first.split() if word.startswith("funcpub-build:")}
        assert code == 0, first
        assert "building the image funcpub-build:py3.11-" in first
        assert MISS in first
        code, second = pack(capsys, app, base_image, *own)
        assert HIT in second
        assert "the image" not in second
        code, third = pack(capsys, app, base_image, *own, "--no-cache")
        assert code == 0, third
        assert "reusing the build image funcpub-build:py3.11-" in third
        assert "building the image" not in third
        dockerfile.write_text(dockerfile.read_text() + "RUN true\n", encoding="utf-8")
        code, changed = pack(capsys, app, base_image, *own)
        made |= {word for word in changed.split() if word.startswith("funcpub-build:")}
        assert code == 0, changed
        assert "building the image funcpub-build:py3.11-" in changed
        assert MISS in changed
    finally:
        for tag in made:
            docker_client.images.remove(tag, force=True)


def test_an_image_tag_moved_to_another_image_builds_the_dependencies_again(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    docker_client: docker.DockerClient,
) -> None:
    image = f"funcpub-cache-test:{time.time_ns()}"
    docker_client.images.get(base_image).tag(image)
    app = make_app("alpha")
    try:
        code, first = pack(capsys, app, base_image, "--no-smoke", "--image", image)
        assert code == 0, first
        assert MISS in first
        code, second = pack(capsys, app, base_image, "--no-smoke", "--image", image)
        assert HIT in second
        # The same name on another image (a label gives it another ID): not the cached build.
        labelled = f"FROM {base_image}\nLABEL test={time.time_ns()}\n"
        docker_client.images.build(fileobj=io.BytesIO(labelled.encode()), tag=image, rm=True)
        code, moved = pack(capsys, app, base_image, "--no-smoke", "--image", image)
        assert code == 0, moved
        assert MISS in moved
    finally:
        docker_client.images.remove(image, force=True)


# The docker SDK leaves the socket of a failed connect(2) to the garbage collector: collected
# at the end of the test, its warning ignored.
@pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")
def test_the_engine_docker_host_names_is_the_one_used(
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    base_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DOCKER_HOST at another socket (a relay to the engine): every request goes there."""
    folder = Path(tempfile.mkdtemp(prefix="funcpub-engine-"))  # a short path: sockets need it
    try:
        with forwarded_engine(folder / "engine.sock") as relay:
            monkeypatch.setenv("DOCKER_HOST", f"unix://{folder / 'engine.sock'}")
            code, output = pack(capsys, make_app("alpha"), base_image, "--no-smoke")
            assert code == 0, output
            assert IN_CONTAINER in output
            assert relay.connections > 0
            relay.close()  # now nothing answers there: a run that still works used another engine
            code, output = pack(capsys, make_app("alpha", name="other"), base_image, "--no-cache")
            assert code == 5, output
            assert f"unix://{folder / 'engine.sock'}" in output
    finally:
        shutil.rmtree(folder)
        gc.collect()
