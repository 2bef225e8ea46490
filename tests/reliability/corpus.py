"""The bad-input corpus: every malformed project, option and environment, one row each.

Each row runs one command against a copy of examples/hello (changed by `prepare`) and states
the exit code and the words the one message must contain. `offline` rows run validate, pack and
publish --dry-run with sockets forbidden; `publish` rows publish to an emulator that must end up
with no deployment and unchanged settings. Rows with code 0 are unusual but valid inputs that
must be accepted. The fixture apps of tests/projects/fpNNN-* are added by the test module.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from funcpub.validate import RULES

Prepare = Callable[[Path, pytest.MonkeyPatch], None]
Kind = Literal["offline", "publish"]


@dataclass(frozen=True, kw_only=True)
class BadInput:
    """One malformed input and what funcpub must answer."""

    id: str
    argv: tuple[str, ...]  # {app}: the app copy, {tmp}: a scratch folder, {file}: a plain file
    code: int
    words: str  # in stdout or stderr
    prepare: Prepare | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    kind: Kind = "offline"


# --- preparations -------------------------------------------------------------------------


def write(relpath: str, data: str | bytes) -> Prepare:
    def prepare(app: Path, _: pytest.MonkeyPatch) -> None:
        path = app / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")

    return prepare


def remove(relpath: str) -> Prepare:
    def prepare(app: Path, _: pytest.MonkeyPatch) -> None:
        (app / relpath).unlink()

    return prepare


def both(*steps: Prepare) -> Prepare:
    def prepare(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        for step in steps:
            step(app, monkeypatch)

    return prepare


def link(relpath: str, target: str) -> Prepare:
    def prepare(app: Path, _: pytest.MonkeyPatch) -> None:
        (app / relpath).parent.mkdir(parents=True, exist_ok=True)
        (app / relpath).symlink_to(target)

    return prepare


def link_outside(app: Path, _: pytest.MonkeyPatch) -> None:
    outside = app.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the app\n", encoding="utf-8")
    (app / "data").symlink_to(outside, target_is_directory=True)


def bad_name(app: Path, _: pytest.MonkeyPatch) -> None:
    (app / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n", encoding="utf-8")


def long_name(app: Path, _: pytest.MonkeyPatch) -> None:
    text = "255 bytes is the longest name Linux allows\n"
    (app / ("n" * 251 + ".txt")).write_text(text, encoding="utf-8")


def long_path(app: Path, _: pytest.MonkeyPatch) -> None:
    """Folders nested until the path passes 4096 bytes (made relative: open() refuses it)."""
    here = os.open(app, os.O_RDONLY)
    try:
        for _level in range(22):
            os.mkdir("d" * 200, dir_fd=here)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = inner
        os.close(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here))
    finally:
        os.close(here)


def deny(name: str) -> Prepare:
    """Reading a file called `name` fails as if it were mode 000 (tests run as root)."""

    def prepare(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open = pathlib.Path.open

        def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self.name == name and self.is_relative_to(app):
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "open", guarded)

    return prepare


def deny_folder(name: str) -> Prepare:
    """Listing the folder `name` fails as if it were mode 000."""

    def prepare(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (app / name).mkdir()
        (app / name / "inside.txt").write_text("x\n", encoding="utf-8")
        real_scandir = os.scandir

        def guarded(path: Any = ".") -> Any:
            if os.fspath(path).endswith(f"/{name}"):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", guarded)

    return prepare


def nested_json(depth: int) -> str:
    return '{"version": "2.0", "x": ' + "[" * depth + "]" * depth + "}"


HASH = "0" * 64
GOOD_HOST = json.dumps({"version": "2.0"})

# --- the corpus ---------------------------------------------------------------------------

PACK = ("pack", "{app}", "--build", "none", "-o", "{tmp}/app.zip")
VALIDATE = ("validate", "{app}")
DRY_RUN = ("publish", "my-app", "{app}", "--build", "none", "--dry-run")
PUBLISH = ("publish", "bad-input-app", "{app}", "--build", "none")

CORPUS: tuple[BadInput, ...] = (
    # the project folder
    BadInput(id="dir-missing", argv=("validate", "{tmp}/nope"), code=2, words="does not exist"),
    BadInput(id="dir-is-a-file", argv=("pack", "{file}"), code=2, words="is not a directory"),
    BadInput(
        id="publish-dir-is-a-file",
        argv=("publish", "bad-input-app", "{file}", "--build", "none"),
        code=2,
        words="is not a directory",
        kind="publish",
    ),
    BadInput(id="empty-dir", argv=("validate", "{tmp}"), code=3, words="FP101", prepare=None),
    # docker build options: checked before anything is built or any engine is asked
    BadInput(
        id="dockerfile-missing",
        argv=(*PACK, "--build", "docker", "--dockerfile", "{tmp}/Dockerfile"),
        code=2,
        words="does not exist",
    ),
    BadInput(
        id="dockerfile-and-image",
        argv=(*PACK, "--build", "docker", "--dockerfile", "{file}", "--image", "python:3.11"),
        code=2,
        words="cannot be combined",
    ),
    BadInput(
        id="image-reference-invalid",
        argv=(*PACK, "--build", "docker", "--image", "Not A/Reference"),
        code=2,
        words="must be an image reference",
    ),
    BadInput(
        id="docker-network-invalid",
        argv=(*DRY_RUN, "--network", "-bad"),
        code=2,
        words="docker-network must be a network name",
    ),
    # names and paths
    BadInput(id="name-not-utf8", argv=VALIDATE, code=3, words="not valid UTF-8", prepare=bad_name),
    BadInput(id="pack-name-not-utf8", argv=PACK, code=3, words="not valid UTF-8", prepare=bad_name),
    BadInput(
        id="name-with-backslash",
        argv=PACK,
        code=3,
        words="backslash",
        prepare=write("bad\\name.txt", "x"),
    ),
    BadInput(id="name-255-bytes-accepted", argv=PACK, code=0, words="sha256", prepare=long_name),
    BadInput(id="path-over-4096-bytes", argv=PACK, code=3, words="is too long", prepare=long_path),
    BadInput(
        id="validate-path-over-4096-bytes",
        argv=VALIDATE,
        code=3,
        words="is too long",
        prepare=long_path,
    ),
    # unreadable files and folders
    BadInput(
        id="unreadable-data-file",
        argv=PACK,
        code=4,
        words="Cannot pack data.txt",
        prepare=both(write("data.txt", "x"), deny("data.txt")),
    ),
    BadInput(
        id="unreadable-python-file",
        argv=PACK,
        code=3,
        words="cannot read the file",
        prepare=deny("greeting.py"),
    ),
    BadInput(
        id="unreadable-host-json", argv=VALIDATE, code=3, words="FP102", prepare=deny("host.json")
    ),
    BadInput(
        id="unreadable-requirements",
        argv=VALIDATE,
        code=3,
        words="cannot be read",
        prepare=deny("requirements.txt"),
    ),
    BadInput(
        id="unreadable-funcignore",
        argv=PACK,
        code=3,
        words="Cannot read",
        prepare=both(write(".funcignore", "*.md\n"), deny(".funcignore")),
    ),
    BadInput(
        id="unreadable-folder",
        argv=PACK,
        code=3,
        words="Cannot read folder locked",
        prepare=deny_folder("locked"),
    ),
    BadInput(
        id="publish-unreadable-folder",
        argv=PUBLISH,
        code=3,
        words="Cannot read folder locked",
        prepare=deny_folder("locked"),
        kind="publish",
    ),
    # links
    BadInput(
        id="symlink-loop",
        argv=VALIDATE,
        code=3,
        words="loops back to itself",
        prepare=both(link("loop1", "loop2"), link("loop2", "loop1")),
    ),
    BadInput(
        id="symlink-to-parent",
        argv=PACK,
        code=3,
        words="loops back to its own parent",
        prepare=link("shared/up", ".."),
    ),
    BadInput(id="dangling-link", argv=PACK, code=3, words="is broken", prepare=link("gone", "x")),
    BadInput(
        id="link-escaping-the-app",
        argv=PACK,
        code=3,
        words="points outside the app folder",
        prepare=link_outside,
    ),
    BadInput(
        id="publish-link-escaping-the-app",
        argv=PUBLISH,
        code=3,
        words="points outside the app folder",
        prepare=link_outside,
        kind="publish",
    ),
    # .funcignore
    BadInput(
        id="funcignore-dotdot",
        argv=VALIDATE,
        code=0,
        words="FP608",
        prepare=write(".funcignore", "../secrets/\n"),
    ),
    BadInput(
        id="funcignore-absolute-path",
        argv=VALIDATE,
        code=0,
        words="FP608",
        prepare=lambda app, mp: write(".funcignore", f"{app}/README.md\n")(app, mp),
    ),
    BadInput(
        id="funcignore-not-utf8",
        argv=PACK,
        code=3,
        words="is not valid UTF-8",
        prepare=write(".funcignore", b"\xff\xfe*.md\n"),
    ),
    BadInput(
        id="funcignore-drops-function-app",
        argv=PACK,
        code=3,
        words="FP603",
        prepare=write(".funcignore", "function_app.py\n"),
    ),
    # requirements.txt
    BadInput(
        id="hash-md5",
        argv=VALIDATE,
        code=3,
        words="only sha256, sha384 and sha512",
        prepare=write("requirements.txt", f"azure-functions --hash=md5:{HASH[:32]}\n"),
    ),
    BadInput(
        id="hash-without-digest",
        argv=PACK,
        code=3,
        words="must be a hash name and a digest",
        prepare=write("requirements.txt", "azure-functions --hash=sha256\n"),
    ),
    BadInput(
        id="hash-that-cannot-match-accepted",
        argv=PACK,
        code=0,
        words="sha256",
        prepare=write("requirements.txt", f"azure-functions==1.0 --hash=sha256:{HASH}\n"),
    ),
    BadInput(
        id="index-url-unreachable-accepted",
        argv=PACK,
        code=0,
        words="sha256",
        prepare=write(
            "requirements.txt", "--index-url https://pypi.invalid:9/simple\nazure-functions\n"
        ),
    ),
    BadInput(
        id="circular-includes",
        argv=VALIDATE,
        code=3,
        words="FP207",
        prepare=both(
            write("requirements.txt", "-r more.txt\nazure-functions\n"),
            write("more.txt", "-r requirements.txt\n"),
        ),
    ),
    BadInput(
        id="missing-include",
        argv=PACK,
        code=3,
        words="FP206",
        prepare=write("requirements.txt", "-r nowhere.txt\nazure-functions\n"),
    ),
    BadInput(
        id="requirements-not-utf8",
        argv=VALIDATE,
        code=3,
        words="is not UTF-8 text",
        prepare=write("requirements.txt", b"azure-functions\n\xff\xfe\n"),
    ),
    BadInput(
        id="index-credentials-masked",
        argv=PACK,
        code=0,
        words="FP209",
        prepare=write(
            "requirements.txt",
            "--extra-index-url https://user:hunter2@pkgs.invalid/simple\nazure-functions\n",
        ),
    ),
    # host.json and code
    BadInput(
        id="host-json-bom-comments-trailing-commas-accepted",
        argv=VALIDATE,
        code=0,
        words="valid",
        prepare=write(
            "host.json", '\ufeff{\n  // Json.NET reads comments\n  "version": "2.0", /* x */\n}\n'
        ),
    ),
    BadInput(
        id="host-json-empty", argv=VALIDATE, code=3, words="FP102", prepare=write("host.json", "")
    ),
    BadInput(
        id="host-json-array", argv=PACK, code=3, words="FP102", prepare=write("host.json", "[]")
    ),
    BadInput(
        id="host-json-nested-too-deeply",
        argv=VALIDATE,
        code=3,
        words="nested too deeply",
        prepare=write("host.json", nested_json(100_000)),
    ),
    BadInput(
        id="host-json-binary",
        argv=VALIDATE,
        code=3,
        words="not UTF-8",
        prepare=write("host.json", b"\x00\xff\xfe\x00"),
    ),
    BadInput(
        id="python-null-bytes",
        argv=VALIDATE,
        code=3,
        words="FP501",
        prepare=write("shared/greeting.py", b"x = 1\x00\n"),
    ),
    BadInput(
        id="python-nested-too-deeply",
        argv=PACK,
        code=3,
        words="too many nested parentheses",
        prepare=write("shared/deep.py", "x = " + "(" * 5000 + ")" * 5000 + "\n"),
    ),
    BadInput(
        id="publish-invalid-app",
        argv=PUBLISH,
        code=3,
        words="nothing was deployed",
        prepare=remove("host.json"),
        kind="publish",
    ),
    # the APP name
    *(
        BadInput(
            id=f"app-name-{label}",
            argv=("publish", name, "{app}", "--build", "none", "--dry-run"),
            code=2,
            words="not a valid function app name",
        )
        for label, name in (
            ("trailing-hyphen", "app-"),
            ("one-char", "a"),
            ("61-chars", "a" * 61),
            ("underscore", "my_app"),
            ("dot", "my.app"),
            ("non-ascii", "caf\u00e9"),
            ("empty", ""),
        )
    ),
    BadInput(
        id="app-name-leading-hyphen",
        argv=("publish", "-app", "{app}", "--dry-run"),
        code=2,
        words="No such option: -a",  # the option parser's answer, before funcpub's
    ),
    BadInput(
        id="publish-app-name-invalid",
        argv=("publish", "bad_input_app", "{app}", "--build", "none"),
        code=2,
        words="not a valid function app name",
        kind="publish",
    ),
    # [tool.funcpub]
    BadInput(
        id="pyproject-unknown-key",
        argv=VALIDATE,
        code=2,
        words="did you mean 'python-version'",
        prepare=write("pyproject.toml", '[tool.funcpub]\npython_version = "3.11"\n'),
    ),
    BadInput(
        id="pyproject-not-a-string",
        argv=PACK,
        code=2,
        words="must be a string",
        prepare=write("pyproject.toml", "[tool.funcpub]\npython-version = 3.11\n"),
    ),
    BadInput(
        id="pyproject-not-toml",
        argv=VALIDATE,
        code=2,
        words="is not valid TOML",
        prepare=write("pyproject.toml", "[tool.funcpub\n"),
    ),
    BadInput(
        id="pyproject-table-not-a-table",
        argv=VALIDATE,
        code=2,
        words="must be a table",
        prepare=write("pyproject.toml", "[tool]\nfuncpub = 1\n"),
    ),
    BadInput(
        id="pyproject-bad-value",
        argv=DRY_RUN,
        code=2,
        words="(from pyproject.toml)",
        prepare=write("pyproject.toml", '[tool.funcpub]\ninstaller = "conda"\n'),
    ),
    # options
    BadInput(
        id="option-python-version",
        argv=(*VALIDATE, "--python-version", "three"),
        code=2,
        words="python-version must look like",
    ),
    BadInput(
        id="option-functions-version",
        argv=(*VALIDATE, "--functions-version", "x"),
        code=2,
        words="functions-version must be",
    ),
    BadInput(id="option-slot", argv=(*DRY_RUN, "--slot", "a b"), code=2, words="slot must be"),
    BadInput(
        id="option-subscription",
        argv=(*DRY_RUN, "--subscription", "not-a-guid"),
        code=2,
        words="subscription must be a subscription id",
    ),
    BadInput(
        id="option-resource-group",
        argv=(*DRY_RUN, "-g", "bad/rg"),
        code=2,
        words="not a valid resource group",
    ),
    BadInput(id="option-cloud", argv=(*DRY_RUN, "--cloud", "Mars"), code=2, words="cloud must"),
    BadInput(
        id="option-timeout-zero",
        argv=(*DRY_RUN, "--timeout", "0"),
        code=2,
        words="'--timeout': Input should be greater than or equal to 1",
    ),
    BadInput(
        id="option-timeout-text",
        argv=(*DRY_RUN, "--timeout", "soon"),
        code=2,
        words="'--timeout': Input should be a valid number",
    ),
    BadInput(
        id="option-installer", argv=(*PACK, "--installer", "conda"), code=2, words="installer"
    ),
    BadInput(
        id="option-build",
        argv=("publish", "my-app", "{app}", "--build", "cloud", "--dry-run"),
        code=2,
        words="build must be one of",
    ),
    # options the chosen build would silently ignore
    BadInput(
        id="image-for-a-remote-build",
        argv=(*DRY_RUN, "--build", "remote", "--image", "python:3.11"),
        code=2,
        words="--image only applies to docker builds, and this one is a remote build",
    ),
    BadInput(
        id="network-for-a-local-build",
        argv=(*PACK, "--build", "local", "--network", "none"),
        code=2,
        words="--network only applies to docker builds",
    ),
    BadInput(
        id="installer-for-a-none-build",
        argv=(*DRY_RUN, "--installer", "pip"),
        code=2,
        words="--installer only applies to local and docker builds, and this one is a none",
    ),
    BadInput(
        id="smoke-for-a-remote-build",
        argv=(*DRY_RUN, "--build", "remote", "--smoke"),
        code=2,
        words="--smoke only applies to local, docker and none builds",
    ),
    BadInput(
        id="write-python-packages-for-a-remote-build",
        argv=(*DRY_RUN, "--build", "remote", "--write-python-packages"),
        code=2,
        words="--write-python-packages only applies to local and docker builds",
    ),
    BadInput(
        id="write-python-packages-for-a-none-build",
        argv=(*PACK, "--write-python-packages"),
        code=2,
        words="--write-python-packages only applies to local and docker builds",
    ),
    BadInput(
        id="no-cache-for-a-none-build",
        argv=(*PACK, "--no-cache"),
        code=2,
        words="--no-cache only applies to local and docker builds",
    ),
    BadInput(
        id="dry-run-with-a-slot-on-an-emulated-flex-app",
        argv=(*DRY_RUN, "--emulator", "--emulator-plan", "FC1", "--slot", "s1"),
        code=2,
        words="Flex Consumption (FC1) apps have no deployment slots",
    ),
    BadInput(
        id="pack-remote-build",
        argv=("pack", "{app}", "--build", "remote"),
        code=2,
        words="cannot run a remote build",
    ),
    BadInput(id="option-unknown", argv=(*VALIDATE, "--colour"), code=2, words="No such option"),
    BadInput(id="publish-without-app", argv=("publish",), code=2, words="Missing argument"),
    BadInput(
        id="output-under-a-file",
        argv=("pack", "{app}", "--build", "none", "-o", "{file}/app.zip"),
        code=4,
        words="Cannot write",
    ),
    BadInput(
        id="output-is-a-folder",
        argv=("pack", "{app}", "--build", "none", "-o", "{tmp}"),
        code=4,
        words="Cannot write",
    ),
    # the environment
    BadInput(
        id="env-build", argv=PACK[:2], code=2, words="FUNCPUB_BUILD", env={"FUNCPUB_BUILD": "x"}
    ),
    BadInput(
        id="env-python-version",
        argv=VALIDATE,
        code=2,
        words="FUNCPUB_PYTHON_VERSION",
        env={"FUNCPUB_PYTHON_VERSION": "3"},
    ),
    BadInput(
        id="env-cloud", argv=DRY_RUN, code=2, words="FUNCPUB_CLOUD", env={"FUNCPUB_CLOUD": "mars"}
    ),
    BadInput(
        id="env-subscription",
        argv=DRY_RUN,
        code=2,
        words="FUNCPUB_SUBSCRIPTION",
        env={"FUNCPUB_SUBSCRIPTION": "x"},
    ),
    BadInput(
        id="env-slot", argv=DRY_RUN, code=2, words="FUNCPUB_SLOT", env={"FUNCPUB_SLOT": "-slot-"}
    ),
    BadInput(
        id="env-unknown-variable-warns",
        argv=VALIDATE,
        code=0,
        words="ignoring unknown environment variable FUNCPUB_COLOUR",
        env={"FUNCPUB_COLOUR": "red"},
    ),
    BadInput(
        id="source-date-epoch-text",
        argv=PACK,
        code=2,
        words="SOURCE_DATE_EPOCH",
        env={"SOURCE_DATE_EPOCH": "yesterday"},
    ),
    BadInput(
        id="source-date-epoch-after-2107",
        argv=PACK,
        code=2,
        words="after 2107",
        env={"SOURCE_DATE_EPOCH": "99999999999"},
    ),
    BadInput(
        id="emulator-cloud-without-url",
        argv=PUBLISH,
        code=2,
        words="needs FUNCPUB_EMULATOR_URL",
        env={"FUNCPUB_EMULATOR_URL": ""},
        kind="publish",
    ),
    BadInput(
        id="emulator-url-not-https",
        argv=PUBLISH,
        code=2,
        words="must be an https:// URL",
        env={"FUNCPUB_EMULATOR_URL": "http://127.0.0.1:1"},
        kind="publish",
    ),
    BadInput(
        id="subscription-unknown",
        argv=PUBLISH,
        code=6,
        words="SubscriptionNotFound",
        env={"AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-00000000dead"},
        kind="publish",
    ),
    BadInput(
        id="ca-bundle-missing",
        argv=PUBLISH,
        code=2,
        words="REQUESTS_CA_BUNDLE=/nonexistent/ca.pem does not exist",
        env={"REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem"},
        kind="publish",
    ),
    BadInput(
        id="ca-bundle-of-another-ca",
        argv=PUBLISH,
        code=7,
        words="certificate verify failed",
        env={"REQUESTS_CA_BUNDLE": "{other_ca}"},
        kind="publish",
    ),
    BadInput(
        id="client-secret-wrong",
        argv=PUBLISH,
        code=7,
        words="AADSTS7000215",
        env={"AZURE_CLIENT_SECRET": "not-the-secret"},
        kind="publish",
    ),
    BadInput(
        id="app-not-found",
        argv=("publish", "no-such-app", "{app}", "--build", "none"),
        code=6,
        words="no function app named 'no-such-app'",
        kind="publish",
    ),
    BadInput(
        id="resource-group-wrong",
        argv=(*PUBLISH, "-g", "rg-elsewhere"),
        code=6,
        words="no function app 'bad-input-app' in resource group 'rg-elsewhere'",
        kind="publish",
    ),
    BadInput(
        id="slot-missing",
        argv=(*PUBLISH, "--slot", "staging"),
        code=6,
        words="no slot 'staging'",
        kind="publish",
    ),
    BadInput(
        id="python-version-mismatch-needs-force",
        argv=(*PUBLISH, "--python-version", "3.12"),
        code=6,
        words="--python-version 3.11",
        kind="publish",
    ),
)


# --- every validation rule's failing app (tests/projects/fpNNN-*) -------------------------

PROJECTS = Path(__file__).parents[1] / "projects"
SCENARIO = re.compile(r"fp(\d{3})-")
FIXTURES = sorted(p.name for p in PROJECTS.iterdir() if SCENARIO.match(p.name))
# Versions the FP7xx fixtures are about (as in tests/unit/test_validate.py).
FIXTURE_VERSIONS = {
    "fp701-unknown-runtime": ("3.12", "5"),
    "fp702-python-unavailable": ("3.6", "4"),
    "fp703-python-eol": ("3.9", "4"),
}
NEEDS_SETUP = {"fp604-link-outside-app", "fp704-python-preview"}  # built by tests/unit


def rule_of(scenario: str) -> str:
    """fp102-host-json-invalid -> FP102."""
    match = SCENARIO.match(scenario)
    assert match is not None
    return f"FP{match.group(1)}"


def expected_code(scenario: str) -> int:
    """3 when the fixture's rule is an error, 0 for a warning."""
    return 3 if RULES[rule_of(scenario)].severity == "error" else 0


CLI_FIXTURES = [scenario for scenario in FIXTURES if scenario not in NEEDS_SETUP]
ERROR_FIXTURES = [s for s in CLI_FIXTURES if expected_code(s) and s not in FIXTURE_VERSIONS]
