"""Post-deploy verification: parsing ARM functions and host status, judging, polling."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from funcpub.console import Console
from funcpub.deploy import DeployReporter
from funcpub.deploy.timing import Backoff, Clock, Timing
from funcpub.deploy.verify import (
    DeployedFunction,
    HostStatus,
    Observation,
    parse_function,
    parse_host_status,
    summarize_host_error,
    verify_functions,
    with_code,
)
from funcpub.errors import DeployError

HELLO = {
    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app/functions/hello",
    "name": "app/hello",
    "properties": {
        "name": "hello",
        "invoke_url_template": "https://app.azurewebsites.net/api/hello",
        "config": {
            "bindings": [
                {"type": "httpTrigger", "direction": "in", "name": "req"},
                {"type": "http", "direction": "out", "name": "$return"},
            ]
        },
    },
}
TIMER = {"name": "app/tick", "properties": {"config": {"bindings": [{"type": "timerTrigger"}]}}}
MODULE_ERROR = "Worker failed to index functions: ModuleNotFoundError: No module named 'requests'"


def test_parse_function() -> None:
    assert parse_function(HELLO) == DeployedFunction(
        name="hello", trigger="httpTrigger", url="https://app.azurewebsites.net/api/hello"
    )
    assert parse_function(TIMER) == DeployedFunction(name="tick", trigger="timerTrigger", url=None)


def test_keys_only_when_asked() -> None:
    function = parse_function(HELLO, key="k+y")
    assert function.url == "https://app.azurewebsites.net/api/hello?code=k%2By"
    assert with_code("https://h/api/x?a=1", "k") == "https://h/api/x?a=1&code=k"


def test_parse_host_status() -> None:
    assert parse_host_status({"state": "Running"}) == HostStatus(state="Running", errors=())
    assert parse_host_status({"state": "Error", "errors": [MODULE_ERROR]}) == HostStatus(
        state="Error", errors=(MODULE_ERROR,)
    )
    assert parse_host_status("nope") is None


class FakeClock:
    def __init__(self) -> None:
        self.time = 0.0

    def sleep(self, seconds: float) -> None:
        self.time += seconds

    @property
    def clock(self) -> Clock:
        return Clock(now=lambda: self.time, sleep=self.sleep)


TIMING = Timing(verify_timeout=30, verify_poll=Backoff(initial=2, maximum=2))
RUNNING = HostStatus(state="Running", errors=())
BROKEN = HostStatus(state="Error", errors=(MODULE_ERROR,))


def observations(*items: Observation) -> Callable[[], Observation]:
    seen = iter(items)
    last: list[Observation] = []

    def observe() -> Observation:
        last[:] = [next(seen, last[0] if last else items[-1])]
        return last[0]

    return observe


def look(*names: str, host: HostStatus | None = RUNNING) -> Observation:
    return Observation(
        functions=tuple(DeployedFunction(name=n, trigger=None, url=None) for n in names), host=host
    )


def test_waits_until_the_functions_appear() -> None:
    fake = FakeClock()
    found = verify_functions(
        "app",
        ["hello", "Health"],
        observe=observations(look(), look("hello"), look("hello", "health")),
        timing=TIMING,
        clock=fake.clock,
    )
    assert [f.name for f in found] == ["hello", "health"]
    assert fake.time == 4


def test_zero_functions_is_a_failure() -> None:
    with pytest.raises(DeployError, match="indexed no functions"):
        verify_functions(
            "app", [], observe=observations(look()), timing=TIMING, clock=FakeClock().clock
        )


def test_missing_function_is_named() -> None:
    with pytest.raises(DeployError, match="did not index health"):
        verify_functions(
            "app",
            ["hello", "health"],
            observe=observations(look("hello")),
            timing=TIMING,
            clock=FakeClock().clock,
        )


def test_lasting_host_errors_fail_early_quoting_them() -> None:
    fake = FakeClock()
    with pytest.raises(DeployError) as info:
        verify_functions(
            "app",
            ["hello"],
            observe=observations(look(host=BROKEN)),
            timing=TIMING,
            clock=fake.clock,
        )
    assert "ModuleNotFoundError: No module named 'requests'" in info.value.message
    assert fake.time == 4  # three looks, not the whole 30 s


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (MODULE_ERROR, "a missing dependency or an import error"),
        (
            "Failed to run from package WEBSITE_RUN_FROM_PACKAGE: downloading the package"
            " answered HTTP 403",
            "the app could not fetch the package its WEBSITE_RUN_FROM_PACKAGE names",
        ),
    ],
    ids=["import-error", "package-download"],
)
def test_the_hint_fits_the_host_error(error: str, hint: str) -> None:
    broken = HostStatus(state="Error", errors=(error,))
    with pytest.raises(DeployError) as info:
        verify_functions(
            "app",
            ["hello"],
            observe=observations(look(host=broken)),
            timing=TIMING,
            clock=FakeClock().clock,
        )
    assert (info.value.hint or "").startswith(hint)


def test_an_old_host_error_that_clears_is_forgiven() -> None:
    found = verify_functions(
        "app",
        ["hello"],
        observe=observations(look(host=BROKEN), look("hello")),
        timing=TIMING,
        clock=FakeClock().clock,
    )
    assert [f.name for f in found] == ["hello"]


WORKER_ERROR = (
    "Worker failed to index functions\n"
    "Result: Failure\n"
    "Exception: ModuleNotFoundError: No module named 'requests'. Cannot find module."
    " Current sys.path: ['/a', '/b']\n"
    'Stack: File "/home/site/wwwroot/function_app.py", line 2, in <module>\n'
    "    import requests"
)


def test_host_errors_are_summarized() -> None:
    assert summarize_host_error(WORKER_ERROR) == (
        "Worker failed to index functions: "
        "ModuleNotFoundError: No module named 'requests'. Cannot find module."
    )
    assert summarize_host_error("just one line") == "just one line"
    assert len(summarize_host_error("x" * 1000)) == 400


def test_the_console_is_a_deploy_reporter() -> None:
    reporter: DeployReporter = Console(stdout=io.StringIO(), stderr=io.StringIO())
    reporter.secret("tok")
    reporter.step("uses tok")
