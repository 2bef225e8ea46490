"""Configuration precedence, parsing and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from funcpub.errors import ConfigError
from funcpub.options import env_var, resolve_options


def write_pyproject(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text(f"[tool.funcpub]\n{body}\n", encoding="utf-8")


def test_defaults_come_from_the_packaged_file(tmp_path: Path) -> None:
    options = resolve_options("publish", tmp_path, {}, {})
    assert (options.build, options.python_version, options.functions_version) == (
        "remote",
        "3.11",
        "4",
    )
    assert options.installer == "uv"
    assert options.slot is None
    assert set(options.sources.values()) == {"default"}


def test_pack_defaults_to_a_local_build(tmp_path: Path) -> None:
    assert resolve_options("pack", tmp_path, {}, {}).build == "local"


def test_precedence_cli_over_env_over_pyproject_over_default(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'python-version = "3.10"\nbuild = "none"\ninstaller = "pip"')
    environ = {"FUNCPUB_PYTHON_VERSION": "3.12", "FUNCPUB_BUILD": "local"}
    options = resolve_options("publish", tmp_path, {"build": "docker"}, environ)
    assert options.build == "docker"
    assert options.python_version == "3.12"
    assert options.installer == "pip"
    assert options.functions_version == "4"
    assert options.sources == {
        "build": "command line",
        "python-version": "environment",
        "installer": "pyproject.toml",
        "functions-version": "default",
        "slot": "default",
        "cloud": "default",
        "subscription": "default",
        "resource-group": "default",
        "dockerfile": "default",
        "image": "default",
        "base-image": "default",
        "docker-network": "default",
        "pull": "default",
    }


def test_summary_lists_every_key_with_its_source(tmp_path: Path) -> None:
    options = resolve_options("publish", tmp_path, {"slot": "staging"}, {})
    summary = {key: (value, source) for key, value, source in options.summary()}
    assert summary["slot"] == ("staging", "command line")
    assert summary["build"] == ("remote", "default")


@pytest.mark.parametrize(
    ("given", "expected"), [("4", "4"), ("~4", "4"), ("4.x", "4"), ("3", "3")], ids=str
)
def test_functions_version_forms(tmp_path: Path, given: str, expected: str) -> None:
    options = resolve_options("publish", tmp_path, {"functions-version": given}, {})
    assert options.functions_version == expected


@pytest.mark.parametrize(
    ("cli", "words"),
    [
        ({"python-version": "3"}, "python-version must look like 3.11"),
        ({"python-version": "python3.11"}, "python-version must look like 3.11"),
        ({"functions-version": "latest"}, "functions-version must be a major version"),
        ({"build": "cloud"}, "build must be one of local, docker, remote, none"),
        ({"installer": "poetry"}, "installer must be one of uv, pip"),
        ({"slot": "-bad-"}, "slot must be letters, digits and hyphens"),
        ({"cloud": "AzureMoon"}, "cloud must be one of AzureCloud, AzureChinaCloud"),
        ({"subscription": "my-sub"}, "subscription must be a subscription id"),
        ({"resource-group": "ends-with-dot."}, "not a valid resource group name"),
    ],
    ids=[
        *("py-major-only", "py-prefixed", "functions-word", "build", "installer", "slot"),
        *("cloud", "subscription", "resource-group"),
    ],
)
def test_bad_cli_values(tmp_path: Path, cli: dict[str, str | None], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        resolve_options("publish", tmp_path, cli, {})


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\(from FUNCPUB_PYTHON_VERSION\)"):
        resolve_options("publish", tmp_path, {}, {"FUNCPUB_PYTHON_VERSION": "three"})


def test_unknown_pyproject_key_suggests_the_close_one(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'pyhton-version = "3.11"')
    with pytest.raises(ConfigError, match="unknown configuration key 'pyhton-version'") as info:
        resolve_options("publish", tmp_path, {}, {})
    assert info.value.hint == "did you mean 'python-version'?"


def test_float_version_in_pyproject_asks_for_quotes(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "python-version = 3.10")
    with pytest.raises(ConfigError, match="must be a string") as info:
        resolve_options("publish", tmp_path, {}, {})
    assert info.value.hint == 'quote it: python-version = "3.1"'


def test_integer_functions_version_in_pyproject_is_fine(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "functions-version = 4")
    assert resolve_options("publish", tmp_path, {}, {}).functions_version == "4"


def test_invalid_pyproject_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.funcpub\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        resolve_options("publish", tmp_path, {}, {})


def test_pack_refuses_a_remote_build_from_config(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'build = "remote"')
    with pytest.raises(ConfigError, match="cannot run a remote build") as info:
        resolve_options("pack", tmp_path, {}, {})
    assert info.value.hint == "use --build local|docker|none"


def test_unknown_funcpub_env_vars_become_warnings(tmp_path: Path) -> None:
    options = resolve_options("publish", tmp_path, {}, {"FUNCPUB_PYTHON_VERSON": "3.11"})
    assert options.warnings == ("ignoring unknown environment variable FUNCPUB_PYTHON_VERSON",)


def test_env_var_names() -> None:
    assert env_var("python-version") == "FUNCPUB_PYTHON_VERSION"


def test_deploy_target_keys(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'resource-group = "rg-prod"')
    environ = {
        "FUNCPUB_CLOUD": "emulator",
        "FUNCPUB_SUBSCRIPTION": "00000000-0000-0000-0000-000000000001",
    }
    options = resolve_options("publish", tmp_path, {}, environ)
    assert options.cloud == "emulator"
    assert options.subscription == "00000000-0000-0000-0000-000000000001"
    assert options.resource_group == "rg-prod"
    assert resolve_options("publish", tmp_path, {}, {}).cloud == "AzureCloud"


def test_known_non_config_variables_are_not_warned_about(tmp_path: Path) -> None:
    environ = {"FUNCPUB_EMULATOR_URL": "https://127.0.0.1:1", "FUNCPUB_EMULATOR_DATA": "/tmp/x"}
    assert resolve_options("publish", tmp_path, {}, environ).warnings == ()
