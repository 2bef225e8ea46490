"""Bad input: one clear message, a documented exit code, no traceback, nothing uploaded.

Offline rows run with sockets forbidden (the unit-test guard), so validate, pack and a dry run
are proven not to touch the network. Publish rows run against an emulator that must end with
no deployment and the same app settings. See corpus.py for the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

from funcpub.emulator import Emulator, SiteInfo
from tests.reliability.corpus import (
    CLI_FIXTURES,
    CORPUS,
    ERROR_FIXTURES,
    FIXTURE_VERSIONS,
    PROJECTS,
    BadInput,
    expected_code,
    rule_of,
)
from tests.reliability.helpers import (
    HELLO,
    Outcome,
    assert_clean_failure,
    copy_app,
    deployments,
    invoke,
    use_emulator,
    zip_contents,
)

OFFLINE = [case for case in CORPUS if case.kind == "offline"]
PUBLISH = [case for case in CORPUS if case.kind == "publish"]


def run_case(
    case: BadInput,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Outcome:
    app = copy_app(HELLO, tmp_path / "app")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("not an app\n", encoding="utf-8")
    places = {
        "app": str(app),
        "tmp": str(scratch),
        "file": str(a_file),
        "other_ca": certifi.where(),
    }
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.format(**places))
    if case.prepare is not None:
        case.prepare(app, monkeypatch)
    return invoke(capsys, *(arg.format(**places) for arg in case.argv))


def check(case: BadInput, outcome: Outcome) -> None:
    assert_clean_failure(outcome, case.code)
    assert case.words in outcome.text, outcome.text


@pytest.mark.parametrize("case", OFFLINE, ids=[case.id for case in OFFLINE])
def test_offline_bad_input(
    case: BadInput,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    outcome = run_case(case, capsys, monkeypatch, tmp_path)
    check(case, outcome)
    package = tmp_path / "scratch" / "app.zip"
    if case.argv[0] == "pack" and case.code != 0:
        assert not package.exists(), "a failed pack leaves no zip"
    assert not list(package.parent.glob(".*.tmp")), "no temporary zip is left behind"


@pytest.fixture(scope="module")
def target(shared_emulator: Emulator) -> SiteInfo:
    return shared_emulator.create_app("bad-input-app")


@pytest.fixture
def unchanged(shared_emulator: Emulator, target: SiteInfo) -> Iterator[None]:
    """The publish must leave the app as it found it: no deployment, the same settings."""
    before = dict(shared_emulator.site(target.name).app_settings)
    yield
    assert deployments(shared_emulator, target) == []
    assert dict(shared_emulator.site(target.name).app_settings) == before


@pytest.mark.emulator
@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("case", PUBLISH, ids=[case.id for case in PUBLISH])
def test_publish_bad_input(
    case: BadInput,
    shared_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_emulator(shared_emulator, monkeypatch)
    check(case, run_case(case, capsys, monkeypatch, tmp_path))


# --- every validation rule's failing app, through the command line ------------------------


def fixture_argv(scenario: str, command: str) -> list[str]:
    python, functions = FIXTURE_VERSIONS.get(scenario, ("3.12", "4"))
    versions = ["--python-version", python]
    if command == "validate":
        return ["validate", str(PROJECTS / scenario), *versions, "--functions-version", functions]
    return ["publish", "bad-input-app", str(PROJECTS / scenario), "--build", "none", *versions]


@pytest.mark.parametrize("scenario", CLI_FIXTURES)
def test_every_rule_through_validate(scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = invoke(capsys, *fixture_argv(scenario, "validate"))
    assert_clean_failure(outcome, expected_code(scenario))
    assert rule_of(scenario) in outcome.out


@pytest.mark.emulator
@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("scenario", ERROR_FIXTURES)
def test_every_error_rule_stops_a_publish(
    scenario: str,
    shared_emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_emulator(shared_emulator, monkeypatch)
    outcome = invoke(capsys, *fixture_argv(scenario, "publish"))
    assert_clean_failure(outcome, 3)
    assert "nothing was deployed" in outcome.err
    assert rule_of(scenario) in outcome.out


def test_index_credentials_never_reach_the_package(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app = copy_app(HELLO, tmp_path / "app")
    (app / "more.txt").write_text("pkg @ git+https://ghp_tokentoken@github.com/o/r\n", "utf-8")
    (app / "config").mkdir()  # an include reached through a link: found by its real path
    (app / "config" / "extra.txt").write_text("-i https://u:linkedpw@h/simple\n", "utf-8")
    (app / "linked").symlink_to("config", target_is_directory=True)
    (app / "requirements.txt").write_text(
        "--extra-index-url https://user:hunter2@pkgs.invalid/simple  # or ${TOKEN}\n"
        "--index-url https://user:${INDEX_TOKEN}@pkgs.invalid/simple\n"
        "-r more.txt\n-r linked/extra.txt\nazure-functions\n",
        encoding="utf-8",
    )
    outcome = invoke(capsys, "pack", str(app), "--build", "none", "-o", str(tmp_path / "a.zip"))
    assert outcome.code == 0, outcome.text
    assert outcome.text.count("FP209") == 3  # one warning per file
    contents = zip_contents(tmp_path / "a.zip")
    assert contents["requirements.txt"].decode() == (
        "--extra-index-url https://user:***@pkgs.invalid/simple  # or ${TOKEN}\n"
        "--index-url https://user:${INDEX_TOKEN}@pkgs.invalid/simple\n"
        "-r more.txt\n-r linked/extra.txt\nazure-functions\n"
    )
    assert contents["more.txt"] == b"pkg @ git+https://***@github.com/o/r\n"
    assert contents["linked/extra.txt"] == contents["config/extra.txt"]
    assert contents["config/extra.txt"] == b"-i https://u:***@h/simple\n"
    assert b"hunter2" not in b"".join(contents.values())
    assert "hunter2" not in outcome.text and "ghp_tokentoken" not in outcome.text


@pytest.mark.docker
def test_no_container_engine_is_a_container_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A docker build without a reachable engine: exit 5 with what to do, not a traceback."""
    app = copy_app(HELLO, tmp_path / "app")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    outcome = invoke(capsys, "pack", str(app), "--build", "docker", "-o", str(tmp_path / "a.zip"))
    assert_clean_failure(outcome, 5)
    assert f"cannot reach a container engine at unix://{tmp_path}/no-engine.sock" in outcome.text
    assert "DOCKER_HOST" in outcome.text
    assert not (tmp_path / "a.zip").exists()
