"""What ships after a build, and the optional swap of the build into the project.

The zip holds the app's files (its selection, minus any `.python_packages` of the user's when
the build made its own) plus the built `.python_packages/**`, selected with the same built-in
excludes (no `__pycache__`, no `*.pyc`); `write_zip` sorts the merged list.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Final

from funcpub.build.base import BuildResult
from funcpub.errors import BuildError
from funcpub.ignore import PYTHON_PACKAGES, FileSelection, IncludedFile, select_files

_PREFIX: Final = PYTHON_PACKAGES + "/"


def package_files(
    root: Path, selection: FileSelection, result: BuildResult
) -> tuple[IncludedFile, ...]:
    """The files of the package: app files plus the build's `.python_packages`."""
    built = result.python_packages
    if built is not None and built == root / PYTHON_PACKAGES:
        return selection.included  # --build none: the user's own folder is part of the app
    app = tuple(item for item in selection.included if not item.relpath.startswith(_PREFIX))
    if built is None:
        return app
    return app + (built_files(built) if result.files is None else result.files)


def built_files(python_packages: Path) -> tuple[IncludedFile, ...]:
    """The files of a built `.python_packages`, relpaths starting with `.python_packages/`."""
    selection = select_files(python_packages.parent, ship_python_packages=True, funcignore=())
    return tuple(item for item in selection.included if item.relpath.startswith(_PREFIX))


def write_python_packages(root: Path, built: Path) -> None:
    """Replace `<root>/.python_packages` with a copy of `built`, swapping folders at the end.

    The copy goes to a sibling folder first; only when it is complete do two renames swap it in.
    On any failure (Ctrl-C included) the previous folder is back in place.
    """
    target = root / PYTHON_PACKAGES
    incoming = Path(tempfile.mkdtemp(prefix=".python_packages.new-", dir=root))
    previous = root / (incoming.name.replace(".new-", ".old-"))
    try:
        # No bytecode: a smoke import may have left some next to the cached dependencies.
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(built, incoming, symlinks=True, dirs_exist_ok=True, ignore=ignore)
        swap_folder(incoming, target, previous=previous)
    except OSError as exc:
        msg = f"cannot write {target}: {exc.strerror or exc}"
        raise BuildError(msg, hint="the previous .python_packages is unchanged") from None
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
        _remove(previous)


def swap_folder(incoming: Path, target: Path, *, previous: Path) -> None:
    """Put `incoming` at `target` with two renames, the old `target` moved to `previous` (for
    the caller to remove); if the second rename fails, the old `target` is put back."""
    if target.exists() or target.is_symlink():
        target.rename(previous)
    try:
        incoming.rename(target)
    except BaseException:
        if previous.exists():
            previous.rename(target)
        raise


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
