"""Kudu's push deployment, run in a background thread per request.

Like KuduLite (FetchDeploymentManager / DeploymentManager): a `temp-xxxxxxxx` record exists
before the 202 is sent; the pushed zip is extracted (the "fetch", logged on the temporary
record, which is marked Failed when the archive is unsafe or broken); then a real record with a
32-hex id goes Pending (0) -> Building (1) -> Success (4) | Failed (3). When the site's settings
ask for it, Oryx builds the extracted files (funcpub.emulator.oryx: pip into .python_packages);
then the release is swapped in as the site's wwwroot, the site's Functions host restarts and
indexes the app. Indexing errors do not fail the deployment (Kudu does not know about them; the
host status and function list show them). One deployment per site at a time (the lock -> 409).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Final

from funcpub.emulator.faults import Faults
from funcpub.emulator.oryx import BuildFailedError, build_skipped, oryx_build
from funcpub.emulator.records import (
    BUILDING,
    FAILED,
    LOG_ERROR,
    LOG_MESSAGE,
    LOG_WARNING,
    PENDING,
    SUCCESS,
    Deployment,
    LogEntry,
    SiteRecord,
)
from funcpub.emulator.runtime import Runtimes, index_record
from funcpub.emulator.sites import (
    has_storage,
    make_read_only,
    remove_tree,
    site_dir,
    utc_now,
    wwwroot,
)
from funcpub.emulator.state import Store

LOG: Final = logging.getLogger("funcpub.emulator.kudu")
CHUNK: Final = 1 << 20
MAX_KEPT: Final = 10  # Kudu keeps the 10 newest successful deployments
STOP_WAIT: Final = 10.0  # seconds `close` waits for each running deployment
_DRIVE = re.compile(r"[A-Za-z]:")


class DeploymentFailedError(Exception):
    """A deployment step failed; the message goes to the log as an error entry."""


@dataclass(frozen=True, kw_only=True)
class PushRequest:
    """One accepted zip push."""

    site_key: str
    package: Path
    deployer: str
    message: str
    author: str
    author_email: str
    tracking_id: str
    # Flex's OneDeploy: the record id is known at once (no temp record) and the request, not
    # SCM_DO_BUILD_DURING_DEPLOYMENT, says whether to build.
    record_id: str | None = None
    remote_build: bool | None = None


@dataclass(kw_only=True)
class Running:
    """A deployment in flight; `done` is set once `outcome` holds its final record."""

    temp_id: str
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Deployment | None = None


class _Log:
    """Appends Kudu log entries; top-level messages also become the record's `progress`."""

    def __init__(self, store: Store, site_key: str, deployment_id: str) -> None:
        self._store = store
        self._site_key = site_key
        self.deployment_id = deployment_id

    def __call__(self, message: str, kind: int = LOG_MESSAGE, parent: str | None = None) -> str:
        entry = LogEntry(
            id=str(uuid.uuid4()), log_time=utc_now(), message=message, type=kind, parent=parent
        )
        self._store.append_log(self._site_key, self.deployment_id, entry)
        if parent is None:
            self._store.update_deployment(
                self._site_key, self.deployment_id, lambda d: replace(d, progress=message)
            )
        return entry.id


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse entries that would land outside the extraction folder (zip slip)."""
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        parts = name.split("/")
        if name.startswith("/") or _DRIVE.match(name) or ".." in parts:
            msg = f"The zip entry '{info.filename}' points outside the extraction folder."
            raise DeploymentFailedError(msg)


def extract(package: Path, destination: Path) -> tuple[int, int]:
    """Unpack a checked zip in chunks; the number of files and their bytes."""
    files = size = 0
    try:
        with zipfile.ZipFile(package) as archive:
            check_archive(archive)
            for info in archive.infolist():
                target = destination.joinpath(*info.filename.replace("\\", "/").split("/"))
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                size += _extract_file(archive, info, target)
                files += 1
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        msg = f"The pushed file is not a valid zip archive: {exc}"
        raise DeploymentFailedError(msg) from None
    return files, size


def _extract_file(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink, CHUNK)
    mode = (info.external_attr >> 16) & 0o777
    if mode & 0o111:
        target.chmod(0o755)
    return info.file_size


def _store_consumption_package(site: SiteRecord, release: Path, log: _Log, parent: str) -> None:
    """Linux Consumption has no persistent wwwroot: Kudu stores the content as a package.

    On Azure, KuduLite writes a Squashfs file, uploads it to the `scm-releases` container of the
    app's storage (SCM_RUN_FROM_PACKAGE) and resets the workers, which mount it read-only. The
    emulator keeps the package on its own disk (no upload) and runs it read-only likewise.
    """
    if not has_storage(site.app_settings):
        msg = (
            "Linux Consumption keeps the built content in the app's storage account, but the app"
            " has no AzureWebJobsStorage."
        )
        raise DeploymentFailedError(msg)
    log("Writing the artifacts to a read-only package (Azure: a Squashfs file).", parent=parent)
    make_read_only(release)
    log(
        "Storing the content for the linux consumption function app (Azure uploads it to the"
        " scm-releases container of AzureWebJobsStorage).",
        parent=parent,
    )
    log(f"Resetting all workers for {site.full_name}", parent=parent)


def activate(link: Path, release: Path) -> None:
    """Point the site's wwwroot at `release` in one step (a symlink swapped by rename)."""
    temporary = link.with_name(f".wwwroot-{uuid.uuid4().hex}")
    try:
        temporary.symlink_to(release, target_is_directory=True)
    except OSError:  # no symlinks (e.g. Windows without privilege): move folders instead
        _move_into_place(link, release)
        return
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    temporary.replace(link)


def _move_into_place(link: Path, release: Path) -> None:
    old = link.with_name(f".wwwroot-old-{uuid.uuid4().hex}")
    if link.exists():
        link.rename(old)
    shutil.copytree(release, link)
    shutil.rmtree(old, ignore_errors=True)


class Deployments:
    """Starts, runs and tracks push deployments for every site."""

    def __init__(self, *, store: Store, runtimes: Runtimes, faults: Faults, data_dir: Path) -> None:
        self._store = store
        self._runtimes = runtimes
        self._faults = faults
        self._data_dir = data_dir
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._stopping = threading.Event()
        self._threads: set[threading.Thread] = set()

    def upload_dir(self) -> Path:
        """Where pushed zips are streamed to before a deployment picks them up."""
        directory = self._data_dir / "tmp" / "zipdeploy"
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def _lock(self, site_key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(site_key, threading.Lock())

    def is_deploying(self, site_key: str) -> bool:
        return self._lock(site_key).locked()

    def start(self, push: PushRequest) -> Running | None:
        """Take the site's deployment lock and run in the background; None when it is held."""
        lock = self._lock(push.site_key)
        if not lock.acquire(blocking=False):
            return None
        try:
            temp = self._create_temp(push)
            running = Running(temp_id=temp.id)
            thread = threading.Thread(
                target=self._run,
                args=(push, running, lock),
                name=f"deploy-{push.site_key}",
                daemon=True,
            )
            with self._guard:
                self._threads.add(thread)
            thread.start()
        except BaseException:
            lock.release()
            raise
        return running

    def _create_temp(self, push: PushRequest) -> Deployment:
        now = utc_now()
        temp = Deployment(
            id=push.record_id or f"temp-{secrets.token_hex(4)}",
            status=PENDING,
            status_text="" if push.record_id else "Receiving changes.",
            author=push.author,
            author_email=push.author_email,
            deployer=push.deployer,
            message="Deploying from pushed zip file",
            progress="",
            received_time=now,
            start_time=now,
            is_temp=push.record_id is None,
            tracking_id=push.tracking_id,
        )
        self._store.put_deployment(push.site_key, temp)
        return temp

    def _run(self, push: PushRequest, running: Running, lock: threading.Lock) -> None:
        try:
            running.outcome = self._deploy(push, running.temp_id)
        except Exception:  # never let the thread die silently with the lock held
            if self._store.site(push.site_key) is None:
                LOG.info("%s was deleted during its deployment", push.site_key)
            else:
                LOG.exception("deployment of %s crashed", push.site_key)
                running.outcome = self._fail(push.site_key, running.temp_id, "Unexpected error.")
        finally:
            push.package.unlink(missing_ok=True)
            lock.release()
            running.done.set()
            with self._guard:
                self._threads.discard(threading.current_thread())

    def close(self) -> None:
        """Stop running builds (pip is killed at its next output line) and wait for them."""
        self._stopping.set()
        with self._guard:
            running = list(self._threads)
        for thread in running:
            thread.join(STOP_WAIT)

    def _deploy(self, push: PushRequest, temp_id: str) -> Deployment:
        site = self._site(push.site_key)
        release = site_dir(self._data_dir, site) / "releases" / uuid.uuid4().hex
        fetch_log = _Log(self._store, push.site_key, temp_id)
        try:
            self._fetch(push, release, fetch_log)
        except DeploymentFailedError as exc:
            shutil.rmtree(release, ignore_errors=True)
            fetch_log(str(exc), LOG_ERROR)
            return self._fail(push.site_key, temp_id, "")
        record = self._create_record(push) if push.record_id is None else self._record(push)
        log = _Log(self._store, push.site_key, record.id)
        try:
            self._build(push, record, release, log)
        except Exception as exc:  # any failure ends this record, not the thread
            if not isinstance(exc, (DeploymentFailedError, BuildFailedError)):
                LOG.exception("deployment %s of %s failed", record.id, push.site_key)
            if release.resolve() != wwwroot(self._data_dir, site).resolve():
                remove_tree(release)
            log(str(exc) or f"An unexpected error occurred: {type(exc).__name__}.", LOG_ERROR)
            self._forget_temp(push.site_key, temp_id, record)
            return self._fail(push.site_key, record.id, "")
        self._forget_temp(push.site_key, temp_id, record)
        return self._succeed(push.site_key, record.id)

    def _record(self, push: PushRequest) -> Deployment:
        """The record created with the request (Flex)."""
        assert push.record_id is not None
        record = self._store.deployment(push.site_key, push.record_id)
        if record is None:
            msg = f"The deployment {push.record_id} no longer exists."
            raise DeploymentFailedError(msg)
        return record

    def _forget_temp(self, site_key: str, temp_id: str, record: Deployment) -> None:
        if temp_id != record.id:
            self._store.delete_deployment(site_key, temp_id)

    def _site(self, site_key: str) -> SiteRecord:
        site = self._store.site(site_key)
        if site is None:
            msg = f"The site {site_key} no longer exists."
            raise DeploymentFailedError(msg)
        return site

    def _fetch(self, push: PushRequest, release: Path, log: _Log) -> None:
        size_mb = push.package.stat().st_size / (1024 * 1024)
        details = log("Fetching changes.")
        log(
            f"Cleaning up temp folders from previous zip deployments and extracting pushed zip "
            f"file {push.package} ({size_mb:.2f} MB) to {release}",
            parent=details,
        )
        release.mkdir(parents=True)
        files, size = extract(push.package, release)
        log(f"Extracted {files} files ({size} bytes).", parent=details)

    def _create_record(self, push: PushRequest) -> Deployment:
        now = utc_now()  # newer than the temporary record, so /latest shows this one
        record = Deployment(
            id=uuid.uuid4().hex,
            status=PENDING,
            status_text="",
            author=push.author,
            author_email=push.author_email,
            deployer=push.deployer,
            message=push.message,
            progress="",
            received_time=now,
            start_time=now,
            tracking_id=push.tracking_id,
        )
        self._store.put_deployment(push.site_key, record)
        return record

    def _build(self, push: PushRequest, record: Deployment, release: Path, log: _Log) -> None:
        log("Updating submodules.")
        details = log(f"Preparing deployment for commit id '{record.id[:10]}'.")
        self._store.update_deployment(
            push.site_key,
            record.id,
            lambda d: replace(
                d,
                status=BUILDING,
                status_text=f"Building and Deploying '{record.id}'.",
                start_time=utc_now(),
            ),
        )
        log(f"Repository path is {release}", parent=details)
        site = self._site(push.site_key)
        self._apply_deploy_fault(push.site_key)
        built = self._oryx(site, release, log, details, remote_build=push.remote_build)
        self._install(site, record, built, log)

    def _oryx(
        self, site: SiteRecord, release: Path, log: _Log, parent: str, *, remote_build: bool | None
    ) -> Path:
        """The folder to deploy: the pushed files, or Oryx's build of them (a new release)."""
        skipped = build_skipped(site.app_settings, remote_build=remote_build)
        if skipped is not None:
            log(skipped, parent=parent)
            return release
        output = release.with_name(uuid.uuid4().hex)
        cache = self._data_dir / "cache" / "pip"
        oryx_build(site, release, output, cache=cache, log=log, stopping=self._stopping)
        shutil.rmtree(release, ignore_errors=True)
        return output

    def _apply_deploy_fault(self, site_key: str) -> None:
        rule = self._faults.take("deploy", "POST", site_key, site_key)
        if rule is None:
            return
        if rule.delay > 0:
            time.sleep(rule.delay)
        if rule.status is not None and rule.status >= 400:
            raise DeploymentFailedError(
                rule.body or f"Injected deployment failure ({rule.status})."
            )

    def _install(self, site: SiteRecord, record: Deployment, release: Path, log: _Log) -> None:
        target = wwwroot(self._data_dir, site)
        details = log("Running deployment command...")
        if site.plan == "Y1":
            _store_consumption_package(site, release, log, details)
        else:
            log(f"Copying the package to {target}", parent=details)
        activate(target, release)
        details = log("Running post deployment command(s)...")
        self._index(site, record, log, details)
        log("Triggering recycle (preview mode disabled).")

    def _index(self, site: SiteRecord, record: Deployment, log: _Log, parent: str) -> None:
        log("Restarting the Functions host and indexing functions.", parent=parent)
        try:
            result = self._runtimes.reload(site)
        except Exception as exc:
            LOG.exception("indexing %s failed", site.key)
            log(f"The Functions host could not index the app: {exc}", LOG_WARNING, parent=parent)
            return
        for line in result.log:
            log(line, parent=parent)
        for error in result.errors:
            log(error, LOG_WARNING, parent=parent)
        index = index_record(result, record.id)
        self._store.update_site(site.key, lambda s: replace(s, index=index))
        self._prune_releases(site)
        triggers = [{"name": f.name, "type": f.trigger} for f in index.functions]
        payload = len(json.dumps(triggers).encode())
        log(
            f"Syncing {len(triggers)} function triggers with payload size {payload} bytes "
            "successful."
        )
        self._store.update_site(site.key, lambda s: replace(s, last_trigger_sync=utc_now()))

    def _prune_releases(self, site: SiteRecord) -> None:
        """Delete every release but the live one."""
        live = wwwroot(self._data_dir, site).resolve()
        releases = site_dir(self._data_dir, site) / "releases"
        for release in releases.iterdir() if releases.is_dir() else ():
            if release.resolve() != live:
                remove_tree(release)

    def _succeed(self, site_key: str, deployment_id: str) -> Deployment:
        _Log(self._store, site_key, deployment_id)("Deployment successful.")
        now = utc_now()
        # Active first: whoever sees the record succeed also sees it active.
        self._store.update_site(site_key, lambda s: replace(s, active_deployment=deployment_id))
        record = self._store.update_deployment(
            site_key,
            deployment_id,
            lambda d: replace(
                d,
                status=SUCCESS,
                status_text="",
                progress="",
                complete=True,
                end_time=now,
                last_success_end_time=now,
            ),
        )
        self._purge(site_key)
        return record

    def _fail(self, site_key: str, deployment_id: str, status_text: str) -> Deployment:
        record = self._store.update_deployment(
            site_key,
            deployment_id,
            lambda d: replace(
                d, status=FAILED, status_text=status_text, complete=True, end_time=utc_now()
            ),
        )
        self._purge(site_key)
        return record

    def _purge(self, site_key: str) -> None:
        """Keep the newest finished records (and any still running), like Kudu's purge."""
        site = self._store.site(site_key)
        active = None if site is None else site.active_deployment
        finished = [d for d in self._store.deployments(site_key) if d.finished]
        for old in finished[MAX_KEPT:]:
            if old.id != active:
                self._store.delete_deployment(site_key, old.id)

    def recover(self) -> None:
        """After a restart: records left unfinished are marked Failed (Kudu's VerifyDeployment)."""
        for site in self._store.sites():
            for record in self._store.deployments(site.key):
                if not record.finished:
                    _Log(self._store, site.key, record.id)(
                        "An unexpected error occurred: the deployment was interrupted.", LOG_ERROR
                    )
                    self._fail(site.key, record.id, "")


def stream_to_file(source: IO[bytes], destination: Path) -> int:
    """Copy a readable stream to a new file in chunks; the number of bytes."""
    total = 0
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as sink:
        while chunk := source.read(CHUNK):
            sink.write(chunk)
            total += len(chunk)
    return total
