"""The reproducible streaming zip writer."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import pytest
from zlib_ng import zlib_ng

from funcpub import package
from funcpub.errors import BuildError, ConfigError
from funcpub.ignore import IncludedFile, select_files
from funcpub.package import DEFAULT_TIMESTAMP, Artifact, write_zip, zip_timestamp
from tests.clirun import EXAMPLE, invoke

TREE: Mapping[str, bytes] = {
    "function_app.py": b"import azure.functions as func\n",
    "host.json": b'{"version": "2.0"}\n',
    "HttpExample/__init__.py": b"def main(req):\n    return 'hi'\n" * 50,
    "HttpExample/function.json": b"{}\n",
    "bin/run.sh": b"#!/bin/sh\necho hi\n",
    "data/caf\u00e9.txt": "d\u00e9j\u00e0 vu\n".encode(),
    "data/empty.txt": b"",
    "Zeta.txt": b"upper case sorts first\n",
}
EXECUTABLE = {"bin/run.sh"}


def make_tree(root: Path, tree: Mapping[str, bytes], *, order: Iterable[str] | None = None) -> None:
    for relpath in order if order is not None else tree:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tree[relpath])
        path.chmod(0o755 if relpath in EXECUTABLE else 0o644)


def pack(
    root: Path,
    destination: Path,
    *,
    timestamp: tuple[int, int, int, int, int, int] | None = None,
    compresslevel: int = 6,
) -> Artifact:
    files = included(root)
    return write_zip(files, destination, timestamp=timestamp, compresslevel=compresslevel)


def included(root: Path) -> tuple[IncludedFile, ...]:
    return select_files(root, ship_python_packages=False, funcignore=[]).included


def test_round_trip(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    artifact = pack(tmp_path / "app", tmp_path / "out/app.zip")
    with zipfile.ZipFile(artifact.path) as archive:
        assert archive.testzip() is None
        assert {name: archive.read(name) for name in archive.namelist()} == TREE
    assert artifact.file_count == len(TREE)


def test_artifact_describes_the_file(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    artifact = pack(tmp_path / "app", tmp_path / "app.zip")
    data = artifact.path.read_bytes()
    assert artifact == Artifact(
        path=tmp_path / "app.zip",
        file_count=len(TREE),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    assert artifact.path.stat().st_mode & 0o777 == 0o644


def test_same_inputs_same_bytes_whatever_the_order_and_mtimes(tmp_path: Path) -> None:
    make_tree(tmp_path / "one", TREE)
    make_tree(tmp_path / "two", TREE, order=reversed(list(TREE)))
    for number, path in enumerate(sorted((tmp_path / "two").rglob("*"))):
        os.utime(path, (1_000_000 + number, 2_000_000 + number))
    first = pack(tmp_path / "one", tmp_path / "one.zip")
    second = pack(tmp_path / "two", tmp_path / "two.zip")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()
    again = pack(tmp_path / "one", tmp_path / "again.zip")
    assert again.sha256 == first.sha256


def test_entries_sorted_by_utf8_bytes_without_folders(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    artifact = pack(tmp_path / "app", tmp_path / "app.zip")
    with zipfile.ZipFile(artifact.path) as archive:
        names = archive.namelist()
    assert names == sorted(TREE, key=lambda name: name.encode())
    assert names[0] == "HttpExample/__init__.py"
    assert not any(name.endswith("/") for name in names)


def test_headers_are_fixed(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    artifact = pack(tmp_path / "app", tmp_path / "app.zip")
    with zipfile.ZipFile(artifact.path) as archive:
        infos = archive.infolist()
    for info in infos:
        mode = 0o100755 if info.filename in EXECUTABLE else 0o100644
        assert (info.external_attr >> 16, info.create_system) == (mode, 3), info.filename
        assert info.date_time == DEFAULT_TIMESTAMP
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert (info.comment, info.extra) == (b"", b"")
        utf8 = bool(info.flag_bits & 0x800)
        assert utf8 == (not info.filename.isascii()), info.filename


def test_compresslevel_changes_the_bytes_not_the_content(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    fast = pack(tmp_path / "app", tmp_path / "fast.zip", compresslevel=0)
    best = pack(tmp_path / "app", tmp_path / "best.zip", compresslevel=9)
    assert fast.size > best.size
    with zipfile.ZipFile(fast.path) as one, zipfile.ZipFile(best.path) as two:
        assert [one.read(n) for n in one.namelist()] == [two.read(n) for n in two.namelist()]
    with pytest.raises(ValueError, match="compresslevel"):
        pack(tmp_path / "app", tmp_path / "bad.zip", compresslevel=10)


def test_source_date_epoch_sets_every_entry_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "app", TREE)
    default = pack(tmp_path / "app", tmp_path / "default.zip")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = pack(tmp_path / "app", tmp_path / "dated.zip")
    assert dated.sha256 != default.sha256
    with zipfile.ZipFile(dated.path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_explicit_timestamp_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "app", TREE)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    artifact = pack(tmp_path / "app", tmp_path / "app.zip", timestamp=(2001, 2, 3, 4, 5, 6))
    with zipfile.ZipFile(artifact.path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2001, 2, 3, 4, 5, 6)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_TIMESTAMP),
        ("", DEFAULT_TIMESTAMP),
        ("1700000000", (2023, 11, 14, 22, 13, 20)),
        ("1700000001", (2023, 11, 14, 22, 13, 20)),  # zip times step by 2 seconds
        (" 1700000000\n", (2023, 11, 14, 22, 13, 20)),
        ("0", (1980, 1, 1, 0, 0, 0)),
        ("-5", (1980, 1, 1, 0, 0, 0)),
        ("315532800", (1980, 1, 1, 0, 0, 0)),
        ("4354819198", (2107, 12, 31, 23, 59, 58)),
    ],
    ids=["unset", "empty", "epoch", "odd-second", "whitespace", "zero", "negative", "1980", "max"],
)
def test_zip_timestamp(value: str | None, expected: tuple[int, ...]) -> None:
    environ = {} if value is None else {"SOURCE_DATE_EPOCH": value}
    assert zip_timestamp(environ) == expected


@pytest.mark.parametrize("value", ["soon", "1.5", "1e9", "0x10", "4354819200", "9" * 30])
def test_zip_timestamp_rejects(value: str) -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        zip_timestamp({"SOURCE_DATE_EPOCH": value})


def test_zip_timestamp_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "315532800")
    assert zip_timestamp() == (1980, 1, 1, 0, 0, 0)


def test_unicode_names(tmp_path: Path) -> None:
    names = {"\u00e9t\u00e9/\u65e5\u672c.py": b"x", "emoji-\U0001f600.txt": b"y", "a.py": b"z"}
    make_tree(tmp_path / "app", names)
    artifact = pack(tmp_path / "app", tmp_path / "app.zip")
    with zipfile.ZipFile(artifact.path) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == names


# --- failures -------------------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_source_vanishing_leaves_nothing_behind(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    files = included(tmp_path / "app")
    (tmp_path / "app/host.json").unlink()
    (tmp_path / "out").mkdir()
    with pytest.raises(BuildError, match=r"^Cannot pack host\.json \(.*\): No such file"):
        write_zip(files, tmp_path / "out/app.zip")
    assert leftovers(tmp_path / "out") == []


def test_failure_keeps_the_previous_zip(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    files = included(tmp_path / "app")
    (tmp_path / "app/data/empty.txt").write_bytes(b"grew")
    previous = tmp_path / "app.zip"
    previous.write_bytes(b"previous")
    with pytest.raises(BuildError, match=r"^data/empty\.txt changed while it was being packed"):
        write_zip(files, previous)
    assert previous.read_bytes() == b"previous"
    assert leftovers(tmp_path) == ["app", "app.zip"]


def test_shrinking_source_is_an_error(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    files = included(tmp_path / "app")
    (tmp_path / "app/HttpExample/__init__.py").write_bytes(b"short")
    expected = len(TREE["HttpExample/__init__.py"])
    with pytest.raises(BuildError, match=rf"\({expected} bytes expected\)$"):
        write_zip(files, tmp_path / "app.zip")


def test_interrupt_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "app", TREE)
    files = included(tmp_path / "app")
    real_deflate = package.deflate
    calls: list[str] = []

    def interrupted(entry: IncludedFile, content: bytes | None, level: int) -> package.Deflated:
        calls.append(entry.relpath)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_deflate(entry, content, level)

    monkeypatch.setattr(package, "deflate", interrupted)
    (tmp_path / "out").mkdir()
    with pytest.raises(package.PackInterruptedError) as info:
        write_zip(files, tmp_path / "out/app.zip")
    assert info.value.exit_code == 130
    assert leftovers(tmp_path / "out") == []


def test_zip_writing_keeps_the_zip_out_of_place_until_it_is_asked_for(tmp_path: Path) -> None:
    make_tree(tmp_path / "app", TREE)
    destination = tmp_path / "out" / "app.zip"
    destination.parent.mkdir()
    destination.write_bytes(b"previous")
    with package.zip_writing(included(tmp_path / "app"), destination) as finish:
        assert destination.read_bytes() == b"previous"  # whatever the writer has done so far
        artifact = finish()
    plain = pack(tmp_path / "app", tmp_path / "plain.zip")  # the same bytes as write_zip
    assert (artifact.sha256, artifact.size) == (plain.sha256, plain.size)
    assert artifact.sha256 == hashlib.sha256(destination.read_bytes()).hexdigest()
    assert leftovers(destination.parent) == ["app.zip"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_leaving_zip_writing_early_stops_the_writer_and_keeps_the_previous_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
) -> None:
    """Ctrl-C or a failed check while the zip is written: the writer stops at its next write."""
    make_tree(tmp_path / "app", {f"f{number:03}.py": b"x" * 5000 for number in range(200)})
    written: list[int] = []
    real_deflate = package.deflate

    def slow(entry: IncludedFile, content: bytes | None, level: int) -> package.Deflated:
        written.append(1)
        time.sleep(0.01)
        return real_deflate(entry, content, level)

    monkeypatch.setattr(package, "deflate", slow)
    destination = tmp_path / "out" / "app.zip"
    destination.parent.mkdir()
    destination.write_bytes(b"previous")
    expected = package.PackInterruptedError if error is KeyboardInterrupt else RuntimeError
    with (
        pytest.raises(expected),
        package.zip_writing(included(tmp_path / "app"), destination, workers=1),
    ):
        time.sleep(0.2)
        raise error
    assert destination.read_bytes() == b"previous"
    assert leftovers(destination.parent) == ["app.zip"]
    assert len(written) < 100  # stopped, not written to the end and thrown away


def test_unwritable_destination_is_a_build_error(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_bytes(b"a file, not a folder")
    with pytest.raises(BuildError, match=r"^Cannot write .*blocker/app\.zip"):
        write_zip([], tmp_path / "blocker/app.zip")


@pytest.mark.parametrize(
    "relpath",
    ["/abs.py", "../up.py", "a/../b.py", "a\\b.py", "", "a//b.py", "./a.py", "dir/", "a/."],
)
def test_unsafe_names_are_programming_errors(tmp_path: Path, relpath: str) -> None:
    source = tmp_path / "x"
    source.write_bytes(b"x")
    entry = IncludedFile(relpath=relpath, source=source, size=1, executable=False)
    with pytest.raises(ValueError, match="not a relative POSIX file path"):
        write_zip([entry], tmp_path / "app.zip")
    assert leftovers(tmp_path) == ["x"]


def test_duplicate_names_are_programming_errors(tmp_path: Path) -> None:
    source = tmp_path / "x"
    source.write_bytes(b"x")
    entry = IncludedFile(relpath="a.py", source=source, size=1, executable=False)
    with pytest.raises(ValueError, match=r"duplicate archive name 'a\.py'"):
        write_zip([entry, entry], tmp_path / "app.zip")


# --- ZIP64 ----------------------------------------------------------------------------------------


def test_more_than_65535_entries(tmp_path: Path) -> None:
    source = tmp_path / "one.txt"
    source.write_bytes(b"1")
    count = 0xFFFF + 2
    files = [
        IncludedFile(relpath=f"d{i % 64:02}/f{i:06}.txt", source=source, size=1, executable=False)
        for i in range(count)
    ]
    artifact = write_zip(files, tmp_path / "many.zip", compresslevel=1)
    assert artifact.file_count == count
    with zipfile.ZipFile(artifact.path) as archive:
        names = archive.namelist()
        assert len(names) == count
        assert archive.read(names[-1]) == b"1"
    assert b"PK\x06\x06" in artifact.path.read_bytes()[-200:]  # ZIP64 end of central directory


def test_big_entries_get_zip64_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "ZIP64_THRESHOLD", 100)
    (tmp_path / "small.bin").write_bytes(b"s" * 100)
    (tmp_path / "big.bin").write_bytes(b"b" * 101)
    files = [
        IncludedFile(relpath=p.name, source=p, size=p.stat().st_size, executable=False)
        for p in sorted(tmp_path.glob("*.bin"))
    ]
    artifact = write_zip(files, tmp_path / "out.zip")
    with zipfile.ZipFile(artifact.path) as archive:
        assert archive.read("big.bin") == b"b" * 101
        extras = {info.filename: local_extra(artifact.path, info) for info in archive.infolist()}
    assert extras["small.bin"] == b""
    assert extras["big.bin"][:4] == struct.pack("<HH", 1, 16)  # ZIP64 extended information


def local_extra(path: Path, info: zipfile.ZipInfo) -> bytes:
    """The extra field of an entry's local header (zipfile reads the central one)."""
    with path.open("rb") as stream:
        stream.seek(info.header_offset)
        header = stream.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        stream.seek(name_length, os.SEEK_CUR)
        return stream.read(extra_length)


@pytest.fixture
def sparse_folder(tmp_path: Path) -> Iterator[Path]:
    """Somewhere to put a big sparse file: tmpfs when there is one, as reading its holes is
    almost free there (on ext4 the kernel zero-fills every page: 10 s for 4 GiB)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm) as folder:
            yield Path(folder)
    else:
        yield tmp_path


def test_entry_over_4_gib(tmp_path: Path, sparse_folder: Path) -> None:
    size = (1 << 32) + (1 << 20)
    source = sparse_folder / "big.bin"
    with source.open("wb") as stream:
        stream.truncate(size)
    if source.stat().st_blocks * 512 > 1 << 20:
        unavailable("no file system here supports sparse files")
    entry = IncludedFile(relpath="big.bin", source=source, size=size, executable=False)
    artifact = write_zip([entry], tmp_path / "big.zip", compresslevel=1)
    with zipfile.ZipFile(artifact.path) as archive:
        info = archive.getinfo("big.bin")
    assert info.file_size == size
    assert 0 < info.compress_size < size // 100
    # The local header carries the real sizes in its ZIP64 field, as unzip tools read them.
    assert local_extra(artifact.path, info) == struct.pack("<HHQQ", 1, 16, size, info.compress_size)


# What the archive over 4 GiB needs at most: its source, the deflated entries spooled to
# TMPDIR while the writer catches up (all of them, in the worst case) and the zip itself.
ROOM_FOR_4_GIB: Final = 12 << 30
BIG_ENTRY_SIZE: Final = (1 << 30) + (32 << 20)  # four of them end past 4 GiB
NOISE: Final = os.urandom(64 << 10)  # repeated, as deflate only looks 32 KiB back


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI=true, where it must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the ZIP64 tests must run)")
    pytest.skip(reason)


@pytest.mark.slow
@pytest.mark.subprocess  # unzip reads the archive too
def test_entries_past_4_gib(tmp_path: Path) -> None:
    """Small entries whose local headers start past 4 GiB: ZIP64 offsets in the central
    directory and the ZIP64 end records, read back by zipfile and by unzip."""
    free = shutil.disk_usage(tmp_path).free
    if free < ROOM_FOR_4_GIB:
        needed = ROOM_FOR_4_GIB >> 30
        unavailable(f"{free >> 30} GiB free in {tmp_path}; an archive over 4 GiB needs {needed}")
    source, archive_path = tmp_path / "noise.bin", tmp_path / "big.zip"
    big = [
        IncludedFile(relpath=f"big/{i}.bin", source=source, size=BIG_ENTRY_SIZE, executable=False)
        for i in range(4)
    ]
    make_tree(tmp_path / "app", {"small/a.txt": b"after 4 GiB\n", "small/b.py": b"B = 2\n"})
    small = [
        IncludedFile(relpath=f"small/{p.name}", source=p, size=p.stat().st_size, executable=False)
        for p in sorted((tmp_path / "app" / "small").iterdir())
    ]
    try:
        with source.open("wb") as stream:
            for _ in range(BIG_ENTRY_SIZE // len(NOISE)):
                stream.write(NOISE)
        artifact = write_zip(big + small, archive_path, compresslevel=0)
        source.unlink()
        assert artifact.size > 1 << 32
        with zipfile.ZipFile(artifact.path) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            assert archive.read("small/a.txt") == b"after 4 GiB\n"
            assert archive.read("small/b.py") == b"B = 2\n"
        assert all(infos[f"small/{name}"].header_offset > 1 << 32 for name in ("a.txt", "b.py"))
        assert [infos[entry.relpath].file_size for entry in big] == [BIG_ENTRY_SIZE] * 4
        with artifact.path.open("rb") as stream:
            stream.seek(-200, os.SEEK_END)
            end = stream.read()
        assert b"PK\x06\x06" in end and b"PK\x06\x07" in end  # ZIP64 end record, locator
        if shutil.which("unzip"):
            unzip_reads(artifact.path, [*(e.relpath for e in big), "small/a.txt", "small/b.py"])
    finally:
        for path in (source, archive_path):
            path.unlink(missing_ok=True)


def unzip_reads(path: Path, names: list[str]) -> None:
    """Info-ZIP's unzip lists `names` and finds every entry's data intact (CRCs checked)."""
    listed = subprocess.run(["unzip", "-l", path], capture_output=True, text=True, check=True)
    assert [line.split()[-1] for line in listed.stdout.splitlines()[3:-2]] == names
    tested = subprocess.run(["unzip", "-t", path], capture_output=True, text=True, check=False)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout


def zipfile_reference(
    files: Iterable[IncludedFile], destination: Path, *, zip64_above: int = 1 << 30
) -> bytes:
    """The archive zipfile's own streaming writer makes of the same entries (with zlib-ng)."""
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for entry in sorted(files, key=lambda item: item.relpath.encode()):
            info = zipfile.ZipInfo(entry.relpath, date_time=DEFAULT_TIMESTAMP)
            info.create_system = 3
            info.external_attr = (0o100755 if entry.executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=entry.size > zip64_above) as sink:
                sink.write(entry.source.read_bytes())
    return destination.read_bytes()


def big_tree(root: Path) -> None:
    """Files of many sizes: empty, tiny, over the 1 MiB chunk and the in-memory spool, and on
    both sides of a deflate batch's limits (`BATCH_ENTRIES` files, `BATCH_BYTES`)."""
    tree = {f"pkg/m{i:03}.py": (f"VALUE = {i}\n" * (i * 37)).encode() for i in range(120)}
    tree |= {f"tiny/t{i:03}.txt": f"{i}\n".encode() for i in range(package.BATCH_ENTRIES + 44)}
    tree["pkg/empty.py"] = b""
    tree["pkg/big.bin"] = os.urandom(1 << 20) + b"z" * (3 << 20)
    tree["pkg/batch_limit.bin"] = os.urandom(package.BATCH_BYTES)
    tree["pkg/batch_limit_less_one.bin"] = os.urandom(package.BATCH_BYTES - 1)
    make_tree(root, tree)


def test_small_files_are_deflated_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "app", {f"t/f{i:04}.txt": b"x" * 100 for i in range(1000)})
    make_tree(tmp_path / "app", {"big.bin": b"y" * package.BATCH_BYTES})
    tasks: list[int] = []
    real = package._deflate_all

    def counted(batch: list[IncludedFile], *args: Any) -> list[package.Deflated]:
        tasks.append(len(batch))
        return real(batch, *args)

    monkeypatch.setattr(package, "_deflate_all", counted)
    files = included(tmp_path / "app")
    artifact = write_zip(files, tmp_path / "app.zip", workers=2)
    assert sorted(tasks) == [1, 232, *[package.BATCH_ENTRIES] * 3]  # big.bin goes alone
    with zipfile.ZipFile(artifact.path) as archive:
        assert archive.testzip() is None
        assert len(archive.namelist()) == 1001


@pytest.fixture
def zipfile_with_zlib_ng(monkeypatch: pytest.MonkeyPatch) -> None:
    """zipfile deflating with zlib-ng, as funcpub does."""
    monkeypatch.setattr(zipfile, "zlib", zlib_ng)


@pytest.mark.usefixtures("zipfile_with_zlib_ng")
def test_the_same_bytes_with_one_worker_or_many(tmp_path: Path) -> None:
    big_tree(tmp_path / "app")
    files = included(tmp_path / "app")
    one = write_zip(files, tmp_path / "one.zip", workers=1)
    many = write_zip(files, tmp_path / "many.zip", workers=8)
    assert one.sha256 == many.sha256
    assert one.path.read_bytes() == zipfile_reference(files, tmp_path / "reference.zip")


@pytest.mark.usefixtures("zipfile_with_zlib_ng")
def test_the_central_directory_matches_zipfile_with_zip64(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "ZIP64_THRESHOLD", 100)
    make_tree(tmp_path / "app", TREE)
    files = included(tmp_path / "app")
    ours = write_zip(files, tmp_path / "ours.zip", workers=3).path.read_bytes()
    assert ours == zipfile_reference(files, tmp_path / "reference.zip", zip64_above=100)
    with zipfile.ZipFile(tmp_path / "ours.zip") as archive:
        assert archive.testzip() is None


OVER_2_GIB: Final = (2 << 30) + (100 << 20)


@pytest.mark.slow
@pytest.mark.subprocess  # unzip reads the archive too
def test_pack_ships_a_file_over_2_gib(
    capsys: pytest.CaptureFixture[str], sparse_folder: Path, tmp_path: Path
) -> None:
    """`funcpub pack` end to end with a (sparse) 2.1 GiB file: selected, validated without
    complaint, written as a ZIP64 entry of the right size and CRC."""
    app = sparse_folder / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    big = app / "assets" / "model.bin"
    big.parent.mkdir()
    with big.open("wb") as stream:
        stream.truncate(OVER_2_GIB)
    if big.stat().st_blocks * 512 > 1 << 20:
        unavailable("no file system here supports sparse files")
    zip_path = tmp_path / "app.zip"
    code, _, err = invoke(capsys, "pack", str(app), "--build", "none", "-o", str(zip_path))
    assert code == 0, err
    assert "warning" not in err.lower(), "a big file is nothing to warn about"
    assert f"writing {zip_path} (8 files)" in err
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo("assets/model.bin")
        names = archive.namelist()
    assert info.file_size == OVER_2_GIB
    assert 0 < info.compress_size < OVER_2_GIB // 100
    zip64_sizes = struct.pack("<HHQQ", 1, 16, OVER_2_GIB, info.compress_size)
    assert local_extra(zip_path, info) == zip64_sizes
    assert zip_path.stat().st_size < 16 << 20
    if shutil.which("unzip"):
        unzip_reads(zip_path, names)  # every CRC checked
    else:
        with zipfile.ZipFile(zip_path) as archive:
            assert archive.testzip() is None
