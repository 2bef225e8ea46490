"""Clocks, deadlines and backoff schedules for everything that waits on Azure.

Waiting code takes a `Clock`, so tests run the schedules with a fake one and no real sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Final


@dataclass(frozen=True, kw_only=True)
class Clock:
    """Monotonic time and sleep (injectable)."""

    now: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)


SYSTEM_CLOCK: Final = Clock()


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """An exponential schedule: initial, initial*factor, ... capped at maximum."""

    initial: float
    maximum: float
    factor: float = 1.5

    def delays(self) -> Iterator[float]:
        """The endless sequence of waits."""
        delay = self.initial
        while True:
            yield min(delay, self.maximum)
            delay = min(delay * self.factor, self.maximum)


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Every wait of a deploy. The defaults suit Azure; tests shrink them."""

    poll: Backoff = Backoff(initial=1.0, maximum=5.0)  # deployment status
    not_found_grace: float = 60.0  # a new deployment may 404 for a while after the 202
    conflict_budget: float = 300.0  # how long 409 "deployment in progress" is waited out
    # (also how long a second publish on this machine waits for the local publish lock)
    conflict: Backoff = Backoff(initial=5.0, maximum=30.0)
    upload_attempts: int = 3  # 5xx / connection errors before the upload completed
    retry: Backoff = Backoff(initial=2.0, maximum=30.0, factor=2.0)
    scm_settings_timeout: float = 300.0  # SCM restart after an app-settings change
    verify_timeout: float = 180.0  # functions to show up after the deploy
    verify_poll: Backoff = Backoff(initial=2.0, maximum=10.0)
    error_confirmations: int = 3  # host errors seen this many polls in a row fail at once
    arm_retry_backoff: float = 0.8  # azure-core's backoff factor, ARM and Entra ID (its default)
    arm_read_timeout: float = 300.0  # one ARM response (azure-core's default); retried 3 times
    request_timeout: float = 60.0  # one SCM/app request, not the upload
    upload_timeout: float = 600.0  # read timeout of the upload request


DEFAULT_TIMING: Final = Timing()


class Deadline:
    """A point in time on a clock."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._end = clock.now() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self._clock.now())

    def expired(self) -> bool:
        """Whether the time is up."""
        return self.remaining() <= 0

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds`, but not past the deadline."""
        self._clock.sleep(min(seconds, self.remaining()))


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())
