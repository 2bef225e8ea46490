"""A real local build in a pipeline: the installer's command and output in one log group."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import invoke
from tests.e2e.conftest import MakeApp

pytestmark = pytest.mark.subprocess

SECRET = "s3cretIndexToken"
# (variable, value, how a group starts, how it ends) per agent.
AGENTS = {
    "azure-pipelines": ("TF_BUILD", "True", "##[group]", "##[endgroup]"),
    "github-actions": ("GITHUB_ACTIONS", "true", "::group::", "::endgroup::"),
}


@pytest.mark.parametrize("installer", ["uv", "pip"])
@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_the_installer_runs_inside_one_log_group(
    agent: str,
    installer: str,
    capsys: pytest.CaptureFixture[str],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    variable, value, start, end = AGENTS[agent]
    for name in ("FUNCPUB_CI", "TF_BUILD", "GITHUB_ACTIONS"):  # this test's agent only
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    app = make_app("alpha")
    requirements = app / "requirements.txt"
    index = f"--extra-index-url https://user:{SECRET}@127.0.0.1:9/simple\n"  # unused: --no-index
    requirements.write_text(requirements.read_text(encoding="utf-8") + index, encoding="utf-8")
    argv = ["pack", str(app), "--build", "local", "--installer", installer, "--no-smoke"]
    code, out, err = invoke(capsys, *argv, "-o", str(tmp_path / "out.zip"))
    assert code == 0, err
    assert SECRET not in out + err
    lines = err.splitlines()
    opened = [i for i, line in enumerate(lines) if line.startswith(start)]
    installs = [i for i in opened if "pip install" in lines[i]]
    assert len(installs) == 1, err
    first = installs[0]
    last = lines.index(end, first)
    inside = lines[first + 1 : last]
    assert not any(line.startswith(start) for line in inside), "groups do not nest"
    assert inside[0].startswith("+ ") and "pip install" in inside[0], "the command is inside"
    assert any("alpha" in line for line in inside[1:]), "the installer's own output"
    # Below the settings table, every indented line is a command's output: inside a group.
    below_settings = range(lines.index(next(x for x in lines if x.startswith("> reading"))), first)
    outside = [lines[i] for i in (*below_settings, *range(last + 1, len(lines)))]
    assert not any(line.startswith((" ", "+ ")) for line in outside), err
