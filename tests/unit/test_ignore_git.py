"""`select_files` against git itself: random trees and pattern lists, git as the oracle.

The patterns go to `.git/info/exclude` (same semantics as a root `.gitignore`, and not a file in
the tree for funcpub's built-ins to see). Names are chosen so that no built-in or fixed exclude
applies, which leaves the app's patterns alone to decide.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from funcpub.ignore import select_files

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

NAMES = ("a", "b", "ab", "a.b", ".a", "_b", "a b", "#a", "!b", "[a]", "a*")
WILDCARDS = ("*", "?", "**", "a*", "*b", "*.b", "[ab]", "[!a]*", "[a-b]?", "[[:alpha:]]", "\\[a]")
PREFIXES = ("", "", "", "/", "!", "!/", "**/", "!**/")
SUFFIXES = ("", "", "", "/", "/**", "/**/", "  ", "\\ ")
ODD_LINES = ("# comment", "", "\\#a", "\\!b", "!", "/", "a\\")


def _tree(paths: list[tuple[str, ...]]) -> list[str]:
    """Files only: drop any path that is also the folder of another."""
    relpaths = sorted({"/".join(parts) for parts in paths})
    return [p for p in relpaths if not any(q.startswith(p + "/") for q in relpaths)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """A small tree, and patterns built mostly from the names in it."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    path = st.lists(st.sampled_from(names), min_size=1, max_size=3).map(tuple)
    files = _tree(draw(st.lists(path, min_size=3, max_size=10)))
    segment = st.one_of(st.sampled_from(names), st.sampled_from(WILDCARDS))
    line = st.one_of(
        st.builds(
            lambda prefix, segments, suffix: prefix + "/".join(segments) + suffix,
            st.sampled_from(PREFIXES),
            st.lists(segment, min_size=1, max_size=3),
            st.sampled_from(SUFFIXES),
        ),
        st.sampled_from(ODD_LINES),
    )
    return files, draw(st.lists(line, min_size=1, max_size=6))


def git_env(home: Path) -> dict[str, str]:
    """No user or system configuration: the repository's excludes alone."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }


def git(repo: Path, *args: str, stdin: str = "") -> str:
    """Run git in `repo`; check-ignore exits 1 when nothing is ignored, which is fine."""
    result = subprocess.run(
        ["git", "-c", f"core.excludesFile={os.devnull}", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        text=True,
        env=git_env(repo),
        check=False,
        timeout=30,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


def git_ignored(repo: Path, files: Sequence[str]) -> set[str]:
    """The files `git check-ignore` says are ignored (a `!` match means not ignored)."""
    out = git(
        repo, "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n", stdin="\0".join(files)
    )
    fields = out.split("\0")[:-1]
    records = [fields[i : i + 4] for i in range(0, len(fields), 4)]
    return {
        path for source, _line, pattern, path in records if source and not pattern.startswith("!")
    }


def git_untracked(repo: Path) -> set[str]:
    """The files `git status` would offer to add: git's own walk, pruning and all."""
    out = git(repo, "ls-files", "--others", "--exclude-standard", "-z")
    return set(out.split("\0")[:-1])


def compare_with_git(files: Sequence[str], patterns: Sequence[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q", "--template=")
        (repo / ".git/info").mkdir()
        (repo / ".git/info/exclude").write_text("".join(f"{p}\n" for p in patterns), "utf-8")
        for relpath in files:
            (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
            (repo / relpath).touch()
        selection = select_files(repo, ship_python_packages=False, funcignore=patterns)
        ours = {item.relpath for item in selection.included}
        assert ours == set(files) - git_ignored(repo, files), patterns
        assert ours == git_untracked(repo), patterns


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
@example(case=(["x/f", "x/g", "y"], ["*", "!x", "!x/f"]))
@example(case=(["a/f", "a/b/f"], ["a/**/"]))
@example(case=(["x/f", "y"], ["*", "!*/"]))
@example(case=(["x/f"], ["x/", "!x/f"]))
@example(case=(["foo/bar", "foo/baz", "q", "foo/qq/z"], ["/*", "!/foo", "/foo/*", "!/foo/bar"]))
@example(case=(["a", "b/c"], ["**/"]))
@example(case=(["axxb", "a/b", "ab"], ["a**b"]))
@example(case=(["a1", "11", "]", "b"], ["[[:alpha:]]1", "[]a]", "[[:nope:]]"]))
@example(case=(["w ", "w", "z"], ["z   ", "w\\ "]))
@example(case=(["[a", "a"], ["[a", "a\\"]))
def test_select_files_agrees_with_git(case: tuple[list[str], list[str]]) -> None:
    compare_with_git(*case)
