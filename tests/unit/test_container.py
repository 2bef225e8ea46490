"""The docker build's offline parts: options, image tags, the plan, inputs, tar in and out."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from funcpub.container.archive import extract_output_archive, write_input_archive
from funcpub.container.inputs import container_inputs
from funcpub.container.spec import (
    DOCKERFILE,
    default_base_image,
    dockerfiles_dir,
    image_spec,
)
from funcpub.errors import ConfigError, ContainerError
from funcpub.options import DockerSettings, resolve_options
from tests.unit.test_plan import plan_for

ROOT = Path(__file__).parents[2]


# --- options ------------------------------------------------------------------------------


def test_docker_keys_come_from_every_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.funcpub]\ndockerfile = "build/Dockerfile"\ndocker-network = "none"\n'
    )
    environ = {"FUNCPUB_BASE_IMAGE": "registry.example.com:5000/team/python:3.11-bookworm"}
    options = resolve_options("pack", tmp_path, {"build": "docker", "pull": "true"}, environ)
    assert options.docker == DockerSettings(
        dockerfile=(tmp_path / "build" / "Dockerfile").resolve(),
        base_image="registry.example.com:5000/team/python:3.11-bookworm",
        network="none",
        pull=True,
    )
    # On the command line a path is relative to where funcpub runs.
    monkeypatch.chdir(tmp_path / "build")
    options = resolve_options("pack", tmp_path, {"build": "docker", "dockerfile": "Dockerfile"}, {})
    assert options.docker.dockerfile == (tmp_path / "build" / "Dockerfile").resolve()


def test_docker_rows_are_in_the_summary_of_docker_builds_only(tmp_path: Path) -> None:
    def keys(build: str) -> set[str]:
        options = resolve_options("pack", tmp_path, {"build": build}, {})
        return {key for key, _, _ in options.summary()}

    assert {"dockerfile", "image", "base-image", "docker-network", "pull"} <= keys("docker")
    assert "base-image" not in keys("local")


@pytest.mark.parametrize(
    ("cli", "words"),
    [
        ({"dockerfile": "nope/Dockerfile"}, "does not exist"),
        ({"dockerfile": "pyproject.toml", "image": "python:3.11"}, "cannot be combined"),
        ({"image": "UPPER/case"}, "must be an image reference"),
        ({"base-image": "a b"}, "must be an image reference"),
        ({"docker-network": "-x"}, "must be a network name"),
        ({"pull": "yes"}, "pull must be one of true, false"),
    ],
    ids=str,
)
def test_bad_docker_values_are_config_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: dict[str, str], words: str
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=words):
        resolve_options("pack", tmp_path, {"build": "docker", **cli}, {})


# --- the image --------------------------------------------------------------------------------


def test_the_dockerfile_is_found_and_shipped_in_the_wheel() -> None:
    found = dockerfiles_dir() / DOCKERFILE
    assert found.read_text() == (ROOT / "dockerfiles" / DOCKERFILE).read_text()
    assert "ARG PYTHON_VERSION" in found.read_text()
    assert "ARG BASE_IMAGE" in found.read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"dockerfiles" = "funcpub/dockerfiles"' in pyproject  # hatch's force-include


def test_the_image_tag_is_a_hash_of_the_dockerfile_and_its_arguments(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    settings = DockerSettings(dockerfile=dockerfile, base_image="debian:bookworm")
    first = image_spec("3.11", settings)
    assert first == image_spec("3.11", settings)  # a second run finds the same image
    assert first.tag.startswith("funcpub-build:py3.11-")
    assert first.build_args == {"PYTHON_VERSION": "3.11", "BASE_IMAGE": "debian:bookworm"}
    other_base = DockerSettings(dockerfile=dockerfile, base_image="debian:trixie")
    assert image_spec("3.11", other_base).tag != first.tag
    assert image_spec("3.12", settings).tag != first.tag
    dockerfile.write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN true\n")
    assert image_spec("3.11", settings).tag != first.tag


def test_the_default_base_image_is_azures_python_build_image() -> None:
    spec = image_spec("3.12", DockerSettings())
    assert spec.build_args["BASE_IMAGE"] == default_base_image("3.12")
    assert default_base_image("3.12") == (
        "mcr.microsoft.com/azure-functions/python:4-python3.12-buildenv"
    )
    prebuilt = image_spec("3.11", DockerSettings(image="ghcr.io/me/build:1"))
    assert (prebuilt.tag, prebuilt.prebuilt) == ("ghcr.io/me/build:1", True)


def test_the_plan_shows_the_image_tag_and_the_container_install() -> None:
    plan = plan_for("docker", **{"base-image": "debian:bookworm", "docker-network": "none"})
    build, install = plan.commands
    tag = image_spec("3.11", DockerSettings(base_image="debian:bookworm")).tag
    assert build.argv[build.argv.index("-t") + 1] == tag
    assert "BASE_IMAGE=debian:bookworm" in build.argv
    assert install.where == "container"
    assert install.argv[:4] == ("python3", "-m", "pip", "install")
    assert install.argv[-2:] == ("-r", "/funcpub/app/requirements.txt")
    assert tag in install.purpose
    assert "network: none" in install.purpose
    pulled = plan_for("docker", image="ghcr.io/me/build:1").commands[0]
    assert pulled.argv == ("docker", "pull", "--platform", "linux/amd64", "ghcr.io/me/build:1")


# --- inputs -----------------------------------------------------------------------------------


def test_requirements_and_what_they_reference_are_mapped_into_the_container(
    tmp_path: Path,
) -> None:
    app, outside = tmp_path / "app", tmp_path / "wheelhouse"
    (app / "wheels").mkdir(parents=True)
    (app / "vendor").mkdir()
    (app / "vendor" / "mine-1.0.tar.gz").write_bytes(b"")
    outside.mkdir()
    (app / "base.txt").write_text("--find-links wheels\nbeta\n")
    (app / "requirements.txt").write_text(
        "-r base.txt\n"
        f"--find-links {outside}\n"
        "--extra-index-url https://pkgs.example.com/simple\n"
        "--find-links file:///missing/${FUNCPUB_TOKEN}\n"
        "./vendor/mine-1.0.tar.gz\n"
        f"other @ file://{outside}/other-1.0-py3-none-any.whl ; python_version >= '3'\n"
        "alpha==1.0 --hash=sha256:" + "0" * 64 + "\n"
    )
    environ = {
        "FUNCPUB_TOKEN": "t0ken",
        "UV_INDEX_URL": "https://u:p%40ss@idx.example.com/simple",
        "PIP_EXTRA_INDEX_URL": "https://more.example.com/simple https://tok3n@x.example.com/ https://u:x@y.example.com/",
        "HOME": "/root",
    }
    inputs = container_inputs(app, "requirements.txt", environ)
    assert inputs.requirements == "/funcpub/app/requirements.txt"
    top = inputs.texts["funcpub/app/requirements.txt"].splitlines()
    assert top == [
        "-r /funcpub/app/base.txt",
        "--find-links /funcpub/external/2/wheelhouse",
        "--extra-index-url https://pkgs.example.com/simple",
        "--find-links 'file:///missing/${FUNCPUB_TOKEN}'",
        "/funcpub/app/vendor/mine-1.0.tar.gz",
        "other @ file:///funcpub/external/4/other-1.0-py3-none-any.whl ; python_version >= '3'",
        "alpha==1.0 --hash=sha256:" + "0" * 64,
    ]
    assert inputs.texts["funcpub/app/base.txt"] == "--find-links /funcpub/app/wheels\nbeta\n"
    assert inputs.files["funcpub/app/wheels"] == (app / "wheels").resolve()
    assert inputs.files["funcpub/external/2/wheelhouse"] == outside.resolve()
    assert inputs.environment == {
        "PIP_INDEX_URL": "https://u:p%40ss@idx.example.com/simple",
        "PIP_EXTRA_INDEX_URL": "https://more.example.com/simple https://tok3n@x.example.com/ https://u:x@y.example.com/",
        "FUNCPUB_TOKEN": "t0ken",
    }
    # ${NAME} values, index passwords (as written and decoded), token user names: never shown;
    # too short to hide everywhere (`x`): only in URLs.
    assert inputs.secrets == {"t0ken", "p%40ss", "p@ss", "tok3n"}


@pytest.mark.parametrize(("name", "separator"), [("PIP_FIND_LINKS", " "), ("UV_FIND_LINKS", ", ")])
def test_find_links_folders_of_the_environment_are_mapped_into_the_container(
    tmp_path: Path, name: str, separator: str
) -> None:
    app, outside = tmp_path / "app", tmp_path / "wheelhouse"
    (app / "wheels").mkdir(parents=True)
    outside.mkdir()
    (app / "requirements.txt").write_text(f"--find-links {outside}\nalpha\n")
    values = [str(outside), "wheels", f"file://{outside}", "https://pkgs.example.com/links"]
    environ = {name: separator.join(values)}
    inputs = container_inputs(app, "requirements.txt", environ)
    # The same folder as the requirements' --find-links: one copy, named by both.
    assert inputs.files == {
        "funcpub/app/requirements.txt": (app / "requirements.txt").resolve(),
        "funcpub/external/1/wheelhouse": outside.resolve(),
        "funcpub/app/wheels": (app / "wheels").resolve(),
    }
    assert inputs.environment == {
        "PIP_FIND_LINKS": "/funcpub/external/1/wheelhouse /funcpub/app/wheels "
        "/funcpub/external/1/wheelhouse https://pkgs.example.com/links"
    }


def test_pips_find_links_win_over_uvs(tmp_path: Path) -> None:
    (tmp_path / "pip").mkdir()
    (tmp_path / "uv").mkdir()
    (tmp_path / "requirements.txt").write_text("alpha\n")
    environ = {"PIP_FIND_LINKS": "pip", "UV_FIND_LINKS": "uv"}
    inputs = container_inputs(tmp_path, "requirements.txt", environ)
    assert inputs.environment == {"PIP_FIND_LINKS": "/funcpub/app/pip"}
    assert set(inputs.files) == {"funcpub/app/requirements.txt", "funcpub/app/pip"}


# --- tar in and out ---------------------------------------------------------------------------


def test_files_go_in_as_one_tar_with_their_folders(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "a.whl").write_bytes(b"wheel")
    archive = io.BytesIO()
    files = {"funcpub/app/wheels": tmp_path / "wheels"}
    write_input_archive(archive, files, {"funcpub/app/requirements.txt": "alpha\n"})
    with tarfile.open(fileobj=archive) as tar:
        members = {m.name: m for m in tar}
    assert set(members) == {
        "funcpub",
        "funcpub/app",
        "funcpub/app/wheels",
        "funcpub/app/wheels/a.whl",
        "funcpub/app/requirements.txt",
    }
    assert members["funcpub"].isdir()
    assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> list[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    return [data[:100], data[100:]]  # chunks, as the engine streams them


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.uid = kind, link, 0o4755, 0
    return info


def test_output_is_extracted_for_this_user_without_set_id_bits(tmp_path: Path) -> None:
    owner = (os.getuid(), os.getgid())
    chunks = tar_of(
        (member(".python_packages", tarfile.DIRTYPE), b""),
        (member(".python_packages/mod.py"), b"X = 1\n"),
        (member(".python_packages/link.py", tarfile.SYMTYPE, "mod.py"), b""),
        (member(".python_packages/fifo", tarfile.FIFOTYPE), b""),
    )
    names = extract_output_archive(chunks, tmp_path, owner=owner)
    assert names == [".python_packages", ".python_packages/mod.py", ".python_packages/link.py"]
    module = tmp_path / ".python_packages" / "mod.py"
    assert module.read_text() == "X = 1\n"
    assert module.stat().st_mode & 0o7777 == 0o755
    assert module.stat().st_uid == owner[0]
    assert (tmp_path / ".python_packages" / "link.py").read_text() == "X = 1\n"
    assert not (tmp_path / ".python_packages" / "fifo").exists()
    assert [p.name for p in tmp_path.iterdir()] == [".python_packages"]  # no spool left


@pytest.mark.parametrize(
    "bad",
    [
        member("../escape.py"),
        member("/abs.py"),
        member("pkg/link", tarfile.SYMTYPE, "../../outside"),
        member("pkg/hard", tarfile.LNKTYPE, "../outside"),
    ],
    ids=["dotdot", "absolute", "symlink", "hardlink"],
)
def test_output_that_escapes_the_folder_is_refused(tmp_path: Path, bad: tarfile.TarInfo) -> None:
    destination = tmp_path / "out"
    with pytest.raises(ContainerError, match="points outside the build folder"):
        extract_output_archive(tar_of((bad, b"")), destination, owner=(0, 0))
    assert list(tmp_path.rglob("*")) == [destination]
