"""Choose the files that ship: built-in excludes, the app's `.funcignore`, and fixed rules.

Patterns follow `.gitignore` exactly as git applies them (dir.c and wildmatch.c): the tree is
walked top-down, each file or folder is matched on its own path (the last matching line wins),
and an excluded folder is pruned, so nothing inside it can be re-included. The layers, in the
order they apply:

1. `BUILTIN_EXCLUDES` (resources/funcignore.default) and any folder holding a `pyvenv.cfg`;
2. the app's `.funcignore`, whose `!` lines may re-include what a built-in excluded;
3. `ALWAYS_EXCLUDED`, which nothing overrides, and `.python_packages/` at the root when the
   build does not ship it (a remote build installs dependencies on Azure instead).

A `.python_packages/` that ships is the build's output: the app's `.funcignore` does not apply
inside it, the built-ins (bytecode, caches) do. `.funcignore` is Core Tools' file, in .gitignore
syntax: https://learn.microsoft.com/azure/azure-functions/functions-run-local

pathspec's GitIgnoreSpec is not used for matching: it judges whole file paths with a priority
heuristic instead of walking, which disagrees with git on folder re-inclusion (`*`, `!src`,
`!src/app.py`) and on `a/**/`, rejects a trailing backslash and mishandles `[[:alpha:]]`.
"""

from __future__ import annotations

import bisect
import errno
import heapq
import os
import re
import stat
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from funcpub.errors import ValidationError
from funcpub.resources import read_text

FUNCIGNORE: Final = ".funcignore"
PYTHON_PACKAGES: Final = ".python_packages"
VENV_MARKER: Final = "pyvenv.cfg"

ALWAYS_EXCLUDED: Final[tuple[str, ...]] = (
    ".git",  # the repository (a folder, or a file in worktrees and submodules), at any depth
    "local.settings.json",  # local secrets; Azure reads App Settings, never this file
    f"/{FUNCIGNORE}",  # the rules themselves
)

LINK_HINT: Final = (
    "A package holds no links: remove the link, point it inside the app folder, "
    "or add it to .funcignore."
)
RENAME_HINT: Final = "Rename it, or add it to .funcignore if it should not ship."

SkipReason = Literal["ignored", "special"]


def _pattern_lines(text: str) -> tuple[str, ...]:
    """The pattern lines of a gitignore-style text: no comments, no blank lines."""
    lines = (line.rstrip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


BUILTIN_EXCLUDES: Final[tuple[str, ...]] = _pattern_lines(read_text("funcignore.default"))


@dataclass(frozen=True, kw_only=True, slots=True)
class IncludedFile:
    """One file of the package."""

    relpath: str  # POSIX path relative to the app root, e.g. "HttpExample/__init__.py"
    source: Path  # absolute path of the real file to read (symlinks resolved)
    size: int
    executable: bool  # any x bit set on the source


@dataclass(frozen=True, kw_only=True)
class FileSelection:
    """What ships from an app folder, and what was left out."""

    root: Path  # the app folder as given, made absolute
    included: tuple[IncludedFile, ...]  # sorted by relpath
    ignored: tuple[str, ...]  # sorted relpaths of ignored files and pruned dirs ("dir/")
    # Sockets, FIFOs and devices that no pattern excluded: a zip cannot hold them.
    special: tuple[str, ...] = ()

    @property
    def total_bytes(self) -> int:
        """Sum of the included files' sizes."""
        return sum(item.size for item in self.included)

    def largest(self, count: int = 5) -> tuple[IncludedFile, ...]:
        """The `count` biggest files, biggest first, ties by relpath."""
        return tuple(heapq.nsmallest(count, self.included, key=lambda f: (-f.size, f.relpath)))

    def ships(self, relpath: str) -> bool:
        """Whether `relpath` is one of the included files."""
        index = bisect.bisect_left(self.included, relpath, key=lambda item: item.relpath)
        return index < len(self.included) and self.included[index].relpath == relpath


def read_funcignore(root: Path) -> tuple[str, ...]:
    """The lines of `<root>/.funcignore`, split as git splits them; () when there is none."""
    path = root / FUNCIGNORE
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return ()
    except UnicodeDecodeError as exc:
        msg = f"{path} is not valid UTF-8 (byte {exc.start})"
        raise ValidationError(msg, hint="Save .funcignore as UTF-8.") from None
    except OSError as exc:
        msg = f"Cannot read {path}: {exc.strerror}"
        raise ValidationError(msg, hint="Check that .funcignore is a readable file.") from None
    return split_lines(text)


def split_lines(text: str) -> tuple[str, ...]:
    """Split on LF, dropping one CR before it (git's add_patterns_from_buffer)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return tuple(line.removesuffix("\r") for line in lines)


# --- patterns: gitignore lines to regular expressions over UTF-8 bytes, as git matches -----------

_SLASH, _STAR, _BACKSLASH, _OPEN, _CLOSE, _DASH, _COLON = b"/*\\[]-:"

_PRINTABLE: Final = frozenset(range(0x20, 0x7F))
_POSIX_CLASSES: Final[Mapping[bytes, frozenset[int]]] = {
    b"alnum": frozenset((string.ascii_letters + string.digits).encode()),
    b"alpha": frozenset(string.ascii_letters.encode()),
    b"blank": frozenset(b" \t"),
    b"cntrl": frozenset((*range(0x20), 0x7F)),
    b"digit": frozenset(string.digits.encode()),
    b"graph": _PRINTABLE - {0x20},
    b"lower": frozenset(string.ascii_lowercase.encode()),
    b"print": _PRINTABLE,
    b"punct": frozenset(string.punctuation.encode()),
    b"space": frozenset(b" \t\n\r"),  # git's own isspace(): no \v or \f
    b"upper": frozenset(string.ascii_uppercase.encode()),
    b"xdigit": frozenset(string.hexdigits.encode()),
}


@dataclass(frozen=True, kw_only=True)
class _Rule:
    """One compiled pattern line."""

    regex: re.Pattern[bytes]
    negated: bool  # "!pattern": re-include
    dir_only: bool  # "pattern/": folders only
    basename: bool  # no slash in the pattern: match the name at any depth


@dataclass(frozen=True, kw_only=True)
class _Candidate:
    """A file or folder being judged."""

    relpath: bytes
    name: bytes
    path: str  # on disk, symlinks not resolved
    is_dir: bool
    packaged: bool  # inside a .python_packages that ships as built


def _compile_rules(lines: Iterable[str]) -> tuple[_Rule, ...]:
    """Compile gitignore lines, last line first (the first match decides)."""
    rules = (_compile(line) for line in lines)
    return tuple(rule for rule in reversed(list(rules)) if rule is not None)


def _compile(line: str) -> _Rule | None:
    """Compile one line as git's parse_path_pattern() reads it; None if it matches nothing."""
    text = _trim_trailing_spaces(line)
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    body = text[1:] if negated else text
    dir_only = body.endswith("/")
    body = body[:-1] if dir_only else body
    basename = "/" not in body
    body = body.removeprefix("/")
    regex = _translate(body.encode("utf-8", "surrogateescape"))
    if not body or regex is None:
        return None
    return _Rule(
        regex=re.compile(regex, re.DOTALL), negated=negated, dir_only=dir_only, basename=basename
    )


def _trim_trailing_spaces(line: str) -> str:
    """Drop unescaped trailing spaces (git's trim_trailing_spaces())."""
    last_space: int | None = None
    index = 0
    while index < len(line):
        if line[index] == " ":
            last_space = index if last_space is None else last_space
        else:
            last_space = None
            index += line[index] == "\\"
        index += 1
    return line if last_space is None else line[:last_space]


def _translate(pattern: bytes) -> bytes | None:
    """Translate a wildmatch pattern (WM_PATHNAME) for `fullmatch`; None if it cannot match."""
    parts: list[bytes] = []
    index = 0
    while index < len(pattern):
        part, index = _translate_at(pattern, index)
        if part is None:
            return None
        parts.append(part)
    return b"".join(parts)


def _translate_at(pattern: bytes, index: int) -> tuple[bytes | None, int]:
    """Translate the token at `index`; return its regex and the index after it."""
    char = pattern[index]
    if char == _BACKSLASH:  # escapes the next byte; a trailing backslash never matches
        escaped = pattern[index + 1 : index + 2]
        return (re.escape(escaped) if escaped else None), index + 2
    if char == ord("?"):
        return rb"[^/]", index + 1
    if char == _STAR:
        return _translate_stars(pattern, index)
    if char == _OPEN:
        return _translate_bracket(pattern, index)
    return re.escape(pattern[index : index + 1]), index + 1


def _translate_stars(pattern: bytes, start: int) -> tuple[bytes, int]:
    """`*` stays within a path segment; `**` crosses them only as a whole segment."""
    end = start
    while end < len(pattern) and pattern[end] == _STAR:
        end += 1
    rest = pattern[end:]
    whole_segment = start == 0 or pattern[start - 1] == _SLASH
    if end - start == 1 or not whole_segment:
        return rb"[^/]*", end
    if rest.startswith(b"/"):  # "**/": zero or more folders
        return rb"(?:.*/)?", end + 1
    if not rest or rest.startswith(b"\\/"):  # trailing "**": everything
        return rb".*", end
    return rb"[^/]*", end


def _translate_bracket(pattern: bytes, start: int) -> tuple[bytes | None, int]:
    """Translate `[...]` as dowild() reads it; None when git aborts the match."""
    index = start + 1
    negated = pattern[index : index + 1] in (b"!", b"^")
    index += negated
    members: set[int] = set()
    previous = 0  # the last literal, a range's start; 0 after a range or a class
    first = True
    while index < len(pattern) and (first or pattern[index] != _CLOSE):
        item = _bracket_item(pattern, index, previous)
        if item is None:
            return None, index
        chars, index, previous = item
        members.update(chars)
        first = False
    if index >= len(pattern):  # unterminated: git never matches
        return None, index
    allowed = (set(range(256)) - members if negated else members) - {_SLASH}
    if not allowed:
        return None, index + 1
    return b"[" + b"".join(b"\\x%02x" % char for char in sorted(allowed)) + b"]", index + 1


def _bracket_item(
    pattern: bytes, index: int, previous: int
) -> tuple[Iterable[int], int, int] | None:
    """One member of a bracket: (its bytes, the next index, the new `previous`); None aborts."""
    char = pattern[index]
    following = pattern[index + 1] if index + 1 < len(pattern) else None
    if char == _BACKSLASH:
        return None if following is None else ((following,), index + 2, following)
    if char == _DASH and previous and following is not None and following != _CLOSE:
        high, after = following, index + 2
        if high == _BACKSLASH:
            if after >= len(pattern):
                return None
            high, after = pattern[after], after + 1
        return range(previous, high + 1), after, 0
    if char == _OPEN and following == _COLON:
        return _posix_class(pattern, index)
    return (char,), index + 1, char


def _posix_class(pattern: bytes, index: int) -> tuple[Iterable[int], int, int] | None:
    """`[:name:]` inside a bracket; a `[` without a closing `:]` is a literal `[`."""
    close = pattern.find(b"]", index + 2)
    if close < 0:
        return None
    body = pattern[index + 2 : close]
    if not body.endswith(b":"):
        return (_OPEN,), index + 1, _OPEN
    members = _POSIX_CLASSES.get(body[:-1])
    return None if members is None else (members, close + 1, 0)


def _matches(rule: _Rule, candidate: _Candidate) -> bool:
    if rule.dir_only and not candidate.is_dir:
        return False
    return rule.regex.fullmatch(candidate.name if rule.basename else candidate.relpath) is not None


def _verdict(rules: Sequence[_Rule], candidate: _Candidate) -> bool | None:
    """True: excluded, False: re-included, None: no rule matched."""
    for rule in rules:
        if _matches(rule, candidate):
            return not rule.negated
    return None


def excluding_line(lines: Sequence[str], relpath: str) -> tuple[int, str] | None:
    """The .funcignore line (number, text) that leaves `relpath`, or a folder above it, out."""
    numbered = [(number, line, _compile(line)) for number, line in enumerate(lines, start=1)]
    parts = relpath.split("/")
    for depth in range(1, len(parts) + 1):
        candidate = _Candidate(
            relpath="/".join(parts[:depth]).encode("utf-8", "surrogateescape"),
            name=parts[depth - 1].encode("utf-8", "surrogateescape"),
            path="",
            is_dir=depth < len(parts),
            packaged=False,
        )
        last = next(
            ((n, line, r) for n, line, r in reversed(numbered) if r and _matches(r, candidate)),
            None,
        )
        if last is not None and not last[2].negated:
            return last[0], last[1]
    return None


_BUILTIN_RULES: Final = _compile_rules(BUILTIN_EXCLUDES)
_ALWAYS_RULES: Final = _compile_rules(ALWAYS_EXCLUDED)


@dataclass(frozen=True, kw_only=True)
class _Matcher:
    """The three layers of rules, applied as the module docstring describes."""

    user: tuple[_Rule, ...]
    ship_python_packages: bool

    def excluded(self, candidate: _Candidate) -> bool:
        """Whether the candidate stays out of the package."""
        if _verdict(_ALWAYS_RULES, candidate):
            return True
        if candidate.is_dir and candidate.relpath == PYTHON_PACKAGES.encode():
            return not self.ship_python_packages
        verdict = None if candidate.packaged else _verdict(self.user, candidate)
        if verdict is None and candidate.is_dir and _is_venv(candidate.path):
            return True
        if verdict is None:
            verdict = _verdict(_BUILTIN_RULES, candidate)
        return bool(verdict)


def _is_venv(path: str) -> bool:
    """A virtual environment, whatever its name: it holds a pyvenv.cfg (PEP 405)."""
    try:
        return Path(path, VENV_MARKER).is_file()
    except OSError:  # a path too long to look into: the walk reports it when it lists it
        return False


# --- the walk ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Dir:
    """A folder to list."""

    real: str  # resolved path on disk
    relpath: str  # "" for the root, else "a/b/"
    chain: frozenset[str]  # resolved paths of this folder and its parents: the loop guard
    packaged: bool


@dataclass(frozen=True, kw_only=True)
class _Skipped:
    """Something left out, and why."""

    relpath: str
    reason: SkipReason


@dataclass(frozen=True, kw_only=True)
class _Walk:
    """Lists folders top-down, pruning excluded ones and following links that stay inside."""

    matcher: _Matcher
    root: str  # resolved

    def run(self) -> Iterator[IncludedFile | _Skipped]:
        """Every file that ships and everything left out, in no particular order."""
        pending = [_Dir(real=self.root, relpath="", chain=frozenset({self.root}), packaged=False)]
        while pending:
            directory = pending.pop()
            for entry in _list(directory):
                outcome = self._visit(entry, directory)
                if isinstance(outcome, _Dir):
                    pending.append(outcome)
                else:
                    yield outcome

    def _visit(self, entry: os.DirEntry[str], parent: _Dir) -> _Dir | IncludedFile | _Skipped:
        """Judge one entry; check links only once they are known to ship."""
        relpath = parent.relpath + entry.name
        is_dir = _is_dir(entry)
        candidate = _Candidate(
            relpath=os.fsencode(relpath),
            name=os.fsencode(entry.name),
            path=entry.path,
            is_dir=is_dir,
            packaged=parent.packaged,
        )
        if self.matcher.excluded(candidate):
            return _Skipped(relpath=relpath + "/" if is_dir else relpath, reason="ignored")
        _check_name(entry.name, parent)
        real = self._follow(entry.path, relpath) if entry.is_symlink() else entry.path
        if is_dir:
            return _enter(real, relpath, parent)
        return _file(entry, real, relpath)

    def _follow(self, path: str, relpath: str) -> str:
        """The target of a link, which must exist and stay inside the app folder."""
        target = os.path.realpath(path)
        link = Path(path)
        try:
            link.stat()
        except OSError as exc:
            why = (
                "loops back to itself" if exc.errno == errno.ELOOP else "is broken (no such target)"
            )
            msg = f"Symbolic link {relpath} -> {link.readlink()} {why}"
            raise ValidationError(msg, hint=LINK_HINT) from None
        if not _inside(target, self.root):
            msg = f"Symbolic link {relpath} points outside the app folder, to {target}"
            raise ValidationError(msg, hint=LINK_HINT)
        return target


def _list(directory: _Dir) -> list[os.DirEntry[str]]:
    """The entries of a folder, or a ValidationError naming it."""
    try:
        with os.scandir(directory.real) as entries:
            return list(entries)
    except OSError as exc:
        relpath = directory.relpath.rstrip("/") or "."
        raise _unreadable("folder", relpath, directory.real, exc) from None


def _unreadable(what: str, relpath: str, path: str, exc: OSError) -> ValidationError:
    """Why a file or folder cannot be read, with what to do about it."""
    if exc.errno == errno.ENAMETOOLONG:
        shown = relpath if len(relpath) <= 120 else f"{relpath[:60]}...{relpath[-50:]}"
        msg = f"The path of {what} {shown} is too long ({len(os.fsencode(path))} bytes)"
        hint = "Shorten the folder names (Linux, Azure's too, limits a path to 4096 bytes)."
        return ValidationError(msg, hint=hint + " Or add it to .funcignore.")
    msg = f"Cannot read {what} {relpath}: {exc.strerror}"
    return ValidationError(msg, hint="Fix its permissions, or add it to .funcignore.")


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, or a link to one; a broken or looping link counts as a file."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _check_name(name: str, parent: _Dir) -> None:
    """Names must be UTF-8 (zip entries and Azure need it) and free of backslashes."""
    folder = parent.relpath.rstrip("/") or "."
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"Folder {folder} holds a name that is not valid UTF-8: {os.fsencode(name)!r}"
        raise ValidationError(msg, hint=RENAME_HINT) from None
    if "\\" in name:
        msg = f"Folder {folder} holds a name with a backslash, a path separator in zips: {name!r}"
        raise ValidationError(msg, hint=RENAME_HINT)


def _enter(real: str, relpath: str, parent: _Dir) -> _Dir:
    """The child folder to walk; a link back to a parent would never end."""
    if real in parent.chain:
        msg = f"Symbolic link {relpath} loops back to its own parent folder {real}"
        raise ValidationError(msg, hint=LINK_HINT)
    return _Dir(
        real=real,
        relpath=relpath + "/",
        chain=parent.chain | {real},
        packaged=parent.packaged or relpath == PYTHON_PACKAGES,
    )


def _file(entry: os.DirEntry[str], real: str, relpath: str) -> IncludedFile | _Skipped:
    """An included file; sockets, FIFOs and devices are set aside."""
    try:
        info = entry.stat()
    except OSError as exc:
        raise _unreadable("file", relpath, entry.path, exc) from None
    if not stat.S_ISREG(info.st_mode):
        return _Skipped(relpath=relpath, reason="special")
    return IncludedFile(
        relpath=relpath,
        source=Path(real),
        size=info.st_size,
        executable=bool(info.st_mode & 0o111),
    )


def _inside(path: str, root: str) -> bool:
    """Whether the resolved `path` is `root` or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _printable(relpath: str) -> str:
    """A relpath safe to print: bytes that are not UTF-8 shown as \\xNN."""
    return relpath.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def select_files(
    root: Path, *, ship_python_packages: bool, funcignore: Sequence[str] | None = None
) -> FileSelection:
    """Walk `root` and choose what ships; `funcignore` defaults to `<root>/.funcignore`."""
    if isinstance(funcignore, str):
        msg = "funcignore must be a sequence of lines, not one string"
        raise TypeError(msg)
    real_root = os.path.realpath(root)
    if not Path(real_root).is_dir():
        msg = f"App folder {root} is not a folder"
        raise ValidationError(msg, hint="Pass the function app folder: the one with host.json.")
    lines = read_funcignore(Path(real_root)) if funcignore is None else funcignore
    matcher = _Matcher(user=_compile_rules(lines), ship_python_packages=ship_python_packages)
    outcomes = list(_Walk(matcher=matcher, root=real_root).run())
    return FileSelection(
        root=Path(root).absolute(),
        included=tuple(
            sorted((o for o in outcomes if isinstance(o, IncludedFile)), key=lambda f: f.relpath)
        ),
        ignored=_relpaths(outcomes, "ignored"),
        special=_relpaths(outcomes, "special"),
    )


def _relpaths(outcomes: Iterable[IncludedFile | _Skipped], reason: SkipReason) -> tuple[str, ...]:
    """The sorted, printable relpaths skipped for `reason`."""
    return tuple(
        sorted(
            _printable(o.relpath)
            for o in outcomes
            if isinstance(o, _Skipped) and o.reason == reason
        )
    )
