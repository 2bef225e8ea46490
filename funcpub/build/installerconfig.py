"""The configuration files pip or uv reads on this machine, as one digest for the cache key.

pip reads `PIP_CONFIG_FILE`, the site-wide files (`/etc/xdg/pip/pip.conf`, `/etc/pip.conf`),
the user's (`~/.config/pip/pip.conf`, `~/.pip/pip.conf`) and the one of the environment it runs
in (`sys.prefix`). uv reads `UV_CONFIG_FILE` instead of any other, or else the first `uv.toml`
or `pyproject.toml` with a `[tool.uv]` table in the folder it runs in (the app) or a parent,
the user's `~/.config/uv/uv.toml` and the system's `/etc/xdg/uv/uv.toml`, `/etc/uv/uv.toml`;
`UV_NO_CONFIG` turns them all off. Every candidate that exists is hashed (every parent's, not
only the first: a superset costs at most a needless rebuild); a file's content never leaves
the digest (it may hold index credentials). Only small files are read and nothing is run, so a
warm build stays fast. The find-links locations the installers' variables name are read here too.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from funcpub.options import Installer
from funcpub.resources import TOMLDecodeError, parse_toml

_WINDOWS: Final = os.name == "nt"
_PIP_FILE: Final = "pip.ini" if _WINDOWS else "pip.conf"


def config_digest(installer: Installer, *, cwd: Path, environ: Mapping[str, str]) -> str:
    """sha256 over the path and content of every configuration file `installer` would read."""
    files = _uv_files(cwd, environ) if installer == "uv" else _pip_files(environ)
    contents = {str(path): digest for path, digest in files if digest is not None}
    return hashlib.sha256(json.dumps(contents, sort_keys=True).encode()).hexdigest()


def pip_find_links(environ: Mapping[str, str]) -> list[str]:
    """The locations of `PIP_FIND_LINKS` (space-separated)."""
    return environ.get("PIP_FIND_LINKS", "").split()


def uv_find_links(environ: Mapping[str, str]) -> list[str]:
    """The locations of `UV_FIND_LINKS` (comma-separated)."""
    return list(
        filter(None, (value.strip() for value in environ.get("UV_FIND_LINKS", "").split(",")))
    )


def _pip_files(environ: Mapping[str, str]) -> Iterator[tuple[Path, str | None]]:
    named = environ.get("PIP_CONFIG_FILE")
    folders = [
        *_xdg_folders(environ),
        Path("/etc"),
        Path("/Library/Application Support"),
        *_env_folder(environ, "PROGRAMDATA"),
        _config_home(environ),
        *_env_folder(environ, "APPDATA"),
        _home(environ) / "Library" / "Application Support",
    ]
    candidates = [
        *([Path(named)] if named else []),
        *(folder / "pip" / _PIP_FILE for folder in folders),
        _home(environ) / ("pip" if _WINDOWS else ".pip") / _PIP_FILE,
        Path(sys.prefix) / _PIP_FILE,
    ]
    for path in candidates:
        yield path, file_digest(path)


def _uv_files(cwd: Path, environ: Mapping[str, str]) -> Iterator[tuple[Path, str | None]]:
    if environ.get("UV_NO_CONFIG", "").lower() in {"1", "true", "yes", "on"}:
        return
    named = environ.get("UV_CONFIG_FILE")
    if named:
        yield Path(named), file_digest(Path(named))
        return
    for folder in (cwd.resolve(), *cwd.resolve().parents):
        yield folder / "uv.toml", file_digest(folder / "uv.toml")
        yield folder / "pyproject.toml", _tool_uv_digest(folder / "pyproject.toml")
    folders = [
        _config_home(environ),
        *_env_folder(environ, "APPDATA"),
        *_xdg_folders(environ),
        Path("/etc"),
        *_env_folder(environ, "PROGRAMDATA"),
    ]
    for folder in folders:
        yield folder / "uv" / "uv.toml", file_digest(folder / "uv" / "uv.toml")


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return Path(home) if home else Path.home()


def _config_home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("XDG_CONFIG_HOME") or _home(environ) / ".config")


def _xdg_folders(environ: Mapping[str, str]) -> list[Path]:
    folders = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return [Path(folder) for folder in folders.split(os.pathsep) if folder]


def _env_folder(environ: Mapping[str, str], name: str) -> list[Path]:
    return [Path(environ[name])] if environ.get(name) else []


def file_digest(path: Path) -> str | None:
    """sha256 of a file's content; None when it cannot be read (it does not exist)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _tool_uv_digest(path: Path) -> str | None:
    """sha256 of a pyproject.toml's `[tool.uv]` table; None without one (uv looks further up)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        table = parse_toml(text).get("tool", {}).get("uv")
    except TOMLDecodeError:
        return hashlib.sha256(text.encode()).hexdigest()
    if table is None:
        return None
    return hashlib.sha256(json.dumps(table, sort_keys=True, default=str).encode()).hexdigest()
