"""The app's SCM (Kudu) site: zip deploy, deployment tracking and logs, with `requests`.

Auth is an Entra bearer token for the ARM audience (what Core Tools and azd send), so it works
with basic auth disabled; Basic with the publishing credentials is only a fallback when the SCM
site refuses the token and the app's policy allows Basic. A token is asked for per request (the
credential caches it), so a long deployment outlives the first token.
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from funcpub import __version__
from funcpub.deploy.auth import Verify, untrusted
from funcpub.deploy.timing import Clock, Deadline, Timing, retry_after
from funcpub.errors import AuthError, DeployError

AuthScheme = Literal["bearer", "basic"]
BasicCredentials = Callable[[], "tuple[str, str] | None"]

DEPLOYER: Final = "funcpub"
ZIPDEPLOY: Final = f"/api/zipdeploy?isAsync=true&deployer={DEPLOYER}&trackDeploymentProgress=true"
LATEST: Final = "/api/deployments/latest"
CONNECT_TIMEOUT: Final = 30.0
PROGRESS_STEP: Final = 256 * 1024
TAIL_LINES: Final = 20
BUILD_ERROR_LINES: Final = 10
# Oryx stamps each line of pip's output: `[12:34:56+0000] ERROR: No matching distribution ...`
_OUTPUT_STAMP: Final = re.compile(r"\[\d\d:\d\d:\d\d[+-]\d{4}\] ")
# A deployment found through /latest must have arrived after our upload began; Kudu's clock
# and ours may disagree by this much.
CLOCK_SKEW: Final = timedelta(seconds=30)
STATUS_NAMES: Final[Mapping[int, str]] = {
    -1: "Cancelled",
    0: "Pending",
    1: "Building",
    2: "Deploying",
    3: "Failed",
    4: "Success",
    5: "Conflict",
    6: "PartialSuccess",
}
SUCCESS: Final = 4
FAILED: Final = 3
TERMINAL: Final = frozenset({-1, 3, 4, 5, 6})  # Kudu uses 3/4; Flex adds -1, 5 and 6
BUILD_HINT: Final = (
    "fix requirements.txt, or where the app's pip looks for packages: the PIP_INDEX_URL,"
    " PIP_EXTRA_INDEX_URL or PIP_FIND_LINKS app setting (--app-setting KEY=VALUE)"
)
RBAC_HINT: Final = (
    "deploying needs Microsoft.Web/sites/publish/Action on the app"
    " (Website Contributor, Contributor or Owner)"
)
_KUDU_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


# --- time and records ---------------------------------------------------------------------


def parse_kudu_time(value: object) -> datetime | None:
    """An aware UTC datetime from Kudu's ISO times (7 fraction digits, `Z`); None if unparsable."""
    if not isinstance(value, str):
        return None
    match = _KUDU_TIME.match(value.strip())
    if not match:
        return None
    base, fraction, zone = match.groups()
    text = base + (f".{(fraction or '0')[:6]:0<6}") + _zone(zone)
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def _zone(zone: str | None) -> str:
    if not zone or zone == "Z":
        return "+00:00"
    return zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"


@dataclass(frozen=True, kw_only=True)
class DeploymentRecord:
    """A Kudu deployment record (GET /api/deployments/{id})."""

    id: str
    status: int
    status_text: str
    complete: bool
    deployer: str
    received_time: datetime | None

    @property
    def status_name(self) -> str:
        """Success, Failed, ... as Kudu names the status."""
        return STATUS_NAMES.get(self.status, f"unknown ({self.status})")

    @property
    def terminal(self) -> bool:
        """Whether the deployment has ended (successfully or not)."""
        return self.status in TERMINAL


def parse_record(raw: Mapping[str, Any]) -> DeploymentRecord:
    """A DeploymentRecord from Kudu JSON; DeployError if it is not one."""
    try:
        status = int(raw["status"])
        record_id = str(raw["id"])
    except (KeyError, TypeError, ValueError):
        msg = f"Kudu returned a deployment record without id/status: {str(raw)[:200]}"
        raise DeployError(msg) from None
    return DeploymentRecord(
        id=record_id,
        status=status,
        status_text=str(raw.get("status_text") or ""),
        complete=bool(raw.get("complete")),
        deployer=str(raw.get("deployer") or ""),
        received_time=parse_kudu_time(raw.get("received_time")),
    )


def is_ours(record: DeploymentRecord, started: datetime, previous: str | None = None) -> bool:
    """Whether a record from /latest is the deployment our upload started.

    `previous` is the record /latest showed before the upload: never ours, however recent.
    """
    if not _is_new(record, started, previous):
        return False
    # KuduLite's temp-xxxxxxxx record is replaced by the real one, unless it failed first.
    return not record.id.startswith("temp-") or record.terminal


def _is_new(record: DeploymentRecord, started: datetime, previous: str | None) -> bool:
    """A funcpub deployment received since `started` (temporary records included)."""
    if record.id == previous:
        return False
    if record.deployer and record.deployer.lower() != DEPLOYER:
        return False
    return record.received_time is not None and record.received_time >= started - CLOCK_SKEW


# --- HTTP ---------------------------------------------------------------------------------


class _Bearer(AuthBase):
    """Authorization: Bearer <token> (an explicit auth also keeps ~/.netrc out)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def transport_error(host: str, error: requests.RequestException) -> DeployError:
    """A DeployError for a network failure talking to `host`."""
    if untrusted(error):
        msg = f"TLS verification of {host} failed: {_first_line(error)}"
        hint = "set REQUESTS_CA_BUNDLE to the CA bundle that signed the host's certificate"
        return DeployError(msg, hint=hint)
    return DeployError(f"cannot reach {host}: {_first_line(error)}", hint="check the network")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


class ScmClient:
    """Requests to one SCM site, authenticated, on the same host only."""

    def __init__(
        self,
        host: str,
        *,
        bearer: Callable[[], str],
        basic: BasicCredentials,
        verify: Verify,
        timing: Timing,
        on_fallback: Callable[[str], None] = lambda _message: None,
        session: requests.Session | None = None,
    ) -> None:
        self.host = host
        self.base = f"https://{host}"
        self._bearer = bearer
        self._basic = basic
        self._verify = verify
        self._timing = timing
        self._on_fallback = on_fallback
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = f"funcpub/{__version__}"
        self.scheme: AuthScheme = "bearer"
        self._basic_auth: HTTPBasicAuth | None = None

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def url(self, path_or_url: str) -> str:
        """An absolute URL on this SCM host; URLs Kudu returns for another host keep their path.

        Kudu builds `url`/`log_url`/`details_url` from the host it saw, which behind a front end
        can differ; the token must never go anywhere but the SCM host.
        """
        parts = urlsplit(path_or_url)
        return urlunsplit(("https", self.host, parts.path or "/", parts.query, ""))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send with the current scheme; a refused bearer token falls back to Basic once.

        `body` is a factory, so a retried request gets a fresh stream.
        """
        response = self._send(method, path_or_url, body, headers, timeout)
        if response.status_code == 401 and self.scheme == "bearer" and self._switch_to_basic():
            response.close()
            response = self._send(method, path_or_url, body, headers, timeout)
        if response.status_code == 401:
            raise self._unauthorized()
        if response.status_code == 403:
            msg = f"the SCM site {self.host} refused access (HTTP 403)"
            raise AuthError(msg, hint=RBAC_HINT)
        return response

    def get_json(self, path_or_url: str) -> tuple[int, Any]:
        """(status, parsed JSON or None) of a GET."""
        response = self.request("GET", path_or_url)
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        return response.status_code, data

    def _send(
        self,
        method: str,
        path_or_url: str,
        body: Callable[[], Any] | None,
        headers: Mapping[str, str] | None,
        timeout: float | None,
    ) -> requests.Response:
        auth: AuthBase = (
            self._basic_auth
            if self.scheme == "basic" and self._basic_auth
            else _Bearer(self._bearer())
        )
        all_headers = {
            "x-ms-client-request-id": str(uuid.uuid4()),
            "Cache-Control": "no-cache",
            **(headers or {}),
        }
        return self._session.request(
            method,
            self.url(path_or_url),
            data=body() if body else None,
            headers=all_headers,
            auth=auth,
            verify=self._verify,
            timeout=(CONNECT_TIMEOUT, timeout or self._timing.request_timeout),
        )

    def _switch_to_basic(self) -> bool:
        """Use Basic from now on, if the app allows it."""
        credentials = self._basic()
        if credentials is None:
            return False
        self._basic_auth = HTTPBasicAuth(*credentials)
        self.scheme = "basic"
        self._on_fallback(
            "the SCM site refused the bearer token; using the publishing credentials (Basic)"
        )
        return True

    def _unauthorized(self) -> AuthError:
        if self.scheme == "basic":
            msg = (
                f"the SCM site {self.host} refused the bearer token and the publishing credentials"
            )
            return AuthError(msg, hint=RBAC_HINT)
        msg = f"the SCM site {self.host} refused the bearer token (HTTP 401) and basic auth is off"
        hint = "check the signed-in identity has " + RBAC_HINT.removeprefix("deploying needs ")
        return AuthError(msg, hint=hint)


# --- upload -------------------------------------------------------------------------------


class ProgressReader:
    """A read-only stream over an open file that reports bytes read through a callback."""

    def __init__(
        self, stream: IO[bytes], total: int, on_progress: Callable[[int, int], None]
    ) -> None:
        self._stream = stream
        self._total = total
        self._on_progress = on_progress
        self.sent = 0
        self._reported = 0

    def __len__(self) -> int:
        """Lets requests send a Content-Length instead of chunked encoding."""
        return self._total

    @property
    def done(self) -> bool:
        """Whether the whole file was read (handed to the connection)."""
        return self.sent >= self._total

    def read(self, size: int = -1) -> bytes:
        """Read and report."""
        chunk = self._stream.read(size)
        self.sent += len(chunk)
        if self.sent - self._reported >= PROGRESS_STEP or (chunk and self.done):
            self._reported = self.sent
            self._on_progress(self.sent, self._total)
        return chunk


@dataclass(frozen=True, kw_only=True)
class UploadReceipt:
    """What Kudu told us when it accepted the zip."""

    tracking_id: str | None  # SCM-DEPLOYMENT-ID: ARM deploymentStatus id, not the record id
    location: str | None  # Location: .../api/deployments/latest?deployer=...&time=...
    started: datetime  # UTC, when the accepted upload began
    previous: str | None = None  # the record /latest showed before: never ours
    deployment_id: str | None = None  # Flex's OneDeploy answers with the record id itself


def upload_zip(
    scm: ScmClient,
    path: Path,
    *,
    timing: Timing,
    clock: Clock,
    on_progress: Callable[[int, int], None],
    previous: str | None = None,
    endpoint: str = ZIPDEPLOY,
) -> UploadReceipt:
    """POST the zip to `endpoint` (async zipdeploy, or Flex's OneDeploy), waiting out 409s and
    retrying 429/5xx/network errors.

    Re-sending is safe: each accepted upload is a new, complete deployment. `previous` is the
    id /latest showed before the upload (see `check_access`), so it is never taken for ours.
    """
    size = path.stat().st_size
    conflicts = _ConflictWait(scm.host, timing, clock)
    failures = _Failures(scm.host, timing, clock)
    with path.open("rb") as stream:
        while True:
            started = datetime.now(timezone.utc)
            body = _ZipBody(stream, size, on_progress)
            try:
                response = _post_zip(scm, endpoint, body, size, timing)
            except requests.RequestException as error:
                if body.sent_all and _started_anyway(scm, error, started, previous):
                    return UploadReceipt(
                        tracking_id=None, location=None, started=started, previous=previous
                    )
                failures.network(error)
                continue
            with response:
                if response.status_code in (200, 202):
                    return _receipt(response, started, previous)
                if response.status_code == 409:
                    conflicts.wait(response)
                elif response.status_code >= 500 or response.status_code == 429:
                    failures.server(response)  # throttled: not accepted, so safe to send again
                else:
                    raise _upload_refused(scm.host, response)


def _started_anyway(
    scm: ScmClient, error: requests.RequestException, started: datetime, previous: str | None
) -> bool:
    """After the whole zip went out and the answer was lost: did Kudu start a deployment?

    Kudu records a deployment before it answers, so none on /latest means the upload was
    lost and may be sent again (a connection reset while Kudu still read the body).
    """
    if untrusted(error):
        return False
    record = _fetch_record(scm, LATEST)
    return record is not None and _is_new(record, started, previous)


class _ZipBody:
    """A fresh reader over the open zip for every send (auth fallback and retries re-send)."""

    def __init__(
        self, stream: IO[bytes], size: int, on_progress: Callable[[int, int], None]
    ) -> None:
        self._stream = stream
        self._size = size
        self._on_progress = on_progress
        self.last: ProgressReader | None = None

    def __call__(self) -> ProgressReader:
        self._stream.seek(0)
        self.last = ProgressReader(self._stream, self._size, self._on_progress)
        return self.last

    @property
    def sent_all(self) -> bool:
        """Whether the last send read the whole file."""
        return self.last is not None and self.last.done


class _Failures:
    """Bounded retries of an upload that failed with a network error or a 5xx."""

    def __init__(self, host: str, timing: Timing, clock: Clock) -> None:
        self._host = host
        self._attempts = timing.upload_attempts
        self._delays = timing.retry.delays()
        self._clock = clock
        self._count = 0

    def network(self, error: requests.RequestException) -> None:
        """Sleep before the next attempt, or raise when out of attempts (or TLS failed)."""
        self._count += 1
        if self._count >= self._attempts or untrusted(error):
            raise transport_error(self._host, error) from None
        self._clock.sleep(next(self._delays))

    def server(self, response: requests.Response) -> None:
        """Sleep before the next attempt (Retry-After wins), or raise when out of attempts."""
        self._count += 1
        if self._count >= self._attempts:
            raise _upload_refused(self._host, response)
        delay = retry_after(response.headers.get("Retry-After"))
        self._clock.sleep(next(self._delays) if delay is None else delay)


def check_access(scm: ScmClient) -> str | None:
    """A cheap authenticated GET, so a refused token switches to Basic before the upload.

    (A server that answers 401 while the body is still being sent often looks like a broken
    connection to the client, which would hide the 401.) Returns the id of the deployment
    /latest shows now: the one that is certainly not ours.
    """
    return latest_id(scm)


def latest_id(scm: ScmClient) -> str | None:
    """The id of the record at /api/deployments/latest; None if none (or unreachable)."""
    record = _fetch_record(scm, LATEST)  # network errors: the upload retries them itself
    return record.id if record is not None else None


def _post_zip(
    scm: ScmClient,
    endpoint: str,
    body: Callable[[], ProgressReader],
    size: int,
    timing: Timing,
) -> requests.Response:
    headers = {"Content-Type": "application/zip", "Content-Length": str(size)}
    return scm.request("POST", endpoint, body=body, headers=headers, timeout=timing.upload_timeout)


def _receipt(response: requests.Response, started: datetime, previous: str | None) -> UploadReceipt:
    return UploadReceipt(
        tracking_id=response.headers.get("SCM-DEPLOYMENT-ID") or None,
        location=response.headers.get("Location") or None,
        started=started,
        previous=previous,
        deployment_id=_id_in_body(response),
    )


def _id_in_body(response: requests.Response) -> str | None:
    """Flex answers its publish with the deployment id as a JSON string; zipdeploy with none."""
    try:
        value = response.json() if response.content else None
    except ValueError:
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _upload_refused(host: str, response: requests.Response) -> DeployError:
    text = response.text.strip()[:500]
    status = response.status_code
    msg = f"the SCM site {host} refused the zip: HTTP {status}"
    if status == 413:
        hint = "the zip is larger than the SCM site takes; leave big files out (.funcignore)"
    elif status >= 500:
        hint = f"it kept failing (retried); check https://{host}{LATEST}, then publish again"
    else:
        hint = (
            f"Kudu refused this upload as quoted; its deployments: https://{host}/api/deployments"
        )
    return DeployError(msg + (f": {text}" if text else ""), hint=hint)


class _ConflictWait:
    """409 'deployment in progress': wait (Retry-After or backoff) within a budget, then fail."""

    def __init__(self, host: str, timing: Timing, clock: Clock) -> None:
        self._host = host
        self._deadline = Deadline(clock, timing.conflict_budget)
        self._delays = timing.conflict.delays()
        self._budget = timing.conflict_budget

    def wait(self, response: requests.Response) -> None:
        text = response.text.strip()
        if "run-from-zip" in text.lower() or "run_from_package" in text.lower():
            msg = f"the SCM site {self._host} refused the zip (HTTP 409): {text[:300]}"
            hint = "remove the WEBSITE_RUN_FROM_PACKAGE URL setting (or use --build remote)"
            raise DeployError(msg, hint=hint)
        if self._deadline.expired():
            msg = (
                f"another deployment is still running on {self._host} after waiting"
                f" {self._budget:.0f} s (HTTP 409: {text[:200] or 'Conflict'})"
            )
            hint = f"check it at https://{self._host}{LATEST}, then publish again"
            raise DeployError(msg, hint=hint)
        delay = retry_after(response.headers.get("Retry-After"))
        self._deadline.sleep(next(self._delays) if delay is None else delay)


# --- tracking -----------------------------------------------------------------------------


def find_deployment_id(
    scm: ScmClient, receipt: UploadReceipt, *, timing: Timing, clock: Clock
) -> str:
    """The id of the Kudu deployment record our upload started.

    KuduLite's SCM-DEPLOYMENT-ID header is a tracking id for ARM's deploymentStatus API, not
    the record id (GET /api/deployments/{it} is 404), so it is only used when Kudu knows it.
    Otherwise the record comes from the 202's Location (/api/deployments/latest): the newest
    funcpub record received after the upload began - never an older deployment. Flex names the
    record in its answer: that id is the one (it may 404 for a moment, see wait_for_deployment).
    """
    if receipt.deployment_id:
        return receipt.deployment_id
    if receipt.tracking_id:
        record = _fetch_record(scm, f"/api/deployments/{receipt.tracking_id}")
        if record is not None:
            return record.id
    where = receipt.location or LATEST
    deadline = Deadline(clock, timing.not_found_grace)
    for delay in timing.poll.delays():
        record = _fetch_record(scm, where)
        if record is not None and is_ours(record, receipt.started, receipt.previous):
            return record.id
        if deadline.expired():
            msg = f"could not find the deployment the upload started on {scm.host}"
            hint = f"check https://{scm.host}/api/deployments"
            raise DeployError(msg, hint=hint)
        deadline.sleep(delay)
    raise AssertionError  # pragma: no cover - delays() never ends


def _fetch_record(scm: ScmClient, where: str) -> DeploymentRecord | None:
    """The record at `where`; None while it does not exist yet or the site is unavailable."""
    try:
        status, data = scm.get_json(where)
    except requests.RequestException as error:
        if untrusted(error):
            raise transport_error(scm.host, error) from None
        return None
    if status in (200, 202) and isinstance(data, dict):
        return parse_record(data)
    return None


class LogFollower:
    """Emits each new line of a deployment's log (and its details) once, keeps a tail."""

    def __init__(self, scm: ScmClient, deployment_id: str, emit: Callable[[str], None]) -> None:
        self._scm = scm
        self._path = f"/api/deployments/{deployment_id}/log"
        self._emit = emit
        self._seen: set[str] = set()
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.build_errors: dict[str, None] = {}  # pip's ERROR lines, in order, once each

    def poll(self) -> None:
        """Fetch the log and every entry's details (details keep growing while a step runs)."""
        for entry in self._entries(self._path):
            key = _entry_key(entry)
            self._line(key, entry, indent="")
            if details := entry.get("details_url"):
                for child in self._entries(str(details)):
                    self._line(f"{key}/{_entry_key(child)}", child, indent="  ")

    def _line(self, key: str, entry: Mapping[str, Any], *, indent: str) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        for text in str(entry.get("message") or "").splitlines() or [""]:
            line = indent + text.rstrip()
            self.tail.append(line)
            self._emit(line)
            if (error := build_error(text)) and len(self.build_errors) < BUILD_ERROR_LINES:
                self.build_errors[error] = None

    def _entries(self, where: str) -> list[Mapping[str, Any]]:
        """Log entries at `where`; none while the log does not exist or the site is busy."""
        try:
            status, data = self._scm.get_json(where)
        except requests.RequestException:
            return []
        if status != 200 or not isinstance(data, list):
            return []
        return [entry for entry in data if isinstance(entry, dict)]


def build_error(line: str) -> str | None:
    """The pip error a build log line reports (`ERROR: ...`, without Oryx's stamp and trailer)."""
    text = line.strip()
    if stamp := _OUTPUT_STAMP.match(text):
        text = text[stamp.end() :]
    if not text.startswith("ERROR:"):
        return None
    return text.split(" | Exit code:", 1)[0].rstrip()


def _entry_key(entry: Mapping[str, Any]) -> str:
    if entry.get("id"):
        return str(entry["id"])
    return f"{entry.get('log_time')}|{entry.get('message')}"


def wait_for_deployment(
    scm: ScmClient,
    deployment_id: str,
    *,
    timeout: float,
    timing: Timing,
    clock: Clock,
    logs: LogFollower,
) -> DeploymentRecord:
    """Poll /api/deployments/{id} with backoff until it ends; DeployError unless it succeeded."""
    deadline = Deadline(clock, timeout)
    missing = _NotFoundGrace(clock, timing.not_found_grace)
    record: DeploymentRecord | None = None
    for delay in timing.poll.delays():
        status, record = _poll_once(scm, deployment_id)
        logs.poll()
        if record is not None and record.terminal:
            logs.poll()  # the lines written while the deployment finished
            return check_outcome(record, logs.tail, scm.host, build_errors=tuple(logs.build_errors))
        if missing.exceeded(status):
            msg = f"deployment {deployment_id} does not exist on {scm.host}"
            raise DeployError(msg, hint=f"check https://{scm.host}/api/deployments")
        if deadline.expired():
            raise _timed_out(scm.host, deployment_id, record, timeout)
        deadline.sleep(delay)
    raise AssertionError  # pragma: no cover - delays() never ends


def _poll_once(scm: ScmClient, deployment_id: str) -> tuple[int | None, DeploymentRecord | None]:
    """(HTTP status or None on a network error, the record if there is one)."""
    try:
        status, data = scm.get_json(f"/api/deployments/{deployment_id}")
    except requests.RequestException as error:
        if untrusted(error):
            raise transport_error(scm.host, error) from None
        return None, None
    if status == 200 and isinstance(data, dict):
        return status, parse_record(data)
    return status, None


class _NotFoundGrace:
    """How long the record has answered 404; a new one may be missing for a short while."""

    def __init__(self, clock: Clock, grace: float) -> None:
        self._clock = clock
        self._grace = grace
        self._since: float | None = None

    def exceeded(self, status: int | None) -> bool:
        """Record one poll's status; True once 404s have lasted longer than the grace."""
        if status != 404:
            self._since = None
            return False
        if self._since is None:
            self._since = self._clock.now()
        return self._clock.now() - self._since > self._grace


def check_outcome(
    record: DeploymentRecord,
    tail: deque[str] | list[str],
    host: str,
    *,
    build_errors: tuple[str, ...] = (),
) -> DeploymentRecord:
    """`record` if it succeeded, else DeployError with pip's errors and the log tail."""
    if record.status == SUCCESS:
        return record
    lines = "\n".join(f"  {line}" for line in tail) or "  (no log lines)"
    text = f": {record.status_text}" if record.status_text else ""
    msg = f"deployment {record.id} {record.status_name.lower()}{text}"
    if build_errors:
        msg += "\nthe remote build failed:\n" + "\n".join(f"  {line}" for line in build_errors)
    msg += f"\nlast log lines:\n{lines}"
    hint = f"full log: https://{host}/api/deployments/{record.id}/log"
    if build_errors:
        hint = f"{BUILD_HINT}; {hint}"
    raise DeployError(msg, hint=hint)


def _timed_out(
    host: str, deployment_id: str, record: DeploymentRecord | None, timeout: float
) -> DeployError:
    state = record.status_name if record else "unknown"
    msg = f"deployment {deployment_id} did not finish within {timeout:.0f} s (last status: {state})"
    hint = f"it may still be running: check https://{host}/api/deployments/{deployment_id}"
    return DeployError(msg, hint=hint + "; raise the limit with --timeout")


# --- SCM settings -------------------------------------------------------------------------


def wait_for_scm_settings(
    scm: ScmClient, expected: Mapping[str, str | None], *, timing: Timing, clock: Clock
) -> bool:
    """Wait until the SCM site runs with `expected` app settings (None = absent).

    An app-settings PUT restarts the SCM container; until then Kudu builds with the old values.
    False when the site has no /api/settings to check.
    """
    deadline = Deadline(clock, timing.scm_settings_timeout)
    for delay in timing.poll.delays():
        try:
            status, data = scm.get_json("/api/settings")
        except requests.RequestException as error:
            if untrusted(error):
                raise transport_error(scm.host, error) from None
            status, data = None, None
        if status == 404:
            return False
        if status == 200 and isinstance(data, dict) and _has_settings(data, expected):
            return True
        if deadline.expired():
            msg = f"the SCM site {scm.host} did not pick up the new app settings in time"
            hint = "the settings are changed in Azure; publish again once the site has restarted"
            raise DeployError(msg, hint=hint)
        deadline.sleep(delay)
    raise AssertionError  # pragma: no cover - delays() never ends


def _has_settings(actual: Mapping[str, Any], expected: Mapping[str, str | None]) -> bool:
    return all(actual.get(key) == value for key, value in expected.items())


@contextmanager
def scm_client(host: str, **kwargs: Any) -> Iterator[ScmClient]:
    """A ScmClient closed on exit."""
    client = ScmClient(host, **kwargs)
    try:
        yield client
    finally:
        client.close()
