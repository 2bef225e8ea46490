"""Choosing the files that ship: gitignore semantics, built-in and fixed excludes, links, names."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from funcpub import ignore
from funcpub.errors import ValidationError
from funcpub.ignore import (
    ALWAYS_EXCLUDED,
    BUILTIN_EXCLUDES,
    FileSelection,
    IncludedFile,
    excluding_line,
    read_funcignore,
    select_files,
)


def make_tree(root: Path, files: Iterable[str]) -> None:
    """Create each file, named by its POSIX relpath, holding its own name."""
    for relpath in files:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relpath, encoding="utf-8")


def shipped(
    root: Path, patterns: Sequence[str] = (), *, ship_python_packages: bool = False
) -> set[str]:
    selection = select_files(
        root, ship_python_packages=ship_python_packages, funcignore=list(patterns)
    )
    return {item.relpath for item in selection.included}


# --- gitignore features ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Case:
    id: str
    patterns: tuple[str, ...]
    files: tuple[str, ...]
    ships: frozenset[str]


GITIGNORE_CASES = (
    Case(
        id="comment-line",
        patterns=("# a.txt",),
        files=("a.txt",),
        ships=frozenset({"a.txt"}),
    ),
    Case(
        id="blank-lines-do-nothing",
        patterns=("", "   ", "b.txt"),
        files=("a.txt", "b.txt"),
        ships=frozenset({"a.txt"}),
    ),
    Case(
        id="escaped-hash-is-literal",
        patterns=("\\#a.txt",),
        files=("#a.txt", "a.txt"),
        ships=frozenset({"a.txt"}),
    ),
    Case(
        id="escaped-bang-is-literal",
        patterns=("\\!b.txt",),
        files=("!b.txt", "b.txt"),
        ships=frozenset({"b.txt"}),
    ),
    Case(
        id="negation-re-includes",
        patterns=("*.txt", "!keep.txt"),
        files=("a.txt", "keep.txt", "c.py"),
        ships=frozenset({"keep.txt", "c.py"}),
    ),
    Case(
        id="last-matching-line-wins",
        patterns=("!keep.txt", "*.txt"),
        files=("a.txt", "keep.txt", "c.py"),
        ships=frozenset({"c.py"}),
    ),
    Case(
        id="name-matches-at-any-depth",
        patterns=("data",),
        files=("data/x", "sub/data/y", "other/data", "datax/z"),
        ships=frozenset({"datax/z"}),
    ),
    Case(
        id="leading-slash-anchors-to-root",
        patterns=("/data",),
        files=("data/x", "sub/data/y"),
        ships=frozenset({"sub/data/y"}),
    ),
    Case(
        id="inner-slash-anchors-to-root",
        patterns=("sub/x",),
        files=("sub/x", "a/sub/x"),
        ships=frozenset({"a/sub/x"}),
    ),
    Case(
        id="trailing-slash-matches-folders-only",
        patterns=("build/",),
        files=("build/x", "a/build/y", "sub/build"),
        ships=frozenset({"sub/build"}),
    ),
    Case(
        id="star-stays-in-its-segment",
        patterns=("a/*.txt",),
        files=("a/x.txt", "a/b/y.txt"),
        ships=frozenset({"a/b/y.txt"}),
    ),
    Case(
        id="question-mark-is-one-character",
        patterns=("?.txt",),
        files=("a.txt", "ab.txt"),
        ships=frozenset({"ab.txt"}),
    ),
    Case(
        id="leading-double-star",
        patterns=("**/logs",),
        files=("logs/a", "x/logs/b", "x/y/logs/c", "logsx/d"),
        ships=frozenset({"logsx/d"}),
    ),
    Case(
        id="trailing-double-star",
        patterns=("a/**",),
        files=("a/x", "a/b/y", "ab"),
        ships=frozenset({"ab"}),
    ),
    Case(
        id="inner-double-star",
        patterns=("a/**/z",),
        files=("a/z", "a/b/z", "a/b/c/z", "a/zz"),
        ships=frozenset({"a/zz"}),
    ),
    Case(
        id="double-star-slash-folders-below-only",
        patterns=("a/**/",),
        files=("a/f", "a/b/g"),
        ships=frozenset({"a/f"}),
    ),
    Case(
        id="double-star-inside-a-name-is-a-star",
        patterns=("a**b",),
        files=("axxb", "ab", "a/b"),
        ships=frozenset({"a/b"}),
    ),
    Case(
        id="bracket-set",
        patterns=("[ab].txt",),
        files=("a.txt", "b.txt", "c.txt"),
        ships=frozenset({"c.txt"}),
    ),
    Case(
        id="negated-bracket",
        patterns=("[!a].txt",),
        files=("a.txt", "b.txt"),
        ships=frozenset({"a.txt"}),
    ),
    Case(
        id="bracket-range-and-posix-class",
        patterns=("[0-2]x", "[[:upper:]]y"),
        files=("1x", "3x", "Ay", "ay"),
        ships=frozenset({"3x", "ay"}),
    ),
    Case(
        id="unterminated-bracket-matches-nothing",
        patterns=("[a.txt",),
        files=("[a.txt", "a.txt"),
        ships=frozenset({"[a.txt", "a.txt"}),
    ),
    Case(
        id="trailing-backslash-matches-nothing",
        patterns=("a.txt\\",),
        files=("a.txt",),
        ships=frozenset({"a.txt"}),
    ),
    Case(
        id="trailing-spaces-are-dropped",
        patterns=("a.txt   ",),
        files=("a.txt",),
        ships=frozenset(),
    ),
    Case(
        id="escaped-trailing-space-is-kept",
        patterns=("b\\ ",),
        files=("b ", "b"),
        ships=frozenset({"b"}),
    ),
    Case(
        id="excluded-folder-cannot-be-re-entered",
        patterns=("logs/", "!logs/keep.txt"),
        files=("logs/keep.txt", "logs/drop.txt"),
        ships=frozenset(),
    ),
    Case(
        id="re-included-folder-then-files",
        patterns=("*", "!src", "!src/keep.py"),
        files=("x", "src/keep.py", "src/drop.py"),
        ships=frozenset({"src/keep.py"}),
    ),
    Case(
        id="whitelist-folders-and-python",
        patterns=("*", "!*/", "!*.py"),
        files=("a.py", "a.txt", "d/b.py", "d/c.txt"),
        ships=frozenset({"a.py", "d/b.py"}),
    ),
    Case(
        id="whitelist-git-docs-style",
        patterns=("/*", "!/src", "/src/*", "!/src/keep.py"),
        files=("x", "src/keep.py", "src/drop.py", "src/sub/y.py"),
        ships=frozenset({"src/keep.py"}),
    ),
    Case(
        id="negated-folder-keeps-files-checked-on-their-own",
        patterns=("x", "!x/"),
        files=("x/f", "y/x"),
        ships=frozenset({"x/f"}),
    ),
)


@pytest.mark.parametrize("case", GITIGNORE_CASES, ids=lambda case: case.id)
def test_gitignore_feature(tmp_path: Path, case: Case) -> None:
    make_tree(tmp_path, case.files)
    assert shipped(tmp_path, case.patterns) == case.ships


# --- built-in excludes ----------------------------------------------------------------------------

BUILTIN_CASES = {
    ".venv/": ".venv/lib/site.py",
    "venv/": "venv/bin/activate",
    "__pycache__/": "pkg/__pycache__/cache.json",
    "*.py[cod]": "pkg/mod.pyc",
    ".vscode/": ".vscode/settings.json",
    ".idea/": ".idea/workspace.xml",
    ".pytest_cache/": ".pytest_cache/README.md",
    ".mypy_cache/": ".mypy_cache/3.11/x.json",
    ".ruff_cache/": ".ruff_cache/CACHEDIR.TAG",
    ".hypothesis/": ".hypothesis/examples/x",
    ".tox/": ".tox/py311/x",
    ".nox/": ".nox/tests/x",
    ".coverage": ".coverage",
    ".coverage.*": ".coverage.host.1234",
    "htmlcov/": "htmlcov/index.html",
    "*.egg-info/": "app.egg-info/PKG-INFO",
    ".gitignore": "sub/.gitignore",
    ".gitattributes": ".gitattributes",
    ".gitmodules": ".gitmodules",
    ".env": ".env",
    ".env.*": "config/.env.production",
    "__azurite_db*": "__azurite_db_queue__.json",
    "__blobstorage__/": "__blobstorage__/container/blob",
    "__queuestorage__/": "__queuestorage__/q",
    ".python-version": ".python-version",
    ".DS_Store": "HttpExample/.DS_Store",
    "Thumbs.db": "static/Thumbs.db",
}


def test_every_builtin_pattern_has_a_case() -> None:
    assert set(BUILTIN_CASES) == set(BUILTIN_EXCLUDES)


@pytest.mark.parametrize(("pattern", "relpath"), BUILTIN_CASES.items(), ids=list(BUILTIN_CASES))
def test_builtin_excludes(tmp_path: Path, pattern: str, relpath: str) -> None:
    make_tree(tmp_path, [relpath, "function_app.py"])
    assert shipped(tmp_path) == {"function_app.py"}


@pytest.mark.parametrize(("pattern", "relpath"), BUILTIN_CASES.items(), ids=list(BUILTIN_CASES))
def test_funcignore_can_re_include_a_builtin(tmp_path: Path, pattern: str, relpath: str) -> None:
    make_tree(tmp_path, [relpath])
    assert shipped(tmp_path, [f"!{pattern}"]) == {relpath}


def test_builtins_do_not_touch_lookalikes(tmp_path: Path) -> None:
    files = ["env/settings.py", "venvs.py", "environment.py", ".envrc.py", "pyc.py", "build/x.py"]
    make_tree(tmp_path, files)
    assert shipped(tmp_path) == set(files)


def test_a_folder_with_pyvenv_cfg_is_a_venv_whatever_its_name(tmp_path: Path) -> None:
    make_tree(tmp_path, ["tools/pyvenv.cfg", "tools/lib/x.py", "function_app.py"])
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert [item.relpath for item in selection.included] == ["function_app.py"]
    assert selection.ignored == ("tools/",)
    assert shipped(tmp_path, ["!tools/"]) == {
        "function_app.py",
        "tools/pyvenv.cfg",
        "tools/lib/x.py",
    }


# --- always excluded ------------------------------------------------------------------------------

ALWAYS_CASES = {
    "git-folder": ".git/config",
    "nested-git-folder": "vendored/lib/.git/HEAD",
    "git-file-of-a-submodule": "sub/.git",
    "local-settings": "local.settings.json",
    "nested-local-settings": "HttpExample/local.settings.json",
    "funcignore": ".funcignore",
}


@pytest.mark.parametrize("relpath", ALWAYS_CASES.values(), ids=list(ALWAYS_CASES))
def test_always_excluded_even_when_re_included(tmp_path: Path, relpath: str) -> None:
    make_tree(tmp_path, [relpath, "function_app.py"])
    reinclude = [f"!{pattern}" for pattern in ALWAYS_EXCLUDED] + ["!.git/", "!*", "!**/*"]
    assert shipped(tmp_path, reinclude) == {"function_app.py"}


def test_only_the_root_funcignore_is_special(tmp_path: Path) -> None:
    make_tree(tmp_path, ["sub/.funcignore"])
    assert shipped(tmp_path) == {"sub/.funcignore"}


def test_python_packages_left_out_for_remote_builds_whatever_funcignore_says(
    tmp_path: Path,
) -> None:
    make_tree(tmp_path, [".python_packages/lib/site-packages/x.py", "function_app.py"])
    selection = select_files(
        tmp_path, ship_python_packages=False, funcignore=["!.python_packages/", "!**"]
    )
    assert [item.relpath for item in selection.included] == ["function_app.py"]
    assert selection.ignored == (".python_packages/",)


def test_python_packages_ship_in_full_but_without_bytecode(tmp_path: Path) -> None:
    site = ".python_packages/lib/site-packages"
    make_tree(
        tmp_path,
        [f"{site}/pkg/__init__.py", f"{site}/pkg/data.txt", f"{site}/pkg/__pycache__/a.pyc"],
    )
    make_tree(tmp_path, [f"{site}/mod.pyc", "function_app.py", "notes.txt"])
    assert shipped(tmp_path, ["*.txt", ".python_packages/", "*.py"], ship_python_packages=True) == {
        f"{site}/pkg/__init__.py",
        f"{site}/pkg/data.txt",
    }


def test_nested_python_packages_is_an_ordinary_folder(tmp_path: Path) -> None:
    make_tree(tmp_path, ["sub/.python_packages/x.py"])
    assert shipped(tmp_path) == {"sub/.python_packages/x.py"}


# --- reading .funcignore --------------------------------------------------------------------------


def test_select_files_reads_the_root_funcignore(tmp_path: Path) -> None:
    make_tree(tmp_path, ["a.txt", "b.py"])
    (tmp_path / ".funcignore").write_text("*.txt\n", encoding="utf-8")
    selection = select_files(tmp_path, ship_python_packages=False)
    assert [item.relpath for item in selection.included] == ["b.py"]
    assert selection.ignored == (".funcignore", "a.txt")


def test_read_funcignore_absent_is_empty(tmp_path: Path) -> None:
    assert read_funcignore(tmp_path) == ()


def test_read_funcignore_splits_like_git(tmp_path: Path) -> None:
    (tmp_path / ".funcignore").write_bytes(b"\xef\xbb\xbf.venv\r\n# c\r\n\r\ntests/\nlast")
    assert read_funcignore(tmp_path) == (".venv", "# c", "", "tests/", "last")


def test_crlf_funcignore_matches(tmp_path: Path) -> None:
    make_tree(tmp_path, ["tests/t.py", "a.py"])
    (tmp_path / ".funcignore").write_bytes(b"tests/\r\n")
    assert [f.relpath for f in select_files(tmp_path, ship_python_packages=False).included] == [
        "a.py"
    ]


def test_read_funcignore_rejects_invalid_utf8(tmp_path: Path) -> None:
    (tmp_path / ".funcignore").write_bytes(b"caf\xe9\n")
    with pytest.raises(ValidationError, match=r"not valid UTF-8") as info:
        read_funcignore(tmp_path)
    assert info.value.hint == "Save .funcignore as UTF-8."


def test_a_single_string_is_not_a_pattern_list(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        select_files(tmp_path, ship_python_packages=False, funcignore="*.txt")


# --- the selection --------------------------------------------------------------------------------


def test_selection_records_sizes_modes_and_real_sources(tmp_path: Path) -> None:
    make_tree(tmp_path, ["b/run.sh", "a.py"])
    (tmp_path / "b/run.sh").chmod(0o750)
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert selection.root == tmp_path
    assert selection.included == (
        IncludedFile(relpath="a.py", source=tmp_path / "a.py", size=4, executable=False),
        IncludedFile(relpath="b/run.sh", source=tmp_path / "b/run.sh", size=8, executable=True),
    )


def test_selection_helpers() -> None:
    files = tuple(
        IncludedFile(relpath=name, source=Path("/x", name), size=size, executable=False)
        for name, size in [("a", 5), ("b", 9), ("c", 5), ("d", 1)]
    )
    selection = FileSelection(root=Path("/x"), included=files, ignored=())
    assert selection.total_bytes == 20
    assert [f.relpath for f in selection.largest(3)] == ["b", "a", "c"]
    assert selection.largest(0) == ()
    assert selection.ships("c")
    assert not selection.ships("e")
    assert not selection.ships("")


def test_empty_folders_are_not_entries(tmp_path: Path) -> None:
    (tmp_path / "empty/deeper").mkdir(parents=True)
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert selection.included == ()
    assert selection.ignored == ()


def test_ignored_lists_pruned_folders_once(tmp_path: Path) -> None:
    make_tree(tmp_path, ["logs/a", "logs/b/c", "x.log", "keep.py"])
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=["logs/", "*.log"])
    assert selection.ignored == ("logs/", "x.log")


def test_included_is_sorted(tmp_path: Path) -> None:
    files = ["b.py", "a/z.py", "a.py", "B.py", "é.py", "a-b.py"]
    make_tree(tmp_path, files)
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert [f.relpath for f in selection.included] == sorted(files)


def test_special_files_are_set_aside(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    make_tree(tmp_path, ["a.py"])
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert [f.relpath for f in selection.included] == ["a.py"]
    assert selection.special == ("pipe",)
    ignored = select_files(tmp_path, ship_python_packages=False, funcignore=["pipe"])
    assert (ignored.special, ignored.ignored) == ((), ("pipe",))


def test_root_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a folder"):
        select_files(tmp_path / "missing", ship_python_packages=False)


# --- symbolic links -------------------------------------------------------------------------------


def test_file_link_inside_ships_under_its_own_name(tmp_path: Path) -> None:
    make_tree(tmp_path, ["shared/util.py"])
    (tmp_path / "util.py").symlink_to("shared/util.py")
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert selection.included == (
        IncludedFile(
            relpath="shared/util.py", source=tmp_path / "shared/util.py", size=14, executable=False
        ),
        IncludedFile(
            relpath="util.py", source=tmp_path / "shared/util.py", size=14, executable=False
        ),
    )


def test_folder_link_inside_is_walked(tmp_path: Path) -> None:
    make_tree(tmp_path, ["common/a.py", "common/sub/b.py"])
    (tmp_path / "HttpExample").mkdir()
    (tmp_path / "HttpExample/common").symlink_to("../common", target_is_directory=True)
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=["/common/"])
    assert [(f.relpath, f.source) for f in selection.included] == [
        ("HttpExample/common/a.py", tmp_path / "common/a.py"),
        ("HttpExample/common/sub/b.py", tmp_path / "common/sub/b.py"),
    ]


def test_patterns_see_a_folder_link_as_a_folder(tmp_path: Path) -> None:
    make_tree(tmp_path, ["real/a.py"])
    (tmp_path / "linked").symlink_to("real", target_is_directory=True)
    assert shipped(tmp_path, ["linked/"]) == {"real/a.py"}


@pytest.mark.parametrize("target_is_directory", [False, True], ids=["file", "folder"])
def test_link_escaping_the_root_is_an_error(tmp_path: Path, target_is_directory: bool) -> None:
    outside = tmp_path / "outside"
    make_tree(outside, ["secret.txt"])
    app = tmp_path / "app"
    make_tree(app, ["function_app.py"])
    target = outside if target_is_directory else outside / "secret.txt"
    (app / "sub").mkdir()
    (app / "sub/leak").symlink_to(target, target_is_directory=target_is_directory)
    with pytest.raises(ValidationError) as info:
        select_files(app, ship_python_packages=False, funcignore=[])
    assert info.value.message == (
        f"Symbolic link sub/leak points outside the app folder, to {target.resolve()}"
    )
    assert info.value.hint is not None
    assert ".funcignore" in info.value.hint


def test_ignored_escaping_link_is_not_an_error(tmp_path: Path) -> None:
    app = tmp_path / "app"
    make_tree(app, ["function_app.py"])
    (app / "leak").symlink_to(tmp_path)
    (app / "dangling").symlink_to(tmp_path / "nowhere")
    selection = select_files(app, ship_python_packages=False, funcignore=["leak/", "dangling"])
    assert [f.relpath for f in selection.included] == ["function_app.py"]
    assert selection.ignored == ("dangling", "leak/")


def test_dangling_link_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "gone.py").symlink_to("missing.py")
    with pytest.raises(ValidationError, match=r"^Symbolic link gone\.py -> missing\.py is broken"):
        select_files(tmp_path, ship_python_packages=False, funcignore=[])


def test_self_referencing_link_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "me").symlink_to("me")
    with pytest.raises(ValidationError, match=r"^Symbolic link me -> me loops back to itself"):
        select_files(tmp_path, ship_python_packages=False, funcignore=[])


@pytest.mark.parametrize(
    ("link", "target"),
    [("sub/up", ".."), ("sub/deeper/back", "../../sub"), ("root", ".")],
    ids=["to-parent", "to-grandparent-child", "to-root"],
)
def test_link_loop_is_an_error(tmp_path: Path, link: str, target: str) -> None:
    make_tree(tmp_path, ["sub/deeper/a.py"])
    (tmp_path / link).symlink_to(target, target_is_directory=True)
    with pytest.raises(ValidationError, match=rf"^Symbolic link {link} loops back"):
        select_files(tmp_path, ship_python_packages=False, funcignore=[])


def test_a_folder_reached_twice_without_a_loop_is_fine(tmp_path: Path) -> None:
    make_tree(tmp_path, ["lib/x.py"])
    (tmp_path / "one").symlink_to("lib", target_is_directory=True)
    (tmp_path / "two").symlink_to("one", target_is_directory=True)
    assert shipped(tmp_path) == {"lib/x.py", "one/x.py", "two/x.py"}


# --- names and permissions ------------------------------------------------------------------------


def test_name_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    os.close(os.open(os.fsencode(tmp_path / "pkg") + b"/bad\xff.py", os.O_CREAT))
    with pytest.raises(ValidationError) as info:
        select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert info.value.message == ("Folder pkg holds a name that is not valid UTF-8: b'bad\\xff.py'")
    assert info.value.hint == ignore.RENAME_HINT


def test_ignored_name_that_is_not_utf8_is_fine(tmp_path: Path) -> None:
    os.close(os.open(os.fsencode(tmp_path) + b"/bad\xff.py", os.O_CREAT))
    selection = select_files(tmp_path, ship_python_packages=False, funcignore=["bad*"])
    assert selection.included == ()
    assert selection.ignored == ("bad\\xff.py",)


def test_name_with_a_backslash_is_an_error(tmp_path: Path) -> None:
    make_tree(tmp_path, ["sub/a\\b.py"])
    with pytest.raises(ValidationError, match=r"^Folder sub holds a name with a backslash"):
        select_files(tmp_path, ship_python_packages=False, funcignore=[])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_unreadable_folder_is_an_error(tmp_path: Path) -> None:
    make_tree(tmp_path, ["locked/a.py"])
    (tmp_path / "locked").chmod(0)
    try:
        with pytest.raises(ValidationError, match=r"^Cannot read folder locked: "):
            select_files(tmp_path, ship_python_packages=False, funcignore=[])
    finally:
        (tmp_path / "locked").chmod(stat.S_IRWXU)


def test_unreadable_folder_is_an_error_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root bypasses permission bits, so refuse the listing the way the kernel would.
    make_tree(tmp_path, ["locked/a.py", "open/b.py"])
    real_scandir = os.scandir
    locked = str(tmp_path / "locked")

    def scandir(path: str) -> object:
        if path == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ValidationError, match=r"^Cannot read folder locked: Permission denied$"):
        select_files(tmp_path, ship_python_packages=False, funcignore=[])
    assert shipped(tmp_path, ["locked/"]) == {"open/b.py"}


@pytest.mark.parametrize(
    ("lines", "relpath", "expected"),
    [
        (["*.md", "host.json"], "host.json", (2, "host.json")),
        (["src/", "!src/app.py"], "src/app.py", (1, "src/")),  # a pruned folder wins
        (["*.py", "!app.py"], "app.py", None),
        (["# host.json", "docs"], "host.json", None),
        (["fn/", "other"], "fn/__init__.py", (1, "fn/")),
        (["fn", "!fn"], "fn/function.json", None),
    ],
    ids=["file", "pruned-folder", "re-included", "comment", "folder-of-file", "folder-back"],
)
def test_excluding_line_names_the_line_that_drops_a_file(
    lines: list[str], relpath: str, expected: tuple[int, str] | None
) -> None:
    assert excluding_line(lines, relpath) == expected
