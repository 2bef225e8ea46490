"""FP2xx details: requirements files read the way pip reads them."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funcpub.options import StrategyName
from funcpub.project import FunctionProject
from funcpub.requirements import Scan, logical_lines, redact, scan_requirements
from funcpub.validate import base, validate

PROJECTS = Path(__file__).parents[1] / "projects"


def scan(tmp_path: Path, files: dict[str, str]) -> Scan:
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return scan_requirements(tmp_path / "requirements.txt")


def test_logical_lines_join_continuations_and_drop_comments() -> None:
    text = (
        "# header\n"
        "\n"
        "requests==2.31.0 \\\n"
        "    --hash=sha256:abc \\\n"
        "    --hash=sha256:def\n"
        "flask  # web\n"
        "url#fragment-is-kept\n"
        "# comment ending in a backslash \\\n"
        "last"
    )
    assert list(logical_lines(text)) == [
        (3, "requests==2.31.0      --hash=sha256:abc      --hash=sha256:def"),
        (6, "flask"),
        (7, "url#fragment-is-kept"),
        (9, "last"),
    ]


def test_everything_pip_accepts_parses(tmp_path: Path) -> None:
    result = scan(
        tmp_path,
        {
            "requirements.txt": """
                --index-url https://pypi.org/simple
                --extra-index-url=https://user:token@example.com/simple
                -f ./wheels
                --prefer-binary
                --only-binary :all:
                azure-functions>=1.18
                Requests[socks] ==2.31.0 ; python_version >= "3.9"
                numpy==2.0.0 \\
                    --hash=sha256:0123 \\
                    --hash sha256:4567
                mylib @ https://example.com/mylib-1.0-py3-none-any.whl
                git+https://github.com/org/repo@v1#egg=repo
                -c constraints.txt
                -rmore/extra.txt
            """,
            "constraints.txt": "urllib3<3\n",
            "more/extra.txt": "-r ../shared.txt\n",
            "shared.txt": "Azure_Functions_Worker\n",
        },
    )
    assert result.problems == ()
    names = [e.name for e in result.entries if e.kind == "requirement"]
    assert names == [
        "azure-functions",
        "requests",
        "numpy",
        "mylib",
        "azure-functions-worker",
    ]
    assert [e.kind for e in result.entries if e.name is None] == ["url"]
    assert [p.name for p in result.files] == [
        "requirements.txt",
        "constraints.txt",
        "extra.txt",
        "shared.txt",
    ]
    worker = result.entries[-1]
    assert (worker.file, worker.line) == (tmp_path / "shared.txt", 1)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("./libs/mylib", "local"),
        ("../sibling", "local"),
        ("dist/pkg-1.0.tar.gz", "local"),
        ("pkg-1.0-py3-none-any.whl", "local"),
        ("C:\\wheels\\pkg.whl", "local"),
        ("file:///opt/wheels/pkg.whl", "local"),
        ("pkg @ file:///opt/pkg", "local"),
        ("-e ./src/pkg", "editable"),
        ("--editable git+https://x/y#egg=y", "editable"),
        ("https://example.com/pkg.whl", "url"),
    ],
)
def test_local_and_remote_sources_are_classified(tmp_path: Path, line: str, kind: str) -> None:
    (entry,) = scan(tmp_path, {"requirements.txt": line + "\n"}).entries
    assert entry.kind == kind


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("httpx==", "cannot parse 'httpx=='"),
        ("requests >= 2 --no-deps", "does not accept the option '--no-deps'"),
        ("numpy --hash", "--hash needs a value"),
        ("--frobnicate", "does not understand the option '--frobnicate'"),
        ("--index-url", "--index-url needs a value"),
        ("-r", "-r needs a value"),
        ('--extra-index-url "https://x', "No closing quotation"),
        ("--pre yes", "does not understand the option 'yes'"),
    ],
)
def test_lines_pip_rejects(tmp_path: Path, line: str, message: str) -> None:
    result = scan(tmp_path, {"requirements.txt": f"azure-functions\n{line}\n"})
    (problem,) = result.problems
    assert (problem.kind, problem.line) == ("syntax", 2)
    assert message in problem.message


def test_missing_includes_and_cycles(tmp_path: Path) -> None:
    result = scan(
        tmp_path,
        {
            "requirements.txt": "-r a.txt\n-r nope.txt\n-r https://example.com/remote.txt\n",
            "a.txt": "-r sub/b.txt\n",
            "sub/b.txt": "-r ../a.txt\n-c ../requirements.txt\n",
        },
    )
    assert [(p.kind, p.file.name, p.line) for p in result.problems] == [
        ("cycle", "b.txt", 1),
        ("cycle", "b.txt", 2),
        ("missing", "requirements.txt", 2),
    ]
    assert "requirements.txt -> a.txt -> b.txt -> a.txt" in result.problems[0].message


def test_a_file_included_twice_is_read_once(tmp_path: Path) -> None:
    result = scan(
        tmp_path,
        {"requirements.txt": "-r a.txt\n-r b.txt\n", "a.txt": "-r c.txt\n", "b.txt": "-r c.txt\n"}
        | {"c.txt": "requests\n"},
    )
    assert result.problems == ()
    assert [e.name for e in result.entries] == ["requests"]


def test_constraints_are_parsed_but_install_nothing(tmp_path: Path) -> None:
    result = scan(
        tmp_path,
        {"requirements.txt": "-c c.txt\n", "c.txt": "azure-functions-worker==1.0\nbad==\n"},
    )
    assert result.entries == ()
    (problem,) = result.problems
    assert (problem.file.name, problem.line) == ("c.txt", 2)


def test_undecodable_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"caf\xe9\n")
    (problem,) = scan_requirements(tmp_path / "requirements.txt").problems
    assert (problem.kind, problem.line, problem.message) == (
        "syntax",
        None,
        "the file is not UTF-8 text",
    )


def test_credentials_are_redacted_from_messages(tmp_path: Path) -> None:
    assert redact("https://user:s3cret@host/simple") == "https://***@host/simple"
    result = scan(tmp_path, {"requirements.txt": "pkg @ https://me:s3cret@host/x.whl ;;\n"})
    (problem,) = result.problems
    assert "s3cret" not in problem.message
    assert "***@host" in problem.message


def test_validation_parses_requirements_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def counting(path: Path) -> Scan:
        calls.append(path)
        return scan_requirements(path)

    monkeypatch.setattr(base, "scan_requirements", counting)
    report = validate(FunctionProject.load(PROJECTS / "multi-error"))
    assert {"FP202", "FP204"} <= {f.code for f in report.findings}  # several checks read it
    assert calls == [PROJECTS / "multi-error" / "requirements.txt"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_scanning_never_raises(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        scan_requirements(path)


@pytest.mark.parametrize(
    ("build", "severity"), [("remote", "error"), ("local", "warning"), (None, "warning")]
)
def test_index_credentials_are_an_error_for_a_remote_build(
    build: StrategyName | None, severity: str
) -> None:
    report = validate(FunctionProject.load(PROJECTS / "fp209-index-credentials"), build=build)
    (finding,) = [f for f in report.findings if f.code == "FP209"]
    assert finding.severity == severity
    assert "not-a-real-token" not in finding.message
    if build == "remote":
        assert finding.message.endswith("so the remote build on Azure cannot use them")
        assert finding.hint is not None and "PIP_EXTRA_INDEX_URL app setting" in finding.hint
