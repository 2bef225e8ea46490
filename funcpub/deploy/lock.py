"""One publish per app at a time on this machine: an OS file lock in the user cache folder.

Kudu's deployment lock (HTTP 409) keeps two uploads from interleaving on the server, but two
`funcpub publish` runs against the same app would still interleave their settings changes and
their tracking. A second run waits for the first (within `Timing.conflict_budget`), then fails
clearly. The lock is keyed by cloud, subscription, app and slot; the OS releases it when the
holder exits, even if it crashes, so it never goes stale. Other machines are guarded by Kudu.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from funcpub.deploy.timing import Clock, Deadline, Timing
from funcpub.errors import DeployError
from funcpub.usercache import LOCK_POLL, lock_file, try_lock


def lock_key(cloud: str, subscription: str, app: str, slot: str | None) -> str:
    """What identifies one deployment target (app names are case-insensitive in Azure)."""
    return "|".join((cloud, subscription.lower(), app.lower(), (slot or "").lower()))


def lock_path(key: str) -> Path:
    """The lock file of `key`."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return lock_file(f"publish-{digest}.lock")


def _holder(path: Path) -> str:
    """Who holds the lock, from what it wrote into the file."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {int(info['pid'])}, started {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def publish_lock(
    key: str,
    display: str,
    *,
    timing: Timing,
    clock: Clock,
    on_wait: Callable[[str], None],
    on_unavailable: Callable[[str], None],
) -> Iterator[None]:
    """Hold the lock of `key` for the body; wait for another holder, DeployError if it stays."""
    path = lock_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = path.open("a+", encoding="utf-8")
    except OSError as error:
        # No lock folder (a read-only home): go on, Kudu's 409 still keeps uploads apart.
        on_unavailable(f"cannot use the publish lock in {path.parent}: {error.strerror}")
        yield
        return
    with stream:
        _acquire(stream, path, display, timing=timing, clock=clock, on_wait=on_wait)
        stream.seek(0)
        stream.truncate()
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        stream.write(json.dumps({"pid": os.getpid(), "started": started, "target": display}))
        stream.flush()
        yield  # closing the file releases the lock


def _acquire(
    stream: IO[str],
    path: Path,
    display: str,
    *,
    timing: Timing,
    clock: Clock,
    on_wait: Callable[[str], None],
) -> None:
    if try_lock(stream):
        return
    holder = _holder(path)
    on_wait(f"waiting for another funcpub publish to {display} on this machine ({holder})")
    deadline = Deadline(clock, timing.conflict_budget)
    while not deadline.expired():
        deadline.sleep(LOCK_POLL)  # a local system call: poll often, start soon after
        if try_lock(stream):
            return
    msg = (
        f"another funcpub publish to {display} is still running on this machine"
        f" ({_holder(path)}) after waiting {timing.conflict_budget:.0f} s"
    )
    raise DeployError(msg, hint="let it finish (or stop it), then publish again")
