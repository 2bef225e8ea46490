"""The Functions hosts of the emulated sites: one `FunctionHost` per site, started lazily.

After a deployment the old host is closed and a new one indexes the new content with the site's
app settings; ARM's function list and the host status come from that index (kept in the state).
An app-settings change or a restart closes the host; the next invocation starts a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from funcpub.connectionstrings import environment_name
from funcpub.emulator.records import FunctionRecord, IndexRecord, SiteRecord
from funcpub.emulator.sites import utc_now
from funcpub.functionhost import (
    FunctionHost,
    HttpCall,
    HttpResult,
    IndexedFunction,
    IndexResult,
    prepare_worker_dir,
)


def function_record(function: IndexedFunction) -> FunctionRecord:
    """The persistent form of an indexed function."""
    return FunctionRecord(
        name=function.name,
        trigger=function.trigger,
        route=function.route,
        methods=tuple(function.methods),
        auth_level=function.auth_level,
        bindings=tuple(dict(binding) for binding in function.bindings),
        script=function.script,
    )


def indexed_function(record: FunctionRecord) -> IndexedFunction:
    """Back to the host module's type, for routing and invocation."""
    return IndexedFunction(
        name=record.name,
        trigger=record.trigger,
        route=record.route,
        methods=record.methods,
        auth_level=record.auth_level,
        bindings=record.bindings,
        script=record.script,
    )


def index_record(result: IndexResult, deployment_id: str | None) -> IndexRecord:
    return IndexRecord(
        functions=tuple(function_record(f) for f in result.functions),
        errors=tuple(result.errors),
        indexed_at=utc_now(),
        deployment_id=deployment_id,
    )


@dataclass(frozen=True, kw_only=True)
class _Running:
    host: FunctionHost
    content: Path
    started: float


class Runtimes:
    """The live hosts by site key; thread-safe, one lock per site."""

    def __init__(self, worker_parent: Path, *, content_of: Callable[[SiteRecord], Path]) -> None:
        self._worker_parent = worker_parent
        self._worker_dir: Path | None = None
        self._content_of = content_of
        self._lock = threading.Lock()
        self._site_locks: dict[str, threading.RLock] = {}
        self._running: dict[str, _Running] = {}
        self._started = time.monotonic()

    def _site_lock(self, key: str) -> threading.RLock:
        with self._lock:
            return self._site_locks.setdefault(key, threading.RLock())

    def _worker(self) -> Path:
        with self._lock:
            if self._worker_dir is None:
                self._worker_dir = prepare_worker_dir(self._worker_parent)
            return self._worker_dir

    def reload(self, site: SiteRecord) -> IndexResult:
        """Replace the site's host with one over its current content and index it."""
        with self._site_lock(site.key):
            self.stop(site.key)
            return self._start(site)

    def ensure(self, site: SiteRecord) -> IndexResult | None:
        """Start the site's host if none runs (e.g. after a restart); its new index, or None."""
        with self._site_lock(site.key):
            if site.key in self._running:
                return None
            return self._start(site)

    def _start(self, site: SiteRecord) -> IndexResult:
        content = self._content_of(site).resolve()
        function_host = FunctionHost(
            content, app_settings=_environment(site), python=None, worker_dir=self._worker()
        )
        try:
            result = function_host.index()
        except BaseException:
            function_host.close()
            raise
        self._running[site.key] = _Running(
            host=function_host, content=content, started=time.monotonic()
        )
        return result

    def invoke(self, site: SiteRecord, function: IndexedFunction, call: HttpCall) -> HttpResult:
        """Run one HTTP-triggered function in the site's host."""
        with self._site_lock(site.key):
            running = self._running.get(site.key)
        if running is None:
            msg = f"no host runs for {site.full_name}"
            raise RuntimeError(msg)
        return running.host.invoke(function, call)

    def is_running(self, key: str) -> bool:
        """Whether a host runs for the site (none after a settings change or a restart)."""
        with self._site_lock(key):
            return key in self._running

    def uptime_ms(self, key: str) -> int:
        """Milliseconds since the site's host started (or the emulator, if none runs)."""
        running = self._running.get(key)
        since = self._started if running is None else running.started
        return int((time.monotonic() - since) * 1000)

    def stop(self, key: str) -> None:
        """Close the site's host, if one runs."""
        with self._site_lock(key):
            running = self._running.pop(key, None)
        if running is not None:
            running.host.close()

    def close(self) -> None:
        """Close every host."""
        with self._lock:
            keys = list(self._running)
        for key in keys:
            self.stop(key)


def _environment(site: SiteRecord) -> dict[str, str]:
    """What the app sees: its app settings and its connection strings (by type prefix)."""
    strings = {
        environment_name(name, item.type): item.value
        for name, item in site.connection_strings.items()
    }
    return {**strings, **site.app_settings}
