"""The dependency cache: built `.python_packages` trees, and their deflated zip entries.

Level 1 keeps a finished, checked build per `CacheKey` in `<user cache>/funcpub/deps/<key>/`,
with the list of its files (names, sizes, modes); a later build with the same key uses that tree
where it is (no install, no copy, no walk). Level 2 keeps the tree's entries as a pack deflated
them, so packing again only deflates the app's own files and copies the dependency entries as
they are.

Entries are written to a `.incoming-*` folder and renamed into place complete (`entry.json`
last), so a failed or interrupted build never leaves a half entry, and a failed refresh keeps
the previous one. An OS lock per key is held from the lookup until the zip is written, so
concurrent funcpub processes wait for each other's build of the same key instead of
repeating it, and never see a tree while it is replaced.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path
from typing import IO, Any, Final

from zlib_ng import zlib_ng

from funcpub.build.base import BuildReporter, BuildResult
from funcpub.build.cachekey import CacheKey
from funcpub.build.staging import built_files, swap_folder
from funcpub.ignore import IncludedFile
from funcpub.package import Deflated, StoredRun, Timestamp, central_records
from funcpub.usercache import cache_dir, exclusive, lock_file, try_lock
from funcpub.zipformat import DeflatedData

DEPS: Final = "deps"
ENTRY_FILE: Final = "entry.json"
FILES_FILE: Final = "files.json"  # the tree's files: [relpath, size, executable, source?]
PACKAGES: Final = ".python_packages"
DEFLATED: Final = "deflated"
INCOMING_PREFIX: Final = ".incoming-"
ENTRY_FORMAT: Final = 2  # 2: with FILES_FILE
DEFAULT_TTL: Final = 24 * 3600.0
LOCK_TIMEOUT: Final = 3600.0  # another process's build of the same key (a build's own limit)
CHUNK: Final = 1 << 20


@dataclass(frozen=True, kw_only=True)
class CachePolicy:
    """`--no-cache`, `--refresh` and `--cache-ttl`."""

    use: bool = True
    refresh: bool = False
    refreshed_by: str = "--refresh"  # what asked for the refresh (docker's `--pull` implies it)
    ttl: float = DEFAULT_TTL  # seconds before a build of open requirements is resolved again


@dataclass(frozen=True, kw_only=True)
class CachedEntry:
    """What `entry.json` records about one cached build."""

    key: str
    created: float  # Unix time
    exact: bool  # hashed or fully pinned: never expires
    installed: tuple[str, ...]
    built_from_source: tuple[str, ...]
    warnings: tuple[str, ...]
    describes: str  # strategy environment and target, for `funcpub cache list`
    image: str | None = None  # the image a docker build ran in
    size: int = 0  # bytes on disk (filled in by `list_entries`)


@dataclass(frozen=True, kw_only=True)
class CachedBuild:
    """A build that pack uses: its result, and where its deflated entries are kept."""

    result: BuildResult
    store: DeflatedEntries | None = None

    @property
    def in_cache(self) -> bool:
        """Whether the built tree lives in the dependency cache (else in a temporary folder)."""
        return self.store is not None


def deps_dir() -> Path:
    """Where cached builds are."""
    return cache_dir() / DEPS


@contextmanager
def cached_build(
    build: Callable[[Path], BuildResult],
    key: CacheKey,
    *,
    policy: CachePolicy,
    describes: str,
    exact: Callable[[BuildResult], bool],
    reporter: BuildReporter,
) -> Iterator[CachedBuild]:
    """The cached build of `key` when it is fresh, else `build(staging)` stored under `key`.

    `exact` tells whether a new build never expires (its requirements pin everything).
    """
    waiting = "waiting for another funcpub process building the same dependencies"
    lock = lock_file(f"deps-{key.digest}.lock")
    with exclusive(lock, waiting=waiting, on_wait=reporter.step, timeout=LOCK_TIMEOUT) as held:
        if not held:
            reporter.warn(f"the dependency cache in {deps_dir()} cannot be locked; not using it")
            with tempfile.TemporaryDirectory(prefix="funcpub-build-") as scratch:
                yield CachedBuild(result=build(Path(scratch)))
            return
        folder = deps_dir() / key.digest
        entry = _fresh_entry(folder, key, policy, reporter)
        if entry is None:
            entry = _store(build, folder, key, describes=describes, exact=exact)
        store = DeflatedEntries(folder)
        try:
            yield CachedBuild(result=_result(folder, entry), store=store)
        finally:
            store.close()


def _fresh_entry(
    folder: Path, key: CacheKey, policy: CachePolicy, reporter: BuildReporter
) -> CachedEntry | None:
    entry = read_entry(folder)
    if entry is None:
        reporter.step("dependencies: not in the cache yet")
        return None
    age = time.time() - entry.created
    if policy.refresh:
        reporter.step(f"dependencies: {policy.refreshed_by}, resolving them again")
        return None
    if not entry.exact and not key.hashed and age > policy.ttl:
        reporter.step(
            f"dependencies: the cached build is {_age(age)} old (over --cache-ttl) and the "
            "requirements leave versions open; resolving them again"
        )
        return None
    reporter.step(f"dependencies: from the cache (built {_age(age)} ago)")
    return entry


def _store(
    build: Callable[[Path], BuildResult],
    folder: Path,
    key: CacheKey,
    *,
    describes: str,
    exact: Callable[[BuildResult], bool],
) -> CachedEntry:
    """Build into an incoming folder beside `folder`, then swap it in complete."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{INCOMING_PREFIX}{key.digest}-"
    incoming = Path(tempfile.mkdtemp(prefix=prefix, dir=folder.parent))
    try:
        staging = incoming / "staging"
        staging.mkdir()
        result = build(staging)
        if result.python_packages is not None:
            result.python_packages.rename(incoming / PACKAGES)
        shutil.rmtree(staging)
        _write_json(incoming / FILES_FILE, _file_records(incoming))
        entry = CachedEntry(
            key=key.digest,
            created=time.time(),
            exact=key.hashed or exact(result),
            installed=result.installed,
            built_from_source=result.built_from_source,
            warnings=result.warnings,
            describes=describes,
            image=result.image,
        )
        _write_json(incoming / ENTRY_FILE, _entry_json(entry))
        _swap(incoming, folder)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return entry


def _swap(incoming: Path, folder: Path) -> None:
    previous = folder.with_name(f"{INCOMING_PREFIX}{folder.name}-old{os.getpid()}")
    swap_folder(incoming, folder, previous=previous)
    shutil.rmtree(previous, ignore_errors=True)


def _result(folder: Path, entry: CachedEntry) -> BuildResult:
    packages = folder / PACKAGES
    return BuildResult(
        python_packages=packages if packages.is_dir() else None,
        installed=entry.installed,
        built_from_source=entry.built_from_source,
        warnings=entry.warnings,
        image=entry.image,
        files=_read_files(folder),
    )


def _file_records(folder: Path) -> list[list[str | int | bool]]:
    """The files `built_files` finds in `<folder>/.python_packages`, relative to `folder`.

    A file's source is recorded only when it is not at its relpath (a link inside the tree).
    """
    packages = folder / PACKAGES
    if not packages.is_dir():
        return []
    real = os.path.realpath(folder)
    records: list[list[str | int | bool]] = []
    for item in built_files(packages):
        record: list[str | int | bool] = [item.relpath, item.size, item.executable]
        source = os.path.relpath(item.source, real).replace(os.sep, "/")
        if source != item.relpath:
            record.append(source)
        records.append(record)
    return records


def _read_files(folder: Path) -> tuple[IncludedFile, ...] | None:
    """The recorded files of the tree in `folder`, its sources made absolute; None if unreadable."""
    real = Path(os.path.realpath(folder))
    try:
        records = json.loads((folder / FILES_FILE).read_text(encoding="utf-8"))
        return tuple(
            IncludedFile(
                relpath=record[0],
                source=real / (record[3] if len(record) > 3 else record[0]),
                size=record[1],
                executable=record[2],
            )
            for record in records
        )
    except (OSError, ValueError, TypeError, IndexError):
        return None


def read_entry(folder: Path) -> CachedEntry | None:
    """The entry in `folder`; None when it is missing, incomplete or of another format."""
    try:
        data = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
        if data.get("format") != ENTRY_FORMAT:
            return None
        return CachedEntry(
            key=str(data["key"]),
            created=float(data["created"]),
            exact=bool(data["exact"]),
            installed=tuple(data["installed"]),
            built_from_source=tuple(data["built_from_source"]),
            warnings=tuple(data["warnings"]),
            describes=str(data["describes"]),
            image=None if data.get("image") is None else str(data["image"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _entry_json(entry: CachedEntry) -> dict[str, Any]:
    return {
        "format": ENTRY_FORMAT,
        "key": entry.key,
        "created": entry.created,
        "exact": entry.exact,
        "installed": list(entry.installed),
        "built_from_source": list(entry.built_from_source),
        "warnings": list(entry.warnings),
        "describes": entry.describes,
        "image": entry.image,
    }


def _write_json(path: Path, data: object) -> None:
    """Write `path` whole or not at all."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    temporary.replace(path)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass(frozen=True, kw_only=True)
class _KeptIndex:
    """Where each kept entry is in its level's blob, in the order they were kept."""

    date_time: Timestamp | None  # the entries' date in their kept local headers
    order: tuple[str, ...]  # relpaths, in blob (and archive) order
    records: Mapping[str, list[int]]  # relpath -> [offset, header length, crc, size, compressed]
    executable: frozenset[str]  # relpaths of the entries whose central records say executable
    central_length: int | None  # bytes of the entries' central-directory records, if kept


_NOTHING_KEPT: Final = _KeptIndex(
    date_time=None, order=(), records={}, executable=frozenset(), central_length=None
)


@dataclass
class DeflatedEntries:
    """Level 2: the deflated zip entries of one cached tree (a `package.DeflatedStore`).

    One blob per compression level and zlib-ng version holds each entry's local header and
    deflated data, back to back in archive order: when the tree's entries are contiguous in
    the next archive and its date is the same, the blob is copied into it in one piece (with
    their central-directory records, kept too, when the blob starts the archive); otherwise
    each entry's data is copied from it. A pack that finds no blob fills one.
    """

    folder: Path
    _index: _KeptIndex | None = None
    _level: int = -1
    # entries added to the incoming blob: each with its offset and header length there
    _adding: list[tuple[IncludedFile, int, int, DeflatedData]] = field(default_factory=list)
    _adding_date: Timestamp | None = None
    _blob: IO[bytes] | None = None  # the incoming blob
    _reading: BufferedReader | None = None  # the kept blob, shared by every read of it
    _packages: str = ""

    def __post_init__(self) -> None:
        self._packages = str((self.folder / PACKAGES).resolve()) + os.sep

    def find(self, entry: IncludedFile, compresslevel: int) -> Deflated | None:
        """The kept deflated data of a file of the cached tree."""
        if not self._ours(entry):
            return None
        record = self._kept_index(compresslevel).records.get(entry.relpath)
        if record is None or record[3] != entry.size:
            return None
        offset, header_length, _crc, _size, compress_size = record
        payload = _Slice(self._kept(compresslevel), offset + header_length, compress_size)
        return Deflated(data=_data(record), payload=payload, stored=True)

    def run(
        self, entries: Sequence[IncludedFile], compresslevel: int, date_time: Timestamp
    ) -> StoredRun | None:
        """The kept blob as one run of `entries`, when they hold its entries unchanged, in a row."""
        index = self._kept_index(compresslevel)
        if not index.order or index.date_time != date_time:
            return None
        first = next((i for i, e in enumerate(entries) if e.relpath == index.order[0]), None)
        window = entries[first : first + len(index.order)] if first is not None else ()
        if first is None or len(window) != len(index.order):
            return None
        records = [index.records[relpath] for relpath in index.order]
        for entry, relpath, record in zip(window, index.order, records, strict=True):
            if entry.relpath != relpath or entry.size != record[3] or not self._ours(entry):
                return None
        offset, header_length, _crc, _size, compress_size = records[-1]
        executable = frozenset(entry.relpath for entry in window if entry.executable)
        return StoredRun(
            first=first,
            offsets=tuple(record[0] for record in records),
            data=tuple(_data(record) for record in records),
            length=offset + header_length + compress_size,
            stream=self._kept(compresslevel),
            central=self._central(index) if executable == index.executable else None,
        )

    def wants(self, entry: IncludedFile, compresslevel: int) -> bool:
        """Keep the tree's entries when nothing is kept for this level yet."""
        return self._ours(entry) and not self._kept_index(compresslevel).order

    def add(
        self, entry: IncludedFile, deflated: Deflated, compresslevel: int, *, header: bytes,
        date_time: Timestamp,
    ) -> None:  # fmt: skip
        """Append the local header and the deflated bytes to the incoming blob."""
        if self._blob is None:
            self._path(compresslevel, "").parent.mkdir(parents=True, exist_ok=True)
            self._blob = self._path(compresslevel, ".bin.tmp").open("wb")
            self._adding_date = date_time
        offset = self._blob.tell()
        self._blob.write(header)
        shutil.copyfileobj(deflated.payload, self._blob, CHUNK)
        self._adding.append((entry, offset, len(header), deflated.data))

    def save(self) -> None:
        """The pack is complete: put the blob, its central-directory records (for a later run
        that starts the archive), then its index, in place."""
        if self._blob is None or self._adding_date is None:
            return
        self._blob.close()
        self._blob = None
        self._path(self._level, ".bin.tmp").replace(self._path(self._level, ".bin"))
        entries, offsets, _, data = zip(*self._adding, strict=True)
        central = central_records(entries, offsets, data, self._adding_date, start=0)
        central_tmp = self._path(self._level, ".central.tmp")
        central_tmp.write_bytes(central)
        central_tmp.replace(self._path(self._level, ".central"))
        index = {
            "date_time": self._adding_date,
            "entries": [
                [entry.relpath, offset, header_length, item.crc, item.size, item.compress_size]
                for entry, offset, header_length, item in self._adding
            ],
            "executable": sorted(entry.relpath for entry in entries if entry.executable),
            "central_length": len(central),
        }
        _write_json(self._path(self._level, ".json"), index)

    def close(self) -> None:
        """Close the kept blob; drop an unfinished one (the pack failed)."""
        self._close_kept()
        if self._blob is not None:
            self._blob.close()
            self._blob = None
            self._path(self._level, ".bin.tmp").unlink(missing_ok=True)

    def _kept(self, compresslevel: int) -> BufferedReader:
        """The kept blob of `compresslevel` (the level of the last `_kept_index` call)."""
        if self._reading is None:
            self._reading = self._path(compresslevel, ".bin").open("rb")
        return self._reading

    def _central(self, index: _KeptIndex) -> bytes | None:
        """The kept central-directory records of the blob `index` describes; None if missing."""
        try:
            central = self._path(self._level, ".central").read_bytes()
        except OSError:
            return None
        return central if len(central) == index.central_length else None

    def _close_kept(self) -> None:
        if self._reading is not None:
            self._reading.close()
            self._reading = None

    def _ours(self, entry: IncludedFile) -> bool:
        return str(entry.source).startswith(self._packages)

    def _kept_index(self, compresslevel: int) -> _KeptIndex:
        if self._index is None or self._level != compresslevel:
            self._level = compresslevel
            self._close_kept()
            self._index = _read_index(self._path(compresslevel, ".json"))
        return self._index

    def _path(self, compresslevel: int, suffix: str) -> Path:
        name = f"level{compresslevel}-zlib-ng{zlib_ng.ZLIBNG_VERSION}{suffix}"
        return self.folder / DEFLATED / name


def _data(record: Sequence[int]) -> DeflatedData:
    """What the headers of a kept entry record ([offset, header length, crc, size, compressed])."""
    return DeflatedData(crc=record[2], size=record[3], compress_size=record[4])


def _read_index(path: Path) -> _KeptIndex:
    """A blob's index; nothing kept when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        year, month, day, hour, minute, second = data["date_time"]
        entries = data["entries"]
        return _KeptIndex(
            date_time=(year, month, day, hour, minute, second),
            order=tuple(str(entry[0]) for entry in entries),
            records={str(entry[0]): list(entry[1:]) for entry in entries},
            executable=frozenset(str(relpath) for relpath in data.get("executable", ())),
            central_length=data.get("central_length"),
        )
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        return _NOTHING_KEPT


class _Slice:
    """`length` bytes of the kept blob from `offset`, read on demand.

    Every slice reads through the same open blob (one thread copies them, one after another),
    so thousands of entries cost no file opening each.
    """

    def __init__(self, blob: IO[bytes], offset: int, length: int) -> None:
        self._blob, self._offset, self._length = blob, offset, length
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes of the slice."""
        left = self._length - self._position
        wanted = left if size < 0 else min(size, left)
        if wanted <= 0:
            return b""
        self._blob.seek(self._offset + self._position)
        data = self._blob.read(wanted)
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        """Back to the start (the only position asked for)."""
        self._position = offset
        return offset

    def close(self) -> None:
        """Nothing to release: the blob belongs to `DeflatedEntries`."""


def list_entries() -> tuple[CachedEntry, ...]:
    """Every complete cached build, newest first, with its size."""
    root = deps_dir()
    if not root.is_dir():
        return ()
    found = []
    for folder in root.iterdir():
        entry = read_entry(folder) if not folder.name.startswith(".") else None
        if entry is not None:
            found.append(_with_size(entry, folder))
    return tuple(sorted(found, key=lambda e: e.created, reverse=True))


def _with_size(entry: CachedEntry, folder: Path) -> CachedEntry:
    return dataclasses.replace(entry, size=_tree_size(folder))


def _tree_size(folder: Path) -> int:
    return sum(
        (Path(base) / name).lstat().st_size for base, _, names in os.walk(folder) for name in names
    )


def clear_entries() -> tuple[int, int, int]:
    """Remove every cached build no process is using: (removed, in use, bytes freed)."""
    root = deps_dir()
    if not root.is_dir():
        return 0, 0, 0
    removed = busy = freed = 0
    for folder in sorted(root.iterdir()):
        key = folder.name.removeprefix(INCOMING_PREFIX).split("-", 1)[0]
        with _unused(lock_file(f"deps-{key}.lock")) as free:
            if not free:
                busy += folder.name == key
                continue
            freed += _tree_size(folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed += folder.name == key
    return removed, busy, freed


@contextmanager
def _unused(lock: Path) -> Iterator[bool]:
    """Whether no funcpub process holds `lock` (then held for the body)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+", encoding="utf-8") as stream:
        yield try_lock(stream)
