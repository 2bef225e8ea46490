"""The reproducible, streaming zip writer.

The same files give the same bytes: entries sorted by the UTF-8 bytes of their names, one fixed
timestamp (SOURCE_DATE_EPOCH or `DEFAULT_TIMESTAMP`), Unix modes reduced to 0644/0755, no folder
entries. Files are copied in chunks and the archive goes to a temporary file next to the
destination, renamed into place only once complete (https://reproducible-builds.org/docs/), so
no reader ever sees a partial zip. It is not fsync'ed, as zip and pip do not: forcing 40 MB to
disk cost a warm rebuild 0.015 to 0.08 s, and a zip lost to a power cut is made again by a pack.

One thing is not copied as is: a password or token in a URL of requirements.txt (or a file it
includes) is masked in the package, so it never reaches Azure (validation warns, FP209).
"""

from __future__ import annotations

import calendar
import hashlib
import itertools
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import closing, contextmanager
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path
from typing import IO, Final, Protocol

from zlib_ng import zlib_ng

from funcpub.errors import EXIT_INTERRUPTED, BuildError, ConfigError, FuncpubError
from funcpub.ignore import PYTHON_PACKAGES, IncludedFile
from funcpub.requirements import mask_credentials, scan_requirements
from funcpub.zipformat import (
    DeflatedData,
    central_directory,
    central_record,
    local_header,
    record_data,
)

Timestamp = tuple[int, int, int, int, int, int]

# hatchling's reproducible default: late enough that no unzip converting DOS times to local time
# lands before 1980, the earliest date a zip can store.
DEFAULT_TIMESTAMP: Final[Timestamp] = (2020, 2, 2, 0, 0, 0)
EARLIEST: Final[Timestamp] = (1980, 1, 1, 0, 0, 0)
LATEST: Final[Timestamp] = (2107, 12, 31, 23, 59, 58)  # a DOS date's 7-bit year runs out

CHUNK_SIZE: Final = 1 << 20
RUN_CHUNK_SIZE: Final = 8 << 20  # a stored run is copied in large reads
SPOOL_LIMIT: Final = 1 << 20  # deflated bytes of one entry kept in memory, the rest on disk
IN_FLIGHT_PER_WORKER: Final = 4  # batches deflated ahead of the writer, per worker
BATCH_BYTES: Final = 1 << 20  # small entries go to a worker together, up to this many bytes
BATCH_ENTRIES: Final = 256  # or this many
# Entries above this get ZIP64 headers up front, as zipfile needs to know before writing; well
# below zipfile.ZIP64_LIMIT (2 GiB) so that deflate's worst-case growth still fits.
ZIP64_THRESHOLD: Final = 1 << 30
REGULAR_MODE: Final = 0o100644
EXECUTABLE_MODE: Final = 0o100755
UNIX: Final = 3  # "version made by" host system, so that unzip honours external_attr modes
ARTIFACT_MODE: Final = 0o644
REQUIREMENTS: Final = "requirements.txt"
BUILT_PREFIX: Final = f"{PYTHON_PACKAGES}/"

_EPOCH = re.compile(r"-?[0-9]+")


class PackInterruptedError(FuncpubError):
    """Ctrl-C while the zip was written: the partial file is gone (exit 130)."""

    exit_code = EXIT_INTERRUPTED
    kind = "interrupted"


@dataclass(frozen=True, kw_only=True)
class Deflated:
    """One entry's deflated data, ready to copy into an archive."""

    data: DeflatedData
    payload: Payload  # the raw deflate stream, read from its start
    stored: bool = False  # it comes from a `DeflatedStore`


class Payload(Protocol):
    """Where deflated bytes are read from: a spooled temporary file or a slice of the cache."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes."""

    def seek(self, offset: int, whence: int = 0, /) -> int:
        """Back to the start before a second read."""

    def close(self) -> None:
        """Release it."""


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    """Stored entries that make one run of the archive, kept as its very bytes (their local
    headers and data, back to back), so they are copied in one piece."""

    first: int  # index of its first entry among the archive's sorted entries
    offsets: tuple[int, ...]  # each entry's local header, from the run's start
    data: tuple[DeflatedData, ...]  # what each entry's headers record
    length: int  # bytes of the run
    stream: BufferedReader  # the run's bytes from offset 0 (positioned reads; not closed here)
    central: bytes | None  # its entries' central-directory records when it starts the archive


class DeflatedStore(Protocol):
    """Entries deflated by an earlier pack (the dependency cache's compressed entries)."""

    def find(self, entry: IncludedFile, compresslevel: int) -> Deflated | None:
        """The stored deflated data of `entry`, None when there is none."""

    def run(
        self, entries: Sequence[IncludedFile], compresslevel: int, date_time: Timestamp
    ) -> StoredRun | None:
        """The stored entries as one run, when they are a contiguous part of `entries` and were
        kept with this level and date; None otherwise (then `find` serves them one by one)."""

    def wants(self, entry: IncludedFile, compresslevel: int) -> bool:
        """Whether to keep this entry's freshly deflated data."""

    def add(
        self, entry: IncludedFile, deflated: Deflated, compresslevel: int, *, header: bytes,
        date_time: Timestamp,
    ) -> None:  # fmt: skip
        """Keep a copy of `header` and `deflated` (its payload is at its start)."""

    def save(self) -> None:
        """The archive is complete: make what was added durable."""


@dataclass(frozen=True, kw_only=True)
class Deflating:
    """How entries get deflated."""

    compresslevel: int
    workers: int | None  # None: every core this process may use
    store: DeflatedStore | None
    stop: threading.Event  # set once the zip is no longer wanted: workers stop at their next entry


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """A written zip."""

    path: Path
    file_count: int
    size: int  # bytes of the zip
    sha256: str  # hex digest of the zip bytes


def zip_timestamp(environ: Mapping[str, str] | None = None) -> Timestamp:
    """The entries' date: SOURCE_DATE_EPOCH (UTC) when set, else `DEFAULT_TIMESTAMP`."""
    value = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return DEFAULT_TIMESTAMP
    if not _EPOCH.fullmatch(value):
        msg = f"SOURCE_DATE_EPOCH={value!r} is not a whole number of seconds"
        raise ConfigError(msg, hint="Set it to a Unix time, e.g. $(git log -1 --format=%ct).")
    seconds = max(int(value), calendar.timegm(EARLIEST))
    if seconds > calendar.timegm(LATEST):
        msg = f"SOURCE_DATE_EPOCH={value} is after 2107, the last date a zip can store"
        raise ConfigError(msg, hint="Set it to a Unix time before 2108.")
    moment = time.gmtime(seconds)
    # Zip times have 2-second steps: round down so the tuple reads back unchanged.
    second = moment.tm_sec - moment.tm_sec % 2
    return (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min, second)


def write_zip(
    files: Iterable[IncludedFile],
    destination: Path,
    *,
    timestamp: Timestamp | None = None,
    compresslevel: int = 6,
    workers: int | None = None,
    store: DeflatedStore | None = None,
) -> Artifact:
    """Write `files` to `destination` atomically; BuildError if a source cannot be read.

    `workers` threads deflate (default: every core this process may use); the bytes do not
    depend on their number. `store` supplies entries deflated by an earlier pack and keeps
    the ones it wants from this one (saved once the zip is complete).
    """
    with zip_writing(
        files, destination, timestamp=timestamp, compresslevel=compresslevel, workers=workers,
        store=store,
    ) as finish:  # fmt: skip
        return finish()


@contextmanager
def zip_writing(
    files: Iterable[IncludedFile],
    destination: Path,
    *,
    timestamp: Timestamp | None = None,
    compresslevel: int = 6,
    workers: int | None = None,
    store: DeflatedStore | None = None,
) -> Iterator[Callable[[], Artifact]]:
    """`write_zip` on another thread while the block runs: call what it yields to wait for the
    zip and put it in place. Leaving the block any other way (an error, Ctrl-C) stops the
    writer and leaves neither a partial zip nor a changed `destination`.
    """
    if not 0 <= compresslevel <= 9:
        msg = f"compresslevel must be 0-9, not {compresslevel}"
        raise ValueError(msg)
    stop = threading.Event()
    deflating = Deflating(compresslevel=compresslevel, workers=workers, store=store, stop=stop)
    entries = _sorted_entries(files)
    date_time = zip_timestamp() if timestamp is None else timestamp
    replaced = masked_requirements(entries)
    temporary = _temporary_next_to(destination)

    def finish() -> Artifact:
        digest, size = writing.result()
        _move(temporary, destination)
        if store is not None:
            store.save()
        return Artifact(path=destination, file_count=len(entries), size=size, sha256=digest)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="funcpub-zip") as writer:
        writing = writer.submit(_write_archive, temporary, entries, replaced, date_time, deflating)
        try:
            yield finish
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM): never leave a partial zip behind
            _abandon(stop, writing, temporary)
            msg = f"interrupted while writing {destination.name}: no partial zip is left behind"
            raise PackInterruptedError(
                msg, hint="nothing was uploaded; run the command again"
            ) from None
        except BaseException:
            _abandon(stop, writing, temporary)
            raise


def _abandon(stop: threading.Event, writing: Future[tuple[str, int]], temporary: Path) -> None:
    """Stop the writer at its next write, wait for it, and remove what it wrote."""
    stop.set()
    futures_wait((writing,))
    temporary.unlink(missing_ok=True)


def _temporary_next_to(destination: Path) -> Path:
    """A new empty file in the destination's folder, so that the final rename is atomic."""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
        )
    except OSError as exc:
        raise _write_error(destination, exc) from None
    os.close(handle)
    return Path(name)


def masked_requirements(entries: Sequence[IncludedFile]) -> dict[str, bytes]:
    """What ships instead of requirements files whose URLs carry credentials, by relpath."""
    top = next((entry for entry in entries if entry.relpath == REQUIREMENTS), None)
    if top is None:
        return {}
    # The file and its -r / -c includes, found among the app's files (the built dependencies
    # never are) by their real paths, as entries' sources are.
    wanted = {os.path.realpath(path) for path in scan_requirements(top.source).files}
    masked: dict[str, bytes] = {}
    for entry in entries:
        if entry.relpath.startswith(BUILT_PREFIX) or str(entry.source) not in wanted:
            continue
        try:
            text = entry.source.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):  # validation reports it; copied as is
            continue
        if (safe := mask_credentials(text)) != text:
            masked[entry.relpath] = safe.encode("utf-8")
    return masked


def _write_archive(
    path: Path,
    entries: list[IncludedFile],
    replaced: Mapping[str, bytes],
    date_time: Timestamp,
    deflating: Deflating,
) -> tuple[str, int]:
    """Write the zip to `path`; return its SHA-256 and size."""
    try:
        with path.open("wb") as stream:
            archive = _HashedStream(stream, deflating.stop)
            _write_entries(archive, entries, replaced, date_time, deflating)
        path.chmod(ARTIFACT_MODE)
    except OSError as exc:
        raise _write_error(path, exc) from None
    return archive.hexdigest(), archive.tell()


class _StoppedError(Exception):
    """The zip is no longer wanted (see `zip_writing`)."""


def _check_not_stopped(stop: threading.Event) -> None:
    if stop.is_set():
        raise _StoppedError


class _HashedStream:
    """A binary stream that hashes what goes through it, so the zip is never read back; it
    raises `_StoppedError` once `stop` is set."""

    def __init__(self, stream: IO[bytes], stop: threading.Event) -> None:
        self._stream = stream
        self._stop = stop
        self._digest = hashlib.sha256()
        self._size = 0

    def write(self, data: bytes | memoryview) -> int:
        """Write and hash `data`."""
        _check_not_stopped(self._stop)
        self._digest.update(data)
        self._size += len(data)
        return self._stream.write(data)

    def tell(self) -> int:
        """Bytes written so far."""
        return self._size

    def hexdigest(self) -> str:
        """The SHA-256 of everything written."""
        return self._digest.hexdigest()


def _move(temporary: Path, destination: Path) -> None:
    """Put the finished zip in place in one step."""
    try:
        temporary.replace(destination)
    except OSError as exc:
        raise _write_error(destination, exc) from None


def _write_error(path: Path, exc: OSError) -> BuildError:
    msg = f"Cannot write {path}: {exc.strerror}"
    return BuildError(msg, hint="Check the output folder is writable and has space.")


def _sorted_entries(files: Iterable[IncludedFile]) -> list[IncludedFile]:
    """The files in archive order; ValueError for names ignore.py would never produce."""
    entries = sorted(files, key=lambda item: _check_relpath(item.relpath))
    for before, after in itertools.pairwise(entries):
        if before.relpath == after.relpath:
            msg = f"duplicate archive name {after.relpath!r}"
            raise ValueError(msg)
    return entries


def _check_relpath(relpath: str) -> bytes:
    """The UTF-8 name of a safe relative POSIX path (the sort key)."""
    parts = relpath.split("/")
    if "\\" in relpath or any(part in ("", ".", "..") for part in parts):
        msg = f"not a relative POSIX file path: {relpath!r}"
        raise ValueError(msg)
    return relpath.encode("utf-8")


def _write_entries(
    archive: _HashedStream,
    entries: list[IncludedFile],
    replaced: Mapping[str, bytes],
    date_time: Timestamp,
    deflating: Deflating,
) -> None:
    """Every entry in order (deflated in parallel, from the store, or a stored run), then the
    central directory."""
    store = deflating.store
    run = store.run(entries, deflating.compresslevel, date_time) if store is not None else None
    end = 0 if run is None else run.first + len(run.offsets)
    if run is None or any(entry.relpath in replaced for entry in entries[run.first : end]):
        records = _write_each(archive, entries, replaced, date_time, deflating)
    else:
        records = _write_each(archive, entries[: run.first], replaced, date_time, deflating)
        records += _copy_run(archive, run, entries[run.first : end], date_time)
        records += _write_each(archive, entries[end:], replaced, date_time, deflating)
    archive.write(central_directory(records, len(entries), archive.tell()))


def _write_each(
    archive: _HashedStream,
    entries: list[IncludedFile],
    replaced: Mapping[str, bytes],
    date_time: Timestamp,
    deflating: Deflating,
) -> bytes:
    """Write `entries` one by one; return their central-directory records."""
    records = bytearray()
    store, level = deflating.store, deflating.compresslevel
    with closing(_deflated(entries, replaced, deflating)) as deflated_entries:
        for entry, deflated in deflated_entries:
            with closing(deflated.payload):
                info = _zip_info(entry, date_time)
                info.header_offset = archive.tell()
                header = local_header(info, deflated.data, zip64=entry.size > ZIP64_THRESHOLD)
                archive.write(header)
                shutil.copyfileobj(deflated.payload, archive, CHUNK_SIZE)
                if store is not None and not deflated.stored and store.wants(entry, level):
                    deflated.payload.seek(0)
                    store.add(entry, deflated, level, header=header, date_time=date_time)
            records += central_record(info)
    return bytes(records)


def _copy_run(
    archive: _HashedStream,
    run: StoredRun,
    entries: list[IncludedFile],
    date_time: Timestamp,
) -> bytes:
    """Copy a stored run as it is; return its entries' central-directory records."""
    start = archive.tell()
    run.stream.seek(0)
    buffer = memoryview(bytearray(min(run.length, RUN_CHUNK_SIZE)))
    left = run.length
    while left > 0 and (count := run.stream.readinto(buffer[: min(left, len(buffer))])):
        archive.write(buffer[:count])
        left -= count
    if left:
        msg = f"the dependency cache's stored entries are {left} bytes short"
        raise BuildError(msg, hint="run `funcpub cache clear`, then pack again")
    if start == 0 and run.central is not None:
        return run.central
    return central_records(entries, run.offsets, run.data, date_time, start=start)


def central_records(
    entries: Sequence[IncludedFile],
    offsets: Sequence[int],
    data: Sequence[DeflatedData],
    date_time: Timestamp,
    *,
    start: int,
) -> bytes:
    """The central-directory records of stored entries whose local headers are at `offsets`
    from `start`."""
    records = bytearray()
    for entry, offset, entry_data in zip(entries, offsets, data, strict=True):
        info = _zip_info(entry, date_time)
        info.header_offset = start + offset
        record_data(info, entry_data, zip64=entry.size > ZIP64_THRESHOLD)
        records += central_record(info)
    return bytes(records)


def _deflated(
    entries: list[IncludedFile], replaced: Mapping[str, bytes], deflating: Deflating
) -> Generator[tuple[IncludedFile, Deflated], None, None]:
    """Each entry's deflated data, in order, while the next ones deflate on other threads.

    Small entries go to the workers in batches (`_batches`): a task per file of a few hundred
    bytes cost more in thread hand-offs than its deflating. At most `IN_FLIGHT_PER_WORKER`
    batches per worker wait, each holding up to `BATCH_BYTES` of small entries or one entry
    whose deflated data over `SPOOL_LIMIT` spills to a temporary file, so memory stays bounded.
    """
    workers = deflating.workers or default_workers()
    level, store = deflating.compresslevel, deflating.store
    window: deque[tuple[list[IncludedFile], Future[list[Deflated]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="funcpub-deflate") as pool:
        try:
            for batch, stored in _batches(entries, replaced, store, level):
                window.append((batch, _start(pool, batch, stored, replaced, deflating)))
                if len(window) > workers * IN_FLIGHT_PER_WORKER:
                    yield from _in_order(*window.popleft())
            while window:
                yield from _in_order(*window.popleft())
        finally:
            _discard(window)


def _batches(
    entries: list[IncludedFile],
    replaced: Mapping[str, bytes],
    store: DeflatedStore | None,
    level: int,
) -> Iterator[tuple[list[IncludedFile], Deflated | None]]:
    """The entries in order, in groups a worker deflates in one task: consecutive small ones
    up to `BATCH_BYTES` or `BATCH_ENTRIES`, a large one alone; and, alone too, each entry the
    store has deflated already (with its data)."""
    batch: list[IncludedFile] = []
    size = 0
    for entry in entries:
        content = replaced.get(entry.relpath)
        stored = store.find(entry, level) if store is not None and content is None else None
        if stored is None and entry.size < BATCH_BYTES:
            batch.append(entry)
            size += entry.size
            if size >= BATCH_BYTES or len(batch) >= BATCH_ENTRIES:
                yield batch, None
                batch, size = [], 0
            continue
        if batch:
            yield batch, None
            batch, size = [], 0
        yield [entry], stored
    if batch:
        yield batch, None


def _start(
    pool: ThreadPoolExecutor,
    batch: list[IncludedFile],
    stored: Deflated | None,
    replaced: Mapping[str, bytes],
    deflating: Deflating,
) -> Future[list[Deflated]]:
    if stored is None:
        contents = [replaced.get(entry.relpath) for entry in batch]
        level, stop = deflating.compresslevel, deflating.stop
        return pool.submit(_deflate_all, batch, contents, level, stop)
    ready: Future[list[Deflated]] = Future()
    ready.set_result([stored])
    return ready


def _deflate_all(
    batch: list[IncludedFile], contents: list[bytes | None], level: int, stop: threading.Event
) -> list[Deflated]:
    """`deflate` each entry of `batch` until `stop` is set; none left open if one fails."""
    done: list[Deflated] = []
    try:
        for entry, content in zip(batch, contents, strict=True):
            _check_not_stopped(stop)
            done.append(deflate(entry, content, level))
    except BaseException:
        _close(done)
        raise
    return done


def _in_order(
    batch: list[IncludedFile], future: Future[list[Deflated]]
) -> Iterator[tuple[IncludedFile, Deflated]]:
    """A batch's entries with their data; what was not taken is closed if the writer stops."""
    deflated = future.result()
    taken = 0
    try:
        for pair in zip(batch, deflated, strict=True):
            taken += 1
            yield pair
    finally:
        _close(deflated[taken:])


def _discard(window: Iterable[tuple[list[IncludedFile], Future[list[Deflated]]]]) -> None:
    """After a failure: cancel what has not started, free what finished."""
    for _batch, future in window:
        if future.cancel() or future.exception() is not None:
            continue
        _close(future.result())


def _close(deflated: Iterable[Deflated]) -> None:
    for item in deflated:
        item.payload.close()


def default_workers() -> int:
    """The cores this process may use."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def deflate(entry: IncludedFile, content: bytes | None, level: int) -> Deflated:
    """Deflate one entry as zipfile does (raw deflate, 1 MiB writes), into a spooled file."""
    compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15)
    payload = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115 - returned
    crc = size = 0
    try:
        for chunk in (content,) if content is not None else _chunks(entry):
            crc = zlib_ng.crc32(chunk, crc)
            size += len(chunk)
            payload.write(compressor.compress(chunk))
        payload.write(compressor.flush())
    except BaseException:
        payload.close()
        raise
    data = DeflatedData(crc=crc, size=size, compress_size=payload.tell())
    payload.seek(0)
    return Deflated(data=data, payload=payload)


def _zip_info(entry: IncludedFile, date_time: Timestamp) -> zipfile.ZipInfo:
    """Header fields that depend on nothing but the entry's name and mode."""
    info = zipfile.ZipInfo(entry.relpath, date_time=date_time)
    info.create_system = UNIX
    info.external_attr = (EXECUTABLE_MODE if entry.executable else REGULAR_MODE) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _chunks(entry: IncludedFile) -> Iterator[memoryview]:
    """One source in chunks, each valid until the next is asked for (they share one buffer,
    sized to the file: a fresh 1 MiB buffer per read cost a 3 GiB file seconds of page faults);
    it must still have the size it had when it was selected.

    Reads ask for one byte more than is left, to notice a file that grew, and a read that
    brought the rest and no more is its end: with thousands of small files, each system call
    counts.
    """
    buffer = memoryview(bytearray(min(CHUNK_SIZE, entry.size + 1)))
    copied = 0
    try:
        with entry.source.open("rb", buffering=0) as source:
            while True:
                wanted = min(len(buffer), entry.size - copied + 1)
                count = source.readinto(buffer[:wanted]) or 0
                copied += count
                if not count or copied > entry.size:
                    break
                yield buffer[:count]
                if copied == entry.size and count < wanted:
                    break  # one byte more than was left was asked for: this is the end
    except OSError as exc:
        msg = f"Cannot pack {entry.relpath} ({entry.source}): {exc.strerror}"
        raise BuildError(msg, hint="Check the file is readable and there is disk space.") from None
    if copied != entry.size:
        msg = f"{entry.relpath} changed while it was being packed ({entry.size} bytes expected)"
        raise BuildError(msg, hint="Run again once nothing writes into the app folder.")
