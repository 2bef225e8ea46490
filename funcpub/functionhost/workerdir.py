"""The worker's library folder: `azure.functions` and its dependencies, linked from here.

Azure's worker brings its own `azure.functions`; the emulated worker gets the one installed with
funcpub, and nothing else of this environment, so an app sees the same `sys.path` as on Azure.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Final

from packaging.requirements import Requirement

WORKER_LIBRARY: Final = "azure-functions"


def prepare_worker_dir(directory: Path) -> Path:
    """Fill `directory` with `azure.functions` and its runtime dependencies, and return it.

    Each import root is a symlink into this environment (a copy where links are not allowed):
    `azure/functions`, `werkzeug`, `markupsafe` and their `.dist-info`. There is no
    `azure/__init__.py`, so `azure` stays a namespace package that an app's own `azure-*`
    packages in `.python_packages` extend, as on Azure.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for distribution in _runtime_distributions(WORKER_LIBRARY):
        for root in _import_roots(distribution):
            source = Path(str(distribution.locate_file(root)))
            link(source, directory.joinpath(*root.parts))
    return directory


def _runtime_distributions(name: str) -> Iterator[importlib.metadata.Distribution]:
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        try:
            distribution = importlib.metadata.distribution(current)
        except importlib.metadata.PackageNotFoundError:
            continue
        key = distribution.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        yield distribution
        pending.extend(_runtime_requirements(distribution))


def _runtime_requirements(distribution: importlib.metadata.Distribution) -> list[str]:
    requirements = [Requirement(r) for r in distribution.requires or ()]
    return [r.name for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]


def _import_roots(distribution: importlib.metadata.Distribution) -> set[PurePosixPath]:
    """Top-level packages, modules and .dist-info; inside namespace packages, one level down."""
    files = [PurePosixPath(str(f)) for f in distribution.files or ()]
    names = {str(f) for f in files}
    roots: set[PurePosixPath] = set()
    for file in files:
        parts = file.parts
        if parts[0] in {"..", "__pycache__"} or parts[0].endswith(".data"):
            continue
        depth = 1
        while depth < len(parts) - 1 and "/".join(parts[:depth]) + "/__init__.py" not in names:
            if parts[0].endswith(".dist-info"):
                break
            depth += 1
        roots.add(PurePosixPath(*parts[:depth]))
    return roots


def link(source: Path, target: Path) -> None:
    """Point `target` at `source`, replacing what is there (a copy where links are not allowed)."""
    if target.is_symlink() and target.readlink() == source:
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(source, target_is_directory=source.is_dir())
    except OSError:
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
