"""The dependency cache: built `.python_packages` trees, and their deflated zip entries.

Level 1 keeps a finished, checked build per `CacheKey` in `<user cache>/funcpub/deps/<key>/`;
a later build with the same key uses that tree where it is (no install, no copy). Level 2
keeps the tree's entries as a pack deflated them, so packing again only deflates the app's
own files and copies the dependency entries as they are.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from zlib_ng import zlib_ng

from funcpub.build.base import BuildReporter, BuildResult
from funcpub.build.cachekey import CacheKey
from funcpub.build.staging import swap_folder
from funcpub.ignore import IncludedFile
from funcpub.package import Deflated
from funcpub.usercache import cache_dir, exclusive, lock_file, try_lock
from funcpub.zipformat import DeflatedData

DEPS: Final = "deps"
ENTRY_FILE: Final = "entry.json"
PACKAGES: Final = ".python_packages"
DEFLATED: Final = "deflated"
INCOMING_PREFIX: Final = ".incoming-"
ENTRY_FORMAT: Final = 1
DEFAULT_TTL: Final = 24 * 3600.0
LOCK_TIMEOUT: Final = 3600.0  # another process's build of the same key (a build's own limit)
CHUNK: Final = 1 << 20


@dataclass(frozen=True, kw_only=True)
class CachePolicy:
    """`--no-cache`, `--refresh` and `--cache-ttl`."""

    use: bool = True
    refresh: bool = False
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
    describes: str  # installer and target, for `funcpub cache list`
    size: int = 0  # bytes on disk (filled in by `list_entries`)


@dataclass(frozen=True, kw_only=True)
class CachedBuild:
    """A build that pack uses: its result, and where its deflated entries are kept."""

    result: BuildResult
    store: DeflatedEntries | None = None


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
        reporter.step("dependencies: --refresh, resolving them again")
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
        entry = CachedEntry(
            key=key.digest,
            created=time.time(),
            exact=key.hashed or exact(result),
            installed=result.installed,
            built_from_source=result.built_from_source,
            warnings=result.warnings,
            describes=describes,
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
    )


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


@dataclass
class DeflatedEntries:
    """Level 2: the deflated zip entries of one cached tree (a `package.DeflatedStore`).

    One blob per compression level and zlib-ng version, with an index by archive path. A pack
    that finds no index deflates the tree's entries and keeps them; later packs copy them.
    """

    folder: Path
    _index: dict[str, list[int]] | None = None  # relpath -> [offset, crc, size, compress_size]
    _level: int = -1
    _adding: dict[str, list[int]] = field(default_factory=dict)
    _blob: IO[bytes] | None = None
    _packages: str = ""

    def __post_init__(self) -> None:
        self._packages = str((self.folder / PACKAGES).resolve()) + os.sep

    def find(self, entry: IncludedFile, compresslevel: int) -> Deflated | None:
        """The kept deflated data of a file of the cached tree."""
        if not self._ours(entry):
            return None
        record = self._records(compresslevel).get(entry.relpath)
        if record is None or record[2] != entry.size:
            return None
        offset, crc, size, compress_size = record
        data = DeflatedData(crc=crc, size=size, compress_size=compress_size)
        payload = _Slice(self._path(compresslevel, ".bin"), offset, compress_size)
        return Deflated(data=data, payload=payload, stored=True)

    def wants(self, entry: IncludedFile, compresslevel: int) -> bool:
        """Keep the tree's entries when nothing is kept for this level yet."""
        return self._ours(entry) and not self._records(compresslevel)

    def add(self, entry: IncludedFile, deflated: Deflated, compresslevel: int) -> None:
        """Append the deflated bytes to the incoming blob."""
        if self._blob is None:
            self._path(compresslevel, "").parent.mkdir(parents=True, exist_ok=True)
            self._blob = self._path(compresslevel, ".bin.tmp").open("wb")
        offset = self._blob.tell()
        shutil.copyfileobj(deflated.payload, self._blob, CHUNK)
        data = deflated.data
        self._adding[entry.relpath] = [offset, data.crc, data.size, data.compress_size]

    def save(self) -> None:
        """The pack is complete: put the blob, then its index, in place."""
        if self._blob is None:
            return
        self._blob.close()
        self._blob = None
        self._path(self._level, ".bin.tmp").replace(self._path(self._level, ".bin"))
        _write_json(self._path(self._level, ".json"), self._adding)

    def close(self) -> None:
        """Drop an unfinished blob (the pack failed)."""
        if self._blob is not None:
            self._blob.close()
            self._blob = None
            self._path(self._level, ".bin.tmp").unlink(missing_ok=True)

    def _ours(self, entry: IncludedFile) -> bool:
        return str(entry.source).startswith(self._packages)

    def _records(self, compresslevel: int) -> dict[str, list[int]]:
        if self._index is None or self._level != compresslevel:
            self._level = compresslevel
            try:
                text = self._path(compresslevel, ".json").read_text(encoding="utf-8")
                self._index = dict(json.loads(text))
            except (OSError, ValueError, TypeError):
                self._index = {}
        return self._index

    def _path(self, compresslevel: int, suffix: str) -> Path:
        name = f"level{compresslevel}-zlib-ng{zlib_ng.ZLIBNG_VERSION}{suffix}"
        return self.folder / DEFLATED / name


class _Slice:
    """`length` bytes of a file from `offset`, read on demand."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._path, self._offset, self._length = path, offset, length
        self._stream: IO[bytes] | None = None
        self._left = length

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes of the slice."""
        if self._stream is None:
            self._stream = self._path.open("rb")
            self._stream.seek(self._offset)
        wanted = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(wanted)
        self._left -= len(data)
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        """Back to the start (the only position asked for)."""
        if self._stream is not None:
            self._stream.seek(self._offset + offset)
        self._left = self._length - offset
        return offset

    def close(self) -> None:
        """Close the file."""
        if self._stream is not None:
            self._stream.close()


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
