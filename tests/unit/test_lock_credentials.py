"""A lock never holds a password: URLs are written as the ${VARIABLE}s they came from."""

from __future__ import annotations

from pathlib import Path

from funcpub.build.lockfile import spell_credentials

LOCK = """\
--index-url https://ci:s3cret@pkgs.example/simple
--extra-index-url https://other:t0ken@more.example/simple/
--find-links https://files.example/wheels
alpha==1.0 \\
    --hash=sha256:00
"""


def lock_with(tmp_path: Path, source: str, environ: dict[str, str]) -> tuple[str, str | None]:
    (tmp_path / "requirements.in").write_text(source, encoding="utf-8")
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK, encoding="utf-8")
    masked = spell_credentials(lock, tmp_path / "requirements.in", environ)
    return lock.read_text(encoding="utf-8"), masked


def test_urls_from_the_environment_and_placeholders_are_spelled_as_variables(
    tmp_path: Path,
) -> None:
    source = "--extra-index-url https://other:${MORE_TOKEN}@more.example/simple/\nalpha\n"
    environ = {"UV_INDEX_URL": "https://ci:s3cret@pkgs.example/simple", "MORE_TOKEN": "t0ken"}
    text, masked = lock_with(tmp_path, source, environ)
    assert masked is None
    assert text.splitlines()[:3] == [
        "--index-url ${UV_INDEX_URL}",
        "--extra-index-url https://other:${MORE_TOKEN}@more.example/simple/",
        "--find-links https://files.example/wheels",
    ]
    assert text.endswith("alpha==1.0 \\\n    --hash=sha256:00\n")


def test_a_password_no_variable_gives_is_masked(tmp_path: Path) -> None:
    environ = {"PIP_EXTRA_INDEX_URL": "https://a.example/simple https://other:t0ken@more.example"}
    text, masked = lock_with(tmp_path, "alpha\n", environ)
    assert "s3cret" not in text and "t0ken" not in text
    assert "--index-url https://ci:***@pkgs.example/simple\n" in text
    assert masked == "https://***@pkgs.example/simple"
