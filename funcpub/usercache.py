"""funcpub's folder in the user cache, and the OS file locks that keep its users apart.

The folder is platformdirs' user cache: `$XDG_CACHE_HOME/funcpub` (else `~/.cache/funcpub`) on
Linux, `~/Library/Caches/funcpub` on macOS, `%LOCALAPPDATA%\\funcpub\\Cache` on Windows. Locks
are `flock`/`msvcrt` locks on files under `locks/`: the OS releases them when the holder exits,
even when it crashes, so they never go stale.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final

import platformdirs

LOCK_FOLDER: Final = "locks"
LOCK_POLL: Final = 0.2  # seconds between two tries of a held lock


def cache_dir() -> Path:
    """funcpub's folder in the user cache (not created)."""
    return platformdirs.user_cache_path("funcpub", appauthor=False)


def lock_file(name: str) -> Path:
    """The lock file called `name` (its folder is created by whoever opens it)."""
    return cache_dir() / LOCK_FOLDER / name


def try_lock(stream: IO[str]) -> bool:
    """Take an exclusive lock on the open file without blocking; False if another holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt  # noqa: PLC0415 - per platform

            msvcrt.locking(stream.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl  # noqa: PLC0415 - per platform

            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def exclusive(
    path: Path, *, waiting: str, on_wait: Callable[[str], None], timeout: float
) -> Iterator[bool]:
    """Hold the lock of `path` for the body, waiting up to `timeout` s for another holder.

    Yields False, without a lock, when another process kept it that long (the caller goes on
    without what it guards) or when the lock file cannot be opened.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = path.open("a+", encoding="utf-8")
    except OSError:
        yield False
        return
    with stream:  # closing the file releases the lock
        yield _wait_for(stream, waiting=waiting, on_wait=on_wait, timeout=timeout)


def _wait_for(
    stream: IO[str], *, waiting: str, on_wait: Callable[[str], None], timeout: float
) -> bool:
    if try_lock(stream):
        return True
    on_wait(waiting)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(LOCK_POLL)
        if try_lock(stream):
            return True
    return False
