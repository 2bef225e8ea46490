"""Kudu client logic with a fake SCM site and a fake clock: upload, tracking, polling, logs."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from funcpub.deploy.kudu import (
    LATEST,
    LogFollower,
    ProgressReader,
    ScmClient,
    UploadReceipt,
    build_error,
    find_deployment_id,
    is_ours,
    parse_kudu_time,
    parse_record,
    upload_zip,
    wait_for_deployment,
    wait_for_scm_settings,
)
from funcpub.deploy.timing import Backoff, Clock, Deadline, Timing, retry_after
from funcpub.errors import AuthError, DeployError

Handler = Callable[[str, str], requests.Response]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.time += seconds

    @property
    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)


def response(
    status: int, body: Any = b"", headers: dict[str, str] | None = None
) -> requests.Response:
    result = requests.Response()
    result.status_code = status
    result._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    result._content_consumed = True  # type: ignore[attr-defined]
    result.raw = io.BytesIO(result._content)
    result.headers.update(headers or {})
    return result


class FakeScm(ScmClient):
    """An SCM client whose requests go to `handler(method, path)`."""

    def __init__(self, handler: Handler, timing: Timing | None = None) -> None:
        super().__init__(
            "scm.test",
            bearer=lambda: "t",
            basic=lambda: None,
            verify=True,
            timing=timing or Timing(),
        )
        self.handler = handler
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[bytes] = []

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        body: Callable[[], Any] | None = None,
        headers: Any = None,
        timeout: float | None = None,
    ) -> requests.Response:
        self.calls.append((method, path_or_url))
        if body is not None:
            self.bodies.append(body().read(-1))
        return self.handler(method, path_or_url)


def sequence(*responses: requests.Response | Exception) -> Handler:
    items = iter(responses)

    def handle(_method: str, _path: str) -> requests.Response:
        item = next(items)
        if isinstance(item, Exception):
            raise item
        return item

    return handle


# --- time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-08-24T20:48:55.8916655Z", datetime(2023, 8, 24, 20, 48, 55, 891665, timezone.utc)),
        ("2023-08-24T20:48:55Z", datetime(2023, 8, 24, 20, 48, 55, tzinfo=timezone.utc)),
        ("2023-08-24T22:48:55.5+02:00", datetime(2023, 8, 24, 20, 48, 55, 500000, timezone.utc)),
        ("2023-08-24T20:48:55", datetime(2023, 8, 24, 20, 48, 55, tzinfo=timezone.utc)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_kudu_time(text: str | None, expected: datetime | None) -> None:
    assert parse_kudu_time(text) == expected


def test_backoff_schedule() -> None:
    delays = list(itertools.islice(Backoff(initial=1, maximum=5).delays(), 7))
    assert delays == [1, 1.5, 2.25, 3.375, 5, 5, 5]


def test_retry_after() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Fri, 02 Jan 2026 03:04:15 GMT", now=NOW) == 10.0


def test_deadline_never_sleeps_past_its_end() -> None:
    fake = FakeClock()
    deadline = Deadline(fake.clock, 3)
    deadline.sleep(2)
    deadline.sleep(2)
    assert fake.sleeps == [2, 1]
    assert deadline.expired()


# --- records ------------------------------------------------------------------------------


def record(status: int, id: str = "a" * 32, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "status": status,
        "status_text": "",
        "complete": status in (3, 4),
        "deployer": "funcpub",
        "received_time": "2026-01-02T03:04:06.1234567Z",
        **extra,
    }


def test_parse_record_rejects_junk() -> None:
    with pytest.raises(DeployError, match="without id/status"):
        parse_record({"message": "hi"})


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        (record(1), True),
        (record(1, received_time="2026-01-02T03:03:50Z"), True),  # within the clock skew
        (record(4, received_time="2026-01-02T02:00:00Z"), False),  # an older deployment
        (record(1, deployer="az_cli_functions"), False),
        (record(0, id="temp-1a2b3c4d"), False),
        (record(3, id="temp-1a2b3c4d"), True),  # failed before the real record existed
    ],
)
def test_is_ours(raw: dict[str, Any], ours: bool) -> None:
    assert is_ours(parse_record(raw), NOW) is ours


# --- upload -------------------------------------------------------------------------------


@pytest.fixture
def zip_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.zip"
    path.write_bytes(b"PK" + bytes(600_000))
    return path


ACCEPTED = response(202, headers={"SCM-DEPLOYMENT-ID": "b" * 32, "Location": "https://x/latest"})
CONFLICT = response(409, b"There is a deployment currently in progress.", {"Retry-After": "1"})


def upload(
    scm: FakeScm, path: Path, fake: FakeClock, timing: Timing | None = None
) -> UploadReceipt:
    progress: list[tuple[int, int]] = []
    receipt = upload_zip(
        scm,
        path,
        timing=timing or Timing(),
        clock=fake.clock,
        on_progress=lambda s, t: progress.append((s, t)),
    )
    assert progress[-1] == (path.stat().st_size, path.stat().st_size)
    return receipt


def test_upload_waits_out_conflicts(zip_file: Path) -> None:
    fake = FakeClock()
    scm = FakeScm(sequence(CONFLICT, CONFLICT, ACCEPTED))
    receipt = upload(scm, zip_file, fake)
    assert receipt.tracking_id == "b" * 32
    assert fake.sleeps == [1, 1]
    assert scm.bodies == [zip_file.read_bytes()] * 3
    assert scm.calls[0] == (
        "POST",
        "/api/zipdeploy?isAsync=true&deployer=funcpub&trackDeploymentProgress=true",
    )


def test_upload_gives_up_on_a_lasting_conflict(zip_file: Path) -> None:
    fake = FakeClock()
    scm = FakeScm(lambda _m, _p: response(409, b"There is a deployment currently in progress."))
    timing = Timing(conflict_budget=20, conflict=Backoff(initial=5, maximum=5))
    with pytest.raises(DeployError) as info:
        upload_zip(scm, zip_file, timing=timing, clock=fake.clock, on_progress=lambda s, t: None)
    assert "another deployment is still running" in info.value.message
    assert info.value.hint is not None
    assert "https://scm.test/api/deployments/latest" in info.value.hint
    assert sum(fake.sleeps) == 20


def test_run_from_package_url_conflict_is_not_retried(zip_file: Path) -> None:
    text = b"Run-From-Zip is set to a remote URL using WEBSITE_RUN_FROM_PACKAGE or WEBSITE_USE_ZIP"
    scm = FakeScm(sequence(response(409, text)))
    with pytest.raises(DeployError, match="Run-From-Zip") as info:
        upload_zip(
            scm, zip_file, timing=Timing(), clock=FakeClock().clock, on_progress=lambda s, t: None
        )
    assert "WEBSITE_RUN_FROM_PACKAGE" in (info.value.hint or "")


def test_upload_retries_server_errors_a_bounded_number_of_times(zip_file: Path) -> None:
    fake = FakeClock()
    scm = FakeScm(sequence(response(503), ACCEPTED))
    assert upload(scm, zip_file, fake).tracking_id == "b" * 32
    assert fake.sleeps == [2]
    failing = FakeScm(lambda _m, _p: response(500, b"There is not enough space on the disk"))
    with pytest.raises(DeployError, match="HTTP 500: There is not enough space"):
        upload_zip(
            failing, zip_file, timing=Timing(), clock=fake.clock, on_progress=lambda s, t: None
        )
    assert len(failing.calls) == Timing().upload_attempts


def test_upload_retries_connection_errors_before_the_body_was_sent(zip_file: Path) -> None:
    class Broken(FakeScm):
        def request(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
            self.calls.append((method, path_or_url))
            reader = kwargs["body"]()
            if len(self.calls) == 1:
                reader.read(1000)  # the connection broke early
                raise requests.ConnectionError("reset")
            reader.read(-1)
            return ACCEPTED

    fake = FakeClock()
    assert upload(Broken(sequence()), zip_file, fake).tracking_id == "b" * 32
    assert fake.sleeps == [2]


def test_a_connection_error_after_the_whole_body_looks_for_the_deployment(zip_file: Path) -> None:
    just_now = datetime.now(timezone.utc).isoformat()
    started = record(0, id="temp-1a2b3c4d", received_time=just_now)
    scm = FakeScm(sequence(requests.ConnectionError("read timed out"), response(202, started)))
    receipt = upload_zip(
        scm,
        zip_file,
        timing=Timing(),
        clock=FakeClock().clock,
        on_progress=lambda s, t: None,
        previous="f" * 32,
    )
    assert receipt.tracking_id is None
    assert receipt.location is None
    assert receipt.previous == "f" * 32
    assert [path for _, path in scm.calls][1:] == [LATEST]


def test_a_lost_answer_with_no_new_deployment_is_sent_again(zip_file: Path) -> None:
    just_now = datetime.now(timezone.utc).isoformat()
    before = record(4, id="f" * 32, received_time=just_now)  # the one /latest showed before
    scm = FakeScm(
        sequence(requests.ConnectionError("reset"), response(200, before), ACCEPTED),
    )
    fake = FakeClock()
    receipt = upload_zip(
        scm, zip_file, timing=Timing(), clock=fake.clock, on_progress=lambda s, t: None,
        previous="f" * 32,
    )  # fmt: skip
    assert receipt.tracking_id == "b" * 32
    assert [method for method, _ in scm.calls] == ["POST", "GET", "POST"]
    assert fake.sleeps == [2]


def test_upload_4xx_is_not_retried(zip_file: Path) -> None:
    scm = FakeScm(sequence(response(400, b"bad zip")))
    with pytest.raises(DeployError, match="HTTP 400: bad zip"):
        upload_zip(
            scm, zip_file, timing=Timing(), clock=FakeClock().clock, on_progress=lambda s, t: None
        )


def test_progress_reader_reports_in_steps() -> None:
    seen: list[tuple[int, int]] = []
    reader = ProgressReader(
        io.BytesIO(bytes(1_000_000)), 1_000_000, lambda s, t: seen.append((s, t))
    )
    assert len(reader) == 1_000_000
    while reader.read(16384):
        pass
    assert reader.done
    assert seen[-1] == (1_000_000, 1_000_000)
    assert len(seen) == 4  # three 256 KiB steps and the end


# --- auth fallback ------------------------------------------------------------------------


class AuthScm(ScmClient):
    """Answers 401 to bearer tokens, 200 to Basic."""

    def __init__(self, basic: tuple[str, str] | None, status_for_basic: int = 200) -> None:
        self.warnings: list[str] = []
        super().__init__(
            "scm.test",
            bearer=lambda: "t",
            basic=lambda: basic,
            verify=True,
            timing=Timing(),
            on_fallback=self.warnings.append,
        )
        self.status_for_basic = status_for_basic
        self.bodies = 0

    def _send(
        self, method: str, path_or_url: str, body: Any, headers: Any, timeout: Any
    ) -> requests.Response:
        if body:
            body()
            self.bodies += 1
        return response(401 if self.scheme == "bearer" else self.status_for_basic)


def test_bearer_refused_falls_back_to_basic_when_allowed() -> None:
    scm = AuthScm(("$app", "pw"))
    assert scm.request("POST", "/api/zipdeploy", body=lambda: b"zip").status_code == 200
    assert scm.scheme == "basic"
    assert scm.bodies == 2  # the body was produced again for the retry
    assert scm.warnings


def test_bearer_refused_and_basic_disabled_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="basic auth is off"):
        AuthScm(None).request("GET", LATEST)


def test_forbidden_names_the_role() -> None:
    with pytest.raises(AuthError) as info:
        AuthScm(("$app", "pw"), status_for_basic=403).request("GET", LATEST)
    assert "Website Contributor" in (info.value.hint or "")


def test_urls_from_kudu_stay_on_the_scm_host() -> None:
    scm = FakeScm(sequence())
    assert scm.url("https://internal.host:123/api/deployments/x/log?a=1") == (
        "https://scm.test/api/deployments/x/log?a=1"
    )
    assert scm.url("/api/settings") == "https://scm.test/api/settings"


# --- tracking and polling -----------------------------------------------------------------


def test_deployment_id_from_the_location_record() -> None:
    started = datetime(2026, 1, 2, 3, 4, 0, tzinfo=timezone.utc)
    scm = FakeScm(
        sequence(
            response(404, b"Deployment 'latest' not found."),
            response(202, record(0, id="temp-12345678")),
            response(202, record(1, id="c" * 32)),
        )
    )
    receipt = UploadReceipt(
        tracking_id=None,
        location="https://x/api/deployments/latest?deployer=funcpub",
        started=started,
    )
    fake = FakeClock()
    assert find_deployment_id(scm, receipt, timing=Timing(), clock=fake.clock) == "c" * 32
    assert scm.calls[0][1].startswith("https://x/api/deployments/latest")
    assert fake.sleeps == [1, 1.5]


def test_the_tracking_header_is_used_only_when_kudu_knows_it() -> None:
    started = datetime(2026, 1, 2, 3, 4, 0, tzinfo=timezone.utc)
    tracking = "0f8fad5b-d9cb-469f-a165-70867728950e"
    scm = FakeScm(
        sequence(response(404, b"Deployment not found."), response(202, record(1, id="d" * 32)))
    )
    receipt = UploadReceipt(tracking_id=tracking, location=None, started=started)
    assert find_deployment_id(scm, receipt, timing=Timing(), clock=FakeClock().clock) == "d" * 32
    assert [path for _, path in scm.calls] == [f"/api/deployments/{tracking}", LATEST]
    known = FakeScm(sequence(response(200, record(1, id="e" * 32))))
    assert find_deployment_id(known, receipt, timing=Timing(), clock=FakeClock().clock) == "e" * 32


def test_an_older_latest_is_never_taken_for_ours() -> None:
    old = record(4, received_time=(NOW - timedelta(hours=1)).isoformat())
    scm = FakeScm(lambda _m, _p: response(200, old))
    receipt = UploadReceipt(tracking_id=None, location=None, started=NOW)
    with pytest.raises(DeployError, match="could not find the deployment"):
        find_deployment_id(scm, receipt, timing=Timing(not_found_grace=10), clock=FakeClock().clock)


class Site:
    """A deployment that moves through states, with a growing log."""

    def __init__(
        self,
        states: list[int | None],
        log: list[dict[str, Any]],
        details: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.states = iter(states)
        self.log = log
        self.details = details
        self.last: int | None = None

    def __call__(self, method: str, path: str) -> requests.Response:
        if path.endswith("/log"):
            return response(200, self.log)
        for key, children in self.details.items():
            if path.endswith(key):
                return response(200, children)
        state = next(self.states, self.last)
        self.last = state
        return (
            response(404, b"Deployment not found")
            if state is None
            else response(200, record(state))
        )


def entry(id: str, message: str, details: str | None = None) -> dict[str, Any]:
    return {"id": id, "message": message, "type": 0, "log_time": "t", "details_url": details}


def follow(site: Site, fake: FakeClock, timeout: float = 900) -> tuple[list[str], Any]:
    lines: list[str] = []
    scm = FakeScm(site)
    logs = LogFollower(scm, "a" * 32, lines.append)
    try:
        result: Any = wait_for_deployment(
            scm, "a" * 32, timeout=timeout, timing=Timing(), clock=fake.clock, logs=logs
        )
    except DeployError as error:
        result = error
    return lines, result


def test_success_after_transient_404s_streams_each_line_once() -> None:
    site = Site(
        [None, None, 0, 1, 1, 4],
        [
            entry("1", "Updating submodules."),
            entry("2", "Running oryx build...", "https://other/api/deployments/a/log/2"),
        ],
        {"/log/2": [entry("c1", "Command: oryx build"), entry("c2", "pip install done")]},
    )
    fake = FakeClock()
    lines, result = follow(site, fake)
    assert result.status == 4
    assert lines == [
        "Updating submodules.",
        "Running oryx build...",
        "  Command: oryx build",
        "  pip install done",
    ]
    assert fake.sleeps == [1, 1.5, 2.25, 3.375, 5]


def test_failure_quotes_the_log_tail_with_details() -> None:
    site = Site(
        [1, 3],
        [
            entry("1", "Running oryx build...", "https://scm.test/api/deployments/a/log/1"),
            entry("2", "Deployment Failed."),
        ],
        {
            "/log/1": [
                entry("e", "ERROR: No matching distribution found for nope==1 | Exit code: 1")
            ]
        },
    )
    lines, result = follow(site, FakeClock())
    assert isinstance(result, DeployError)
    assert "failed" in result.message
    assert "No matching distribution found for nope==1" in result.message
    assert "Deployment Failed." in result.message
    assert lines.count("Deployment Failed.") == 1


def test_a_failed_build_quotes_pips_errors_even_beyond_the_tail() -> None:
    pip = [
        "[10:00:01+0000] ERROR: Could not find a version that satisfies the requirement nope==1",
        "[10:00:01+0000] ERROR: No matching distribution found for nope==1",
    ]
    oryx = "\n".join(pip) + " | Exit code: 1 | Please review your requirements.txt | More ..."
    details = [entry(f"p{i}", line) for i, line in enumerate(pip)]
    details += [entry(f"n{i}", f"noise {i}") for i in range(30)] + [entry("o", oryx)]
    site = Site(
        [1, 3],
        [entry("1", "Running oryx build...", "https://scm.test/api/deployments/a/log/1")],
        {"/log/1": details},
    )
    _, result = follow(site, FakeClock())
    assert isinstance(result, DeployError)
    assert (
        "the remote build failed:\n"
        "  ERROR: Could not find a version that satisfies the requirement nope==1\n"
        "  ERROR: No matching distribution found for nope==1\n"
        "last log lines:"
    ) in result.message
    assert result.hint is not None
    assert result.hint.startswith("fix requirements.txt, or where the app's pip looks")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("[12:00:00+0000] ERROR: No matching distribution found for x", "ERROR: No matching "
         "distribution found for x"),
        ("  ERROR: boom | Exit code: 1 | Please review your requirements.txt", "ERROR: boom"),
        ("[12:00:00+0000] Collecting x", None),
        ("An ERROR: not at the start", None),
    ],
)  # fmt: skip
def test_build_error_lines(line: str, error: str | None) -> None:
    assert build_error(line) == error


@pytest.mark.parametrize("status", [-1, 5, 6, 42])
def test_other_final_states_are_failures(status: int) -> None:
    if status == 42:
        _, result = follow(Site([42], [], {}), FakeClock(), timeout=10)
        assert isinstance(result, DeployError)
        assert "did not finish within 10 s" in result.message
        return
    _, result = follow(Site([status], [], {}), FakeClock())
    assert isinstance(result, DeployError)


def test_timeout_is_never_success() -> None:
    fake = FakeClock()
    _, result = follow(Site([1], [], {}), fake, timeout=30)
    assert isinstance(result, DeployError)
    assert "did not finish within 30 s (last status: Building)" in result.message
    assert sum(fake.sleeps) == 30


def test_a_deployment_that_never_appears() -> None:
    _, result = follow(Site([], [], {}), FakeClock())
    assert isinstance(result, DeployError)
    assert "does not exist" in result.message


def test_polling_survives_network_errors() -> None:
    states: Iterator[requests.Response | Exception] = iter(
        [requests.ConnectionError("reset"), response(502), response(200, record(4))]
    )

    def handler(_method: str, path: str) -> requests.Response:
        if path.endswith("/log"):
            return response(404)
        item = next(states)
        if isinstance(item, Exception):
            raise item
        return item

    scm = FakeScm(handler)
    logs = LogFollower(scm, "a" * 32, lambda _line: None)
    result = wait_for_deployment(
        scm, "a" * 32, timeout=60, timing=Timing(), clock=FakeClock().clock, logs=logs
    )
    assert result.status == 4


def test_scm_settings_wait() -> None:
    scm = FakeScm(
        sequence(
            response(503),
            response(200, {"SCM_DO_BUILD_DURING_DEPLOYMENT": "true"}),
            response(200, {"SCM_DO_BUILD_DURING_DEPLOYMENT": "false", "OTHER": "x"}),
        )
    )
    expected = {"SCM_DO_BUILD_DURING_DEPLOYMENT": "false", "WEBSITE_RUN_FROM_PACKAGE": None}
    assert wait_for_scm_settings(scm, expected, timing=Timing(), clock=FakeClock().clock)
    assert not wait_for_scm_settings(
        FakeScm(sequence(response(404))), expected, timing=Timing(), clock=FakeClock().clock
    )
