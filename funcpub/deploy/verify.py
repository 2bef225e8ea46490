"""After the deploy: did the host index the functions the plan expects?

Core Tools counts zero indexed functions as success (an import error in function_app.py, or a
dependency missing from the package, silently leaves the app empty). funcpub polls the ARM
function list and the host's /admin/host/status until the planned functions appear, and fails
quoting the host's own errors when they do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from funcpub.deploy.auth import Verify, untrusted
from funcpub.deploy.timing import Clock, Deadline, Timing
from funcpub.errors import AuthError, DeployError, FuncpubError

PACKAGE_SETTING: Final = "WEBSITE_RUN_FROM_PACKAGE"

CONNECT_TIMEOUT: Final = 30.0
ERRORS_SHOWN: Final = 5


@dataclass(frozen=True, kw_only=True)
class DeployedFunction:
    """A function as Azure lists it after the deploy."""

    name: str
    trigger: str | None  # e.g. httpTrigger, timerTrigger
    url: str | None  # invoke URL of HTTP functions (with ?code= only when keys were asked for)


@dataclass(frozen=True, kw_only=True)
class HostStatus:
    """GET /admin/host/status."""

    state: str | None
    errors: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One look at the app."""

    functions: tuple[DeployedFunction, ...]
    host: HostStatus | None


# --- parsing ------------------------------------------------------------------------------


def parse_function(raw: Mapping[str, Any], *, key: str | None = None) -> DeployedFunction:
    """A DeployedFunction from ARM FunctionEnvelope JSON (name is `<site>/<function>`)."""
    props: Mapping[str, Any] = raw.get("properties") or {}
    name = str(props.get("name") or str(raw.get("name") or "").rsplit("/", 1)[-1])
    url = props.get("invoke_url_template") or None
    return DeployedFunction(
        name=name,
        trigger=trigger_of(props),
        url=with_code(str(url), key) if url and key else url,
    )


def trigger_of(props: Mapping[str, Any]) -> str | None:
    """The type of the function's trigger binding."""
    config = props.get("config")
    bindings = config.get("bindings") if isinstance(config, Mapping) else None
    for binding in bindings if isinstance(bindings, list) else ():
        kind = str(binding.get("type") or "") if isinstance(binding, Mapping) else ""
        if kind.lower().endswith("trigger"):
            return kind
    return None


def with_code(url: str, key: str) -> str:
    """`url` with ?code=<key> added."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode({"code": key})) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def parse_host_status(data: object) -> HostStatus | None:
    """A HostStatus from the host's JSON; None when it is not one."""
    if not isinstance(data, Mapping):
        return None
    errors = data.get("errors")
    return HostStatus(
        state=str(data["state"]) if data.get("state") else None,
        errors=tuple(str(e) for e in errors) if isinstance(errors, list) else (),
    )


# --- judging ------------------------------------------------------------------------------


def missing_functions(expected: Sequence[str], seen: Sequence[DeployedFunction]) -> tuple[str, ...]:
    """Planned names the app does not list (case-insensitively)."""
    names = {function.name.lower() for function in seen}
    return tuple(name for name in expected if name.lower() not in names)


def is_healthy(expected: Sequence[str], observation: Observation) -> bool:
    """Every planned function is there, at least one function exists, and the host is happy."""
    host_errors = observation.host.errors if observation.host else ()
    return (
        bool(observation.functions)
        and not missing_functions(expected, observation.functions)
        and not host_errors
    )


def unhealthy_error(app: str, expected: Sequence[str], observation: Observation) -> DeployError:
    """What is wrong, quoting the host's errors."""
    missing = missing_functions(expected, observation.functions)
    if not observation.functions:
        problem = "the host indexed no functions"
    elif missing:
        problem = f"the host did not index {', '.join(missing)}"
    else:
        problem = "the host reports errors"
    msg = f"{app} was deployed, but {problem}"
    host = observation.host
    if host and host.errors:
        shown = (summarize_host_error(e) for e in host.errors[:ERRORS_SHOWN])
        msg += "; host errors:\n" + "\n".join(f"  {e}" for e in shown)
    elif host and host.state:
        msg += f" (host state: {host.state})"
    return DeployError(msg, hint=_unhealthy_hint(host.errors if host else ()))


def _unhealthy_hint(host_errors: Sequence[str]) -> str:
    if any(PACKAGE_SETTING in error for error in host_errors):
        return (
            f"the app could not fetch the package its {PACKAGE_SETTING} names: check that the"
            " storage account lets the app read it (the SAS, or its identity's Storage Blob Data"
            " Reader role), then publish again"
        )
    return (
        "a missing dependency or an import error in the app stops indexing: check that"
        " requirements are in the package (or use --build remote), or pass --no-verify"
    )


def summarize_host_error(text: str, limit: int = 400) -> str:
    """The gist of a host error: its first line and the exception, without sys.path or stack.

    The Python worker's indexing errors run to dozens of lines (`Result: Failure`,
    `Exception: ModuleNotFoundError: ...`, `Current sys.path: [...]`, `Stack: ...`).
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    exception = next((line for line in lines if line.startswith("Exception:")), "")
    exception = exception.removeprefix("Exception:").strip().split(" Current sys.path")[0]
    gist = f"{head}: {exception}" if exception and exception not in head else head
    return gist if len(gist) <= limit else gist[: limit - 3] + "..."


# --- looking ------------------------------------------------------------------------------


class HostProbe:
    """GET https://<app host>/admin/host/status with the master key."""

    def __init__(
        self,
        app_host: str,
        master_key: Callable[[], str | None],
        *,
        verify: Verify,
        timing: Timing,
        session: requests.Session | None = None,
    ) -> None:
        self._url = f"https://{app_host}/admin/host/status"
        self._master_key = master_key
        self._verify = verify
        self._timing = timing
        self._session = session or requests.Session()

    def status(self) -> HostStatus | None:
        """The host status; None while the host is unreachable, starting or the key is unknown."""
        key = self._master_key()
        if not key:
            return None
        try:
            response = self._session.get(
                self._url,
                headers={"x-functions-key": key, "Cache-Control": "no-cache"},
                verify=self._verify,
                timeout=(CONNECT_TIMEOUT, self._timing.request_timeout),
            )
        except requests.RequestException as error:
            if untrusted(error):
                msg = f"TLS verification of {urlsplit(self._url).netloc} failed: {error}"
                hint = "set REQUESTS_CA_BUNDLE to the right CA bundle"
                raise DeployError(msg, hint=hint) from None
            return None
        with response:
            if response.status_code != 200:
                return None
            try:
                return parse_host_status(response.json())
            except ValueError:
                return None

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()


def verify_functions(
    app: str,
    expected: Sequence[str],
    *,
    observe: Callable[[], Observation],
    timing: Timing,
    clock: Clock,
) -> tuple[DeployedFunction, ...]:
    """Poll until the app is healthy; DeployError when it is not by the deadline.

    Host errors that persist for several polls fail early: right after a deploy the old host may
    still answer, so one look is not enough.
    """
    deadline = Deadline(clock, timing.verify_timeout)
    errors_in_a_row = 0
    for delay in timing.verify_poll.delays():
        observation = observe()
        if is_healthy(expected, observation):
            return observation.functions
        errors_in_a_row = errors_in_a_row + 1 if observation.host and observation.host.errors else 0
        if errors_in_a_row >= timing.error_confirmations or deadline.expired():
            raise unhealthy_error(app, expected, observation)
        deadline.sleep(delay)
    raise AssertionError  # pragma: no cover - delays() never ends


def soft(call: Callable[[], Any]) -> Any:
    """The result of `call`, or None when it fails with anything but an auth problem."""
    try:
        return call()
    except AuthError:
        raise
    except FuncpubError:
        return None
