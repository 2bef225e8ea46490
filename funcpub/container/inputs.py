"""What goes into the build container: the requirements, what they reference, and credentials.

The requirements file and its `-r`/`-c` includes are rewritten so that every local path they
name (wheel folders of `--find-links`, local wheels and sdists, project folders) points at a
copy inside the container: under `/funcpub/app/` for what is inside the app (same relative
place), under `/funcpub/external/<n>/` for what is outside; the install writes `/funcpub/out/`.
`PIP_FIND_LINKS` (or `UV_FIND_LINKS`) folders are mapped the same way (relative ones from the
app) and the variable names their copies.
Index credentials never go into a file: the variables pip reads (`PIP_INDEX_URL`, ...) and any
`${NAME}` a requirements file uses are handed to the one `pip install` process; the `${NAME}`
values and the passwords (or tokens) in the index URLs are secrets, never printed.
"""

from __future__ import annotations

import re
import shlex
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

from funcpub.build.installerconfig import pip_find_links, uv_find_links
from funcpub.container.spec import APP
from funcpub.requirements import (
    INCLUDES,
    logical_lines,
    parse_entry,
    split_requirement,
    take_option,
    url_credentials,
)

EXTERNAL: Final = "funcpub/external"
FIND_LINKS: Final = frozenset({"-f", "--find-links"})
EDITABLE: Final = ("-e", "--editable")
# What pip reads from its environment about indexes; uv's names count when pip's are unset.
PIP_VARIABLES: Final = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_NO_INDEX",
    "PIP_PRE",
    "PIP_ONLY_BINARY",
    "PIP_NO_BINARY",
    "PIP_PREFER_BINARY",
)
UV_TO_PIP: Final[Mapping[str, str]] = {
    "UV_INDEX_URL": "PIP_INDEX_URL",
    "UV_DEFAULT_INDEX": "PIP_INDEX_URL",
    "UV_EXTRA_INDEX_URL": "PIP_EXTRA_INDEX_URL",
}
_PLACEHOLDER: Final = re.compile(r"\$\{([A-Z0-9_]+)\}")


@dataclass(kw_only=True)
class ContainerInputs:
    """Files for the container (relpaths from `/`), and the install's environment."""

    requirements: str = ""  # container path of the top requirements file
    files: dict[str, Path] = field(default_factory=dict)  # relpath -> host file or folder
    texts: dict[str, str] = field(default_factory=dict)  # relpath -> rewritten requirements
    environment: dict[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)  # values to hide in the output


def container_inputs(root: Path, requirements: str, environ: Mapping[str, str]) -> ContainerInputs:
    """Everything the install in the container needs, for `requirements` (relative to `root`)."""
    mapper = _Mapper(root.resolve())
    inputs = ContainerInputs()
    pending = [mapper.root / requirements]
    while pending:
        path = pending.pop()
        relpath = mapper.relpath(path)
        if relpath in inputs.texts:
            continue
        text, includes = _rewrite(path, mapper)
        inputs.texts[relpath] = text
        pending.extend(includes)
    inputs.requirements = mapper.container_path(mapper.root / requirements)
    find_links = _environ_find_links(environ, mapper)
    inputs.files = {relpath: path for path, relpath in mapper.mapped.items()}
    _environment(inputs, environ, find_links)
    return inputs


class _Mapper:
    """Host paths to relpaths under /funcpub: inside the app as they are, the rest numbered."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mapped: dict[Path, str] = {}

    def relpath(self, path: Path) -> str:
        path = path.resolve()
        if path not in self.mapped:
            if path.is_relative_to(self.root):
                self.mapped[path] = str(PurePosixPath(APP, *path.relative_to(self.root).parts))
            else:
                self.mapped[path] = f"{EXTERNAL}/{len(self.mapped)}/{path.name}"
        return self.mapped[path]

    def container_path(self, path: Path) -> str:
        return "/" + self.relpath(path)


def _rewrite(path: Path, mapper: _Mapper) -> tuple[str, list[Path]]:
    """The file's logical lines with local paths pointing into the container; its includes."""
    text = path.read_bytes().decode("utf-8-sig", "replace")
    includes: list[Path] = []
    lines = []
    for _, line in logical_lines(text):
        if line.startswith("-") and not line.startswith(EDITABLE):
            lines.append(_rewrite_options(line, path, mapper, includes))
        else:
            lines.append(_rewrite_requirement(line, mapper))
    return "\n".join(lines) + "\n", includes


def _rewrite_options(line: str, path: Path, mapper: _Mapper, includes: list[Path]) -> str:
    try:
        tokens = shlex.split(line)
    except ValueError:
        return line  # pip reports it, as it would here
    out: list[str] = []
    while tokens:
        option, value, tokens = take_option(tokens)
        if value is not None and option in INCLUDES and not _is_remote(value):
            included = path.parent / _local(value)
            includes.append(included)
            value = mapper.container_path(included)
        elif value is not None and option in FIND_LINKS and not _is_remote(value):
            value = _find_links(value, (path.parent, mapper.root), mapper)
        out.extend((option,) if value is None else (option, value))
    return shlex.join(out)


def _find_links(value: str, folders: tuple[Path, ...], mapper: _Mapper) -> str:
    """A local location's container path, relative to the first of `folders` where it exists.

    pip's rule: a requirements file's relative one is beside the file when it exists there, else
    in the cwd (the app); a variable's is in the cwd.
    """
    local = _local(value)
    for candidate in (folder / local for folder in folders):
        if candidate.exists():
            return mapper.container_path(candidate)
    return value


def _environ_find_links(environ: Mapping[str, str], mapper: _Mapper) -> str:
    """`PIP_FIND_LINKS` (else uv's) for the container: its local locations mapped in."""
    values = pip_find_links(environ) or uv_find_links(environ)
    mapped = (
        value if _is_remote(value) else _find_links(value, (mapper.root,), mapper)
        for value in values
    )
    return " ".join(mapped)


def _rewrite_requirement(line: str, mapper: _Mapper) -> str:
    if line.startswith(EDITABLE):
        option, _, target = line.partition(" ")
        if target.strip() and not _is_remote(target.strip()):
            return f"{option} {mapper.container_path(mapper.root / _local(target.strip()))}"
        return line
    text, options = split_requirement(line)
    parsed = parse_entry(text)
    if isinstance(parsed, str) or parsed[0] != "local":
        return line
    return " ".join((_rewrite_local(text, mapper), *options))


def _rewrite_local(text: str, mapper: _Mapper) -> str:
    """`./x.whl`, `file:///x`, `name @ file:///x` (markers kept) with the container's path."""
    requirement, semicolon, marker = text.partition(";")
    name, at, url = requirement.partition(" @ ")
    target = url if at else requirement
    target = target.strip()
    local = _local(target)
    container = mapper.container_path(mapper.root / local)
    new = f"file://{container}" if target.lower().startswith("file:") else container
    rebuilt = f"{name} @ {new}" if at else new
    return f"{rebuilt} ;{marker}" if semicolon else rebuilt


def _is_remote(value: str) -> bool:
    scheme = urllib.parse.urlsplit(value).scheme.lower()
    return len(scheme) > 1 and scheme != "file"


def _local(value: str) -> Path:
    """A path or file: URL as a host path (relative ones stay relative)."""
    if value.lower().startswith("file:"):
        return Path(urllib.request.url2pathname(urllib.parse.urlsplit(value).path))
    return Path(value).expanduser()


def _environment(inputs: ContainerInputs, environ: Mapping[str, str], find_links: str) -> None:
    """pip's index variables (uv's as fallback), its find-links and the files' `${NAME}`s."""
    env = {name: environ[name] for name in PIP_VARIABLES if environ.get(name)}
    for uv_name, pip_name in UV_TO_PIP.items():
        if environ.get(uv_name) and pip_name not in env:
            env[pip_name] = environ[uv_name]
    if find_links:
        env["PIP_FIND_LINKS"] = find_links
    for value in env.values():
        inputs.secrets |= url_credentials(value)
    for text in inputs.texts.values():
        for name in _PLACEHOLDER.findall(text):
            if environ.get(name):
                env[name] = environ[name]
                inputs.secrets.add(environ[name])
    inputs.environment = env
