"""The bytes of a zip archive around already deflated entries (APPNOTE 6.3, with ZIP64).

`package.write_zip` deflates entries itself (in parallel, or copies them from the dependency
cache), so it writes the headers here rather than through `zipfile`'s streaming writer. The
records are the ones `zipfile` writes for the same entries, field for field: an archive does
not change bytes because its entries were deflated elsewhere.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import Final

ZIP64_LIMIT: Final = (1 << 31) - 1  # zipfile's: sizes and offsets above need ZIP64 fields
FILECOUNT_LIMIT: Final = 0xFFFF
ZIP64_VERSION: Final = 45
UTF8_FLAG: Final = 0x800
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END = struct.Struct("<4s4H2LH")
_ZIP64_EXTRA = struct.Struct("<HH")


@dataclass(frozen=True, kw_only=True)
class DeflatedData:
    """What the headers record about one entry's deflated data."""

    crc: int
    size: int  # bytes before compression
    compress_size: int


def local_header(info: zipfile.ZipInfo, data: DeflatedData, *, zip64: bool) -> bytes:
    """The local file header of `info` (which it updates, as zipfile does)."""
    record_data(info, data, zip64=zip64)
    return info.FileHeader(zip64)


def record_data(info: zipfile.ZipInfo, data: DeflatedData, *, zip64: bool) -> None:
    """Update `info` for `data` as writing its local header does (the central record reads it)."""
    info.CRC = data.crc
    info.file_size = data.size
    info.compress_size = data.compress_size
    info.flag_bits = 0
    if zip64:
        info.extract_version = max(ZIP64_VERSION, info.extract_version)
        info.create_version = max(ZIP64_VERSION, info.create_version)


def central_directory(records: bytes, count: int, start: int) -> bytes:
    """The central directory of `count` entries' `records` starting at offset `start`, and the
    end records."""
    return records + _end_records(count, len(records), start)


def central_record(info: zipfile.ZipInfo) -> bytes:
    """The central-directory record of `info` (complete once its local header is written)."""
    dt = info.date_time
    dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
    dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
    extra: list[int] = []
    file_size, compress_size, offset = info.file_size, info.compress_size, info.header_offset
    if file_size > ZIP64_LIMIT or compress_size > ZIP64_LIMIT:
        extra += [file_size, compress_size]
        file_size = compress_size = 0xFFFFFFFF
    if offset > ZIP64_LIMIT:
        extra.append(offset)
        offset = 0xFFFFFFFF
    extra_data = b""
    min_version = 0
    if extra:
        extra_data = _ZIP64_EXTRA.pack(1, 8 * len(extra)) + struct.pack(f"<{len(extra)}Q", *extra)
        min_version = ZIP64_VERSION
    name, flags = _encoded_name(info)
    record = _CENTRAL.pack(
        *(b"PK\x01\x02", max(min_version, info.create_version), info.create_system),
        *(max(min_version, info.extract_version), info.reserved, flags, info.compress_type),
        *(dostime, dosdate, info.CRC, compress_size, file_size),
        *(len(name), len(extra_data), 0, 0, info.internal_attr, info.external_attr, offset),
    )
    return record + name + extra_data


def _encoded_name(info: zipfile.ZipInfo) -> tuple[bytes, int]:
    try:
        return info.filename.encode("ascii"), info.flag_bits
    except UnicodeEncodeError:
        return info.filename.encode("utf-8"), info.flag_bits | UTF8_FLAG


def _end_records(count: int, size: int, offset: int) -> bytes:
    records = b""
    if count > FILECOUNT_LIMIT or offset > ZIP64_LIMIT or size > ZIP64_LIMIT:
        end = offset + size
        records += _END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset)
        records += _END64_LOCATOR.pack(b"PK\x06\x07", 0, end, 1)
        count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
    return records + _END.pack(b"PK\x05\x06", 0, 0, count, count, size, offset, 0)
