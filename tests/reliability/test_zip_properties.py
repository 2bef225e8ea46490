"""Property: the zip holds every selected file byte for byte, with its mode, and nothing else.

tests/unit/test_package.py checks one fixed tree (and ZIP64, >65,535 entries, interrupts);
tests/unit/test_ignore_git.py checks *which* files are selected against git. Here hypothesis
draws arbitrary trees - Unicode names, empty and binary files, executables, links to files
inside the app, built-in excludes - and the round trip must hold for every one of them, twice
over with the same bytes.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funcpub.ignore import select_files
from funcpub.package import DEFAULT_TIMESTAMP, write_zip

# Names that stress the zip writer: Unicode (UTF-8 flag), spaces, dots, names the built-in
# excludes drop (__pycache__, *.pyc, .venv, local.settings.json) and ones they must keep.
SEGMENTS = st.one_of(
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="/\\\x00"
        ),
        min_size=1,
        max_size=12,
    ).filter(lambda name: name not in (".", "..") and len(name.encode()) <= 200),
    st.sampled_from(
        ["__pycache__", "x.pyc", ".venv", "local.settings.json", ".funcignore", "a.py", "Z"]
    ),
)
TREES = st.dictionaries(
    keys=st.lists(SEGMENTS, min_size=1, max_size=3).map(tuple),
    values=st.tuples(st.binary(max_size=2048), st.booleans()),
    min_size=1,
    max_size=12,
)


def make(root: Path, tree: dict[tuple[str, ...], tuple[bytes, bool]]) -> None:
    """Write the files; a path that is also another's folder stays a folder."""
    folders = {parts[:depth] for parts in tree for depth in range(1, len(parts))}
    for parts, (data, executable) in tree.items():
        if parts in folders:  # a file can't also be a folder
            continue
        if parts[0] in ("requirements.txt", ".funcignore"):  # read as text: other tests' job
            continue
        path = root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if executable else 0o644)
    first = next((p for p in sorted(root.rglob("*")) if p.is_file()), None)
    if first is not None:  # a link inside the app ships as a copy of its target
        (root / "link-to-first").symlink_to(first)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=TREES)
def test_every_selected_file_is_in_the_zip_byte_for_byte_and_nothing_else(
    tree: dict[tuple[str, ...], tuple[bytes, bool]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch, "app")
        root.mkdir()
        make(root, tree)
        selection = select_files(root, ship_python_packages=True)
        first = write_zip(selection.included, Path(scratch, "one.zip"))
        second = write_zip(selection.included, Path(scratch, "two.zip"))
        assert first.sha256 == second.sha256, "same files, same bytes"
        expected = {item.relpath: item for item in selection.included}
        with zipfile.ZipFile(first.path) as archive:
            assert archive.testzip() is None
            infos = archive.infolist()
            assert [info.filename for info in infos] == sorted(expected, key=str.encode)
            for info in infos:
                item = expected[info.filename]
                assert archive.read(info) == item.source.read_bytes()
                mode = 0o100755 if item.executable else 0o100644
                assert info.external_attr >> 16 == mode
                assert info.date_time == DEFAULT_TIMESTAMP
        assert first.file_count == len(expected)
        # Nothing but the app's own files, and never a secret file.
        real_root = root.resolve()
        for item in selection.included:
            assert item.source.resolve().is_relative_to(real_root)
            assert item.relpath.split("/")[-1] != "local.settings.json"
            assert item.relpath != ".funcignore"
