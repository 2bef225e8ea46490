"""requirements.txt read the way pip reads it: includes, options, continuations, markers."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

EntryKind = Literal["requirement", "local", "url", "editable"]
ProblemKind = Literal["syntax", "missing", "cycle"]

# pip's own comment rule: a `#` at the start or after whitespace starts a comment.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|file:", re.IGNORECASE)
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")
# scheme://userinfo@ in any URL of a line (index URLs, `name @ url`, VCS URLs).
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^/@\s]+)@")
# pip expands ${NAME} from the environment in requirements files (upper case, digits, _).
_PLACEHOLDER = re.compile(r"(?:\$\{[A-Z0-9_]+\})+")
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar")
INCLUDES: Final = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_WITH_VALUE: Final = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host",
     "--use-feature", "--only-binary", "--no-binary", "--config-settings"}
)  # fmt: skip
_FLAGS: Final = frozenset({"--no-index", "--pre", "--prefer-binary", "--require-hashes"})
_PER_REQUIREMENT: Final = frozenset({"--hash", "--config-settings", "--global-option"})
_STRONG_HASHES: Final = frozenset({"sha256", "sha384", "sha512"})  # pip's own list


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One thing a requirements file asks pip to install."""

    kind: EntryKind
    file: Path
    line: int
    text: str
    name: str | None = None  # canonical project name, when known


@dataclass(frozen=True, kw_only=True)
class Problem:
    """A line pip would reject, or an include that cannot be followed."""

    kind: ProblemKind
    file: Path
    line: int | None
    message: str


@dataclass(frozen=True, kw_only=True)
class Scan:
    """Everything read from a requirements file and the files it includes."""

    files: tuple[Path, ...]  # the top file, then every -r / -c include reached
    entries: tuple[Entry, ...]  # requirements only, not constraints
    problems: tuple[Problem, ...]


def redact(text: str) -> str:
    """Hide `user:password@` in URLs: index URLs often carry tokens."""
    return _CREDENTIALS.sub(r"\1***@", text)


def has_credentials(text: str) -> bool:
    """Whether a URL in `text` carries a password or token other than a ${VARIABLE}."""
    return mask_credentials(text) != text


def mask_credentials(text: str) -> str:
    """`text` with every literal password (and http(s) token user name) in URLs as `***`.

    `${NAME}` placeholders stay: pip and uv expand them from the environment where they run,
    which is how credentials belong in a requirements file.
    """
    return _USERINFO.sub(_mask_userinfo, text)


def url_credentials(text: str) -> set[str]:
    """What `mask_credentials` hides in `text`, as written and percent-decoded.

    Values shorter than 4 characters (`user:x@`) are left out: hidden everywhere, they would
    garble the output (`redact` still hides them in URLs).
    """
    found: set[str] = set()
    for match in _USERINFO.finditer(text):
        if _mask_userinfo(match) != match.group(0):
            user, colon, password = match.group(2).partition(":")
            secret = password if colon else user
            found |= {value for value in (secret, unquote(secret)) if len(value) >= 4}
    return found


def _mask_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group(1), match.group(2)
    user, colon, password = userinfo.partition(":")
    if colon:
        masked = password and not _PLACEHOLDER.fullmatch(unquote(password))
        return f"{scheme}://{user}:***@" if masked else match.group(0)
    if scheme.lower().split("+")[-1] in ("http", "https") and not _PLACEHOLDER.fullmatch(user):
        return f"{scheme}://***@"
    return match.group(0)


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) after joining `\\` continuations and dropping comments."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not _COMMENT.match(raw):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        line = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if line:
            yield start, line
    if pending:
        line = _COMMENT.sub("", " ".join(pending)).strip()
        if line:
            yield start, line


@dataclass
class _Walk:
    entries: list[Entry]
    problems: list[Problem]
    files: list[Path]


def scan_requirements(path: Path) -> Scan:
    """Read `path` and its includes; never raises for bad content."""
    walk = _Walk(entries=[], problems=[], files=[])
    _scan_file(path, walk, stack=(), constraint=False)
    return Scan(files=tuple(walk.files), entries=tuple(walk.entries), problems=tuple(walk.problems))


def _scan_file(path: Path, walk: _Walk, *, stack: tuple[Path, ...], constraint: bool) -> None:
    walk.files.append(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "cannot be read"
        walk.problems.append(
            Problem(kind="syntax", file=path, line=None, message=f"the file {why}")
        )
        return
    for number, line in logical_lines(text):
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            _scan_options(path, number, line, walk, stack=(*stack, path), constraint=constraint)
        elif not constraint:
            _scan_requirement(path, number, line, walk)
        else:
            _check_constraint(path, number, line, walk)


def _split(path: Path, number: int, line: str, walk: _Walk) -> list[str] | None:
    try:
        return shlex.split(line)
    except ValueError as exc:
        walk.problems.append(Problem(kind="syntax", file=path, line=number, message=str(exc)))
        return None


def _scan_options(
    path: Path, number: int, line: str, walk: _Walk, *, stack: tuple[Path, ...], constraint: bool
) -> None:
    tokens = _split(path, number, line, walk)
    while tokens:
        option, value, tokens = take_option(tokens)
        if option in INCLUDES and value:
            _include(
                path, number, value, walk, stack=stack, constraint=constraint or INCLUDES[option]
            )
        elif option in _FLAGS and value is None:
            continue
        elif option not in _WITH_VALUE or not value:
            message = f"pip does not understand the option {redact(option)!r} here"
            if option in INCLUDES or option in _WITH_VALUE:
                message = f"the option {option} needs a value"
            walk.problems.append(Problem(kind="syntax", file=path, line=number, message=message))
            return


def take_option(tokens: list[str]) -> tuple[str, str | None, list[str]]:
    """Split `--opt=value`, `--opt value` or `-rfile` off the front of `tokens`."""
    head, rest = tokens[0], tokens[1:]
    if head.startswith("--") and "=" in head:
        option, value = head.split("=", 1)
        return option, value, rest
    if len(head) > 2 and head[:2] in ("-r", "-c", "-i", "-f") and not head.startswith("--"):
        return head[:2], head[2:], rest
    takes_value = head in INCLUDES or head in _WITH_VALUE
    if takes_value and rest:
        return head, rest[0], rest[1:]
    return head, None, rest


def _include(
    path: Path, number: int, target: str, walk: _Walk, *, stack: tuple[Path, ...], constraint: bool
) -> None:
    if _URL.match(target) and not target.lower().startswith("file:"):
        return  # a remote include: pip fetches it, nothing to check offline
    included = Path(os.path.normpath(path.parent / target.removeprefix("file:")))
    if included in stack:
        chain = " -> ".join(p.name for p in (*stack, included))
        message = f"includes form a cycle: {chain}"
        walk.problems.append(Problem(kind="cycle", file=path, line=number, message=message))
    elif not included.is_file():
        message = f"includes {target}, which does not exist"
        walk.problems.append(Problem(kind="missing", file=path, line=number, message=message))
    elif included not in walk.files:
        _scan_file(included, walk, stack=stack, constraint=constraint)


def split_requirement(line: str) -> tuple[str, list[str]]:
    """pip's rule: the requirement runs until the first token starting with `-`."""
    words = line.split()
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]), words[index:]
    return line, []


def _per_requirement_problem(options: list[str]) -> str | None:
    tokens = list(options)
    while tokens:
        option, value, tokens = take_option(tokens)
        if option not in _PER_REQUIREMENT:
            return f"pip does not accept the option {redact(option)!r} after a requirement"
        if value is None:
            if not tokens:
                return f"the option {option} needs a value"
            value, tokens = tokens[0], tokens[1:]
        if option == "--hash" and (problem := _hash_problem(value)):
            return problem
    return None


def _hash_problem(value: str) -> str | None:
    """Why pip rejects `--hash=value` while parsing; None when it takes it.

    Whether the digest matches the file is only known when pip downloads it.
    """
    algorithm, _, digest = value.partition(":")
    if not digest:
        return f"--hash={value} must be a hash name and a digest, like --hash=sha256:<hex>"
    if algorithm not in _STRONG_HASHES:
        return f"pip allows only sha256, sha384 and sha512 in --hash, not {algorithm!r}"
    return None


def _looks_like_path(text: str) -> bool:
    """pip's test: a path separator or a leading dot before any `@` (else it is `name @ url`)."""
    head = text.split("@", 1)[0]
    return head.startswith((".", "~")) or "/" in head or "\\" in head


def parse_entry(text: str) -> tuple[EntryKind, str | None] | str:
    """(kind, canonical name) of a requirement, or the reason it cannot be parsed."""
    if _URL.match(text):
        return ("local" if text.lower().startswith("file:") else "url"), None
    if "@" not in text and text.split(";", 1)[0].strip().endswith(_ARCHIVE):
        return "local", None
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        return ("local", None) if _looks_like_path(text) else str(exc).splitlines()[0]
    name = canonicalize_name(requirement.name)
    if requirement.url and requirement.url.lower().startswith("file:"):
        return "local", name
    return "requirement", name


def _scan_requirement(path: Path, number: int, line: str, walk: _Walk) -> None:
    if line.startswith(("-e", "--editable")):
        walk.entries.append(Entry(kind="editable", file=path, line=number, text=line))
        return
    text, options = split_requirement(line)
    parsed = parse_entry(text) if text else "no requirement before the options"
    problem = parsed if isinstance(parsed, str) else _per_requirement_problem(options)
    if problem is not None:
        message = f"cannot parse {redact(text or line)!r}: {problem}"
        walk.problems.append(Problem(kind="syntax", file=path, line=number, message=message))
    elif not isinstance(parsed, str):
        kind, name = parsed
        walk.entries.append(Entry(kind=kind, file=path, line=number, text=text, name=name))


def _check_constraint(path: Path, number: int, line: str, walk: _Walk) -> None:
    text, _ = split_requirement(line)
    parsed = parse_entry(text) if text else "no requirement before the options"
    if isinstance(parsed, str):
        message = f"cannot parse constraint {redact(text or line)!r}: {parsed}"
        walk.problems.append(Problem(kind="syntax", file=path, line=number, message=message))
