"""Files into and out of containers as tar streams (no bind mounts, so remote engines work).

In: host files and folders (links followed) plus generated texts, under one container folder.
Out: a container folder's tar, extracted member by member with the checks `tarfile`'s `data`
filter makes (no absolute paths, nothing outside the destination, no devices, no set-id bits)
and owned by the invoking user, never by the container's root.
"""

from __future__ import annotations

import io
import stat
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Final

from funcpub.errors import ContainerError

FIXED_MTIME: Final = 1580601600  # what goes in is dated alike: the image cache stays warm
_PERMISSIONS: Final = 0o777


def write_input_archive(
    archive: IO[bytes], files: Mapping[str, Path], texts: Mapping[str, str]
) -> None:
    """A tar of `files` (relpath -> host file or folder) and `texts` (relpath -> content)."""
    with tarfile.open(fileobj=archive, mode="w", dereference=True) as tar:
        for relpath in _parents([*files, *texts]):
            tar.addfile(_directory(relpath))
        for relpath, source in sorted(files.items()):
            if relpath not in texts:
                tar.add(source, arcname=relpath, filter=_normalized)
        for relpath, text in sorted(texts.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(relpath)
            info.size, info.mode, info.mtime = len(data), 0o644, FIXED_MTIME
            tar.addfile(info, io.BytesIO(data))
    archive.seek(0)


def _parents(relpaths: Iterable[str]) -> list[str]:
    parents = {str(parent) for path in relpaths for parent in PurePosixPath(path).parents}
    return sorted(parents - {"."})


def _directory(relpath: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(relpath)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, FIXED_MTIME
    return info


def _normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def extract_output_archive(
    chunks: Iterable[bytes], destination: Path, *, owner: tuple[int, int]
) -> list[str]:
    """Extract a container's tar into `destination`, owned by `owner`; the member names."""
    destination.mkdir(parents=True, exist_ok=True)
    spool = destination / ".funcpub-output.tar"
    try:
        with spool.open("wb") as file:
            for chunk in chunks:
                file.write(chunk)
        with tarfile.open(spool, mode="r") as tar:
            kept = [m for m in (_checked(m, destination, owner) for m in tar) if m is not None]
            _extract(tar, destination, kept)
    finally:
        spool.unlink(missing_ok=True)
    return [member.name for member in kept]


def _extract(tar: tarfile.TarFile, destination: Path, members: list[tarfile.TarInfo]) -> None:
    """Extract members `_checked` already vetted (and gave their owner)."""
    if hasattr(tarfile, "fully_trusted_filter"):
        tar.extractall(destination, members=members, filter="fully_trusted")  # noqa: S202
    else:  # pragma: no cover - a Python without extraction filters
        tar.extractall(destination, members=members)  # noqa: S202


def _checked(
    member: tarfile.TarInfo, destination: Path, owner: tuple[int, int]
) -> tarfile.TarInfo | None:
    """The member as it may be extracted, None to skip it; ContainerError if it escapes."""
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        return None  # devices and fifos have no place in site-packages
    _inside(member.name, destination, member.name)
    if member.issym():
        _inside(str(PurePosixPath(member.name).parent / member.linkname), destination, member.name)
    if member.islnk():
        _inside(member.linkname, destination, member.name)
    member.uid, member.gid = owner
    member.uname = member.gname = ""
    member.mode = (member.mode & _PERMISSIONS & ~(stat.S_ISUID | stat.S_ISGID)) | (
        stat.S_IRUSR | stat.S_IWUSR | (stat.S_IXUSR if member.isdir() else 0)
    )
    return member


def _inside(name: str, destination: Path, member: str) -> None:
    root = destination.resolve()
    if PurePosixPath(name).is_absolute() or not (root / name).resolve().is_relative_to(root):
        msg = f"the container's output holds {member!r}, which points outside the build folder"
        raise ContainerError(msg, hint="check the image: its pip must not write outside --target")
