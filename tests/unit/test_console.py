"""Console output: streams, quiet and JSON modes, and secret redaction."""

from __future__ import annotations

import io
import json

from funcpub.console import REDACTED, Console
from funcpub.errors import DeployError


def make(
    *, json_mode: bool = False, quiet: bool = False
) -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(stdout=out, stderr=err, json_mode=json_mode, quiet=quiet), out, err


def test_secrets_never_reach_any_stream() -> None:
    console, out, err = make()
    console.secret("s3cr3t-token")
    console.step("using s3cr3t-token")
    console.warn("warn s3cr3t-token")
    console.deployment_log("log s3cr3t-token")
    console.error(DeployError("failed with s3cr3t-token", hint="hint s3cr3t-token"))
    console.json({"value": "s3cr3t-token"})
    console.line("line s3cr3t-token")
    text = out.getvalue() + err.getvalue()
    assert "s3cr3t-token" not in text
    assert text.count(REDACTED) == 7


def test_longer_secrets_are_redacted_first() -> None:
    console, out, _ = make()
    console.secret("abc")
    console.secret("abcdef")
    console.line("abcdef")
    assert out.getvalue().strip() == REDACTED


def test_results_go_to_stdout_and_progress_to_stderr() -> None:
    console, out, err = make()
    console.step("working")
    console.line("result")
    assert out.getvalue() == "result\n"
    assert "working" in err.getvalue()


def test_quiet_hides_steps_and_settings_but_not_warnings() -> None:
    console, _, err = make(quiet=True)
    console.step("working")
    console.settings([("build", "local", "default")])
    console.upload_progress(5, 10)
    console.warn("careful")
    assert err.getvalue().strip() == "warning: careful"


def test_json_mode_keeps_stdout_a_single_document() -> None:
    console, out, err = make(json_mode=True)
    console.step("working")
    console.deployment_log("building")
    console.json({"ok": True})
    assert json.loads(out.getvalue()) == {"ok": True}
    assert err.getvalue() == ""
