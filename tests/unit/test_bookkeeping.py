"""The installers' bookkeeping files, removed from a built tree with their RECORD lines."""

from __future__ import annotations

from pathlib import Path

from funcpub.build.bookkeeping import remove_bookkeeping

UV_RECORD = """\
puresd-1.0.dist-info/INSTALLER,sha256=5hhM4Q4mYTT9z6QB6PGpUAW81PGNFrYrdXMj4oM_6ak,2
puresd-1.0.dist-info/METADATA,,48
puresd-1.0.dist-info/RECORD,,0
puresd-1.0.dist-info/REQUESTED,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0
puresd-1.0.dist-info/uv_build.json,sha256=RBNvo1WzZ4oRRq0W9-hknpT7T8If536DEMBg9hyq_4o,2
puresd-1.0.dist-info/uv_cache.json,sha256=JNBwCwsqa7bXrl5jbFsg2AU10ECTtkpO3u632nhzPTs,127
"puresd/a,b.py",,20
"""


def _uv_tree(site: Path) -> Path:
    dist_info = site / "puresd-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (site / ".lock").write_bytes(b"")
    for name in ("INSTALLER", "METADATA", "REQUESTED", "uv_build.json", "uv_cache.json"):
        (dist_info / name).write_text("x", encoding="utf-8")
    (dist_info / "RECORD").write_text(UV_RECORD, encoding="utf-8")
    return dist_info


def test_uv_files_and_their_record_lines_are_removed(tmp_path: Path) -> None:
    dist_info = _uv_tree(tmp_path)
    remove_bookkeeping(tmp_path)
    assert not (tmp_path / ".lock").exists()
    assert sorted(p.name for p in dist_info.iterdir()) == ["INSTALLER", "METADATA", "RECORD"]
    assert (dist_info / "RECORD").read_text(encoding="utf-8") == (
        "puresd-1.0.dist-info/INSTALLER,sha256=5hhM4Q4mYTT9z6QB6PGpUAW81PGNFrYrdXMj4oM_6ak,2\n"
        "puresd-1.0.dist-info/METADATA,,48\n"
        "puresd-1.0.dist-info/RECORD,,0\n"
        '"puresd/a,b.py",,20\n'
    )


def test_a_record_without_bookkeeping_is_left_as_it_is(tmp_path: Path) -> None:
    dist_info = tmp_path / "beta-1.0.dist-info"
    dist_info.mkdir()
    record = "beta-1.0.dist-info/RECORD,,\r\nbeta/__init__.py,sha256=abc,15\r\n"
    (dist_info / "RECORD").write_bytes(record.encode())
    remove_bookkeeping(tmp_path)
    assert (dist_info / "RECORD").read_bytes() == record.encode()


def test_a_missing_site_packages_is_nothing_to_do(tmp_path: Path) -> None:
    remove_bookkeeping(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
