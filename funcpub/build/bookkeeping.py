"""Installer bookkeeping removed from a built tree, so uv and pip ship the same files.

`uv pip install --target` leaves files pip does not: a `.lock` at the top of site-packages, and
in each `.dist-info` a `uv_cache.json` (with the time uv unpacked the wheel into its cache, so its
bytes depend on the cache's state) and, for what it built from source, `uv_build.json`; uv
also marks every distribution `REQUESTED`, pip only the ones requirements.txt names. None of them
matters to the worker. They are deleted after the install, and their lines dropped from RECORD,
so the package's bytes depend only on what was installed. `INSTALLER` stays (it says `uv` or
`pip`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Final

from funcpub.build.distributions import DIST_INFO_SUFFIX

TOP_LEVEL: Final = frozenset({".lock"})
IN_DIST_INFO: Final = frozenset({"uv_cache.json", "uv_build.json", "REQUESTED"})


def remove_bookkeeping(site_packages: Path) -> None:
    """Delete the installers' bookkeeping files in `site_packages` and their RECORD lines."""
    for name in TOP_LEVEL:
        (site_packages / name).unlink(missing_ok=True)
    if not site_packages.is_dir():
        return
    for folder in site_packages.iterdir():
        if folder.name.endswith(DIST_INFO_SUFFIX) and folder.is_dir():
            _tidy_dist_info(folder)


def _tidy_dist_info(folder: Path) -> None:
    for name in IN_DIST_INFO:
        (folder / name).unlink(missing_ok=True)
    record = folder / "RECORD"
    if record.is_file():
        removed = {f"{folder.name}/{name}" for name in IN_DIST_INFO}
        text = record.read_text(encoding="utf-8")
        kept = [row for row in csv.reader(io.StringIO(text)) if row and row[0] not in removed]
        output = io.StringIO()
        csv.writer(output, lineterminator="\n").writerows(kept)
        if output.getvalue() != text:
            record.write_text(output.getvalue(), encoding="utf-8")
