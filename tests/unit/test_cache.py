"""The dependency cache's key, its deflated entries, and the cache options."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Final

import pytest

from funcpub import package
from funcpub.build import cachekey
from funcpub.build.base import NullReporter
from funcpub.build.cache import DeflatedEntries
from funcpub.build.cachekey import CacheKey, Uncacheable, cache_key, exact_pins
from funcpub.cli.building import cache_policy
from funcpub.errors import BuildError, ConfigError
from funcpub.ignore import IncludedFile, select_files
from funcpub.package import write_zip
from funcpub.strategies import BuildRequest
from funcpub.strategies.local import LocalStrategy
from funcpub.targets import target_platform


def request(requirements: str | None = "requirements.txt", **changes: str) -> BuildRequest:
    installer = changes.get("installer", "uv")
    target = target_platform(changes.get("python", "3.11"))
    return BuildRequest(target=target, installer=installer, requirements=requirements)  # type: ignore[arg-type]


def local_key(
    build: BuildRequest, root: Path, environ: Mapping[str, str] | None = None
) -> CacheKey | Uncacheable | None:
    """The key of a local build of `build` (its environment: this machine's installer)."""
    environment = LocalStrategy().environment(build, NullReporter())
    return cache_key(
        build, root=root, strategy="local", environment=environment, environ=environ or {}
    )


def key_of(
    root: Path, text: str, environ: dict[str, str] | None = None, **changes: str
) -> CacheKey:
    (root / "requirements.txt").write_text(text, encoding="utf-8")
    key = local_key(request(**changes), root, environ)
    assert isinstance(key, CacheKey)
    return key


def test_formatting_comments_and_order_do_not_change_the_key(tmp_path: Path) -> None:
    first = key_of(tmp_path, "requests>=2\nazure-functions\n")
    again = key_of(tmp_path, "# deps\nazure-functions   # runtime\n\n  requests>=2\n")
    assert first == again


@pytest.mark.parametrize(
    ("text", "changes", "environ"),
    [
        ("requests>=2.31\nazure-functions\n", {}, {}),  # requirements
        ("requests>=2\nazure-functions\n", {"installer": "pip"}, {}),  # installer
        ("requests>=2\nazure-functions\n", {"python": "3.12"}, {}),  # target
        ("requests>=2\nazure-functions\n", {}, {"UV_INDEX_URL": "https://mirror/simple"}),
        ("--pre\nrequests>=2\nazure-functions\n", {}, {}),  # index option in the file
    ],
)
def test_what_changes_the_key(
    tmp_path: Path, text: str, changes: dict[str, str], environ: dict[str, str]
) -> None:
    base = key_of(tmp_path, "requests>=2\nazure-functions\n")
    assert key_of(tmp_path, text, environ, **changes).digest != base.digest


def test_funcpub_version_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = key_of(tmp_path, "requests\n")
    monkeypatch.setattr(cachekey, "__version__", "99.0")
    assert key_of(tmp_path, "requests\n").digest != base.digest


def test_neutral_settings_keep_the_key(tmp_path: Path) -> None:
    base = key_of(tmp_path, "requests\n")
    environ = {"UV_CACHE_DIR": "/elsewhere", "PIP_NO_CACHE_DIR": "1", "HOME": "/x"}
    assert key_of(tmp_path, "requests\n", environ) == base


def test_includes_local_archives_and_find_links_are_part_of_the_key(tmp_path: Path) -> None:
    (tmp_path / "more.txt").write_text("six\n", encoding="utf-8")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "own-1.0-py3-none-any.whl").write_bytes(b"one")
    text = "-r more.txt\n--find-links wheels\n./wheels/own-1.0-py3-none-any.whl\n"
    base = key_of(tmp_path, text)
    (tmp_path / "more.txt").write_text("six==1.16\n", encoding="utf-8")
    included = key_of(tmp_path, text)
    (wheels / "own-1.0-py3-none-any.whl").write_bytes(b"two")
    archive = key_of(tmp_path, text)
    (wheels / "other-1.0-py3-none-any.whl").write_bytes(b"new")
    listing = key_of(tmp_path, text)
    assert len({base.digest, included.digest, archive.digest, listing.digest}) == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [("PIP_FIND_LINKS", "https://mirror/links {wheels}"), ("UV_FIND_LINKS", "wheels,https://x/")],
)
def test_find_links_folders_named_by_the_environment_are_listed(
    tmp_path: Path, name: str, value: str
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    environ = {name: value.format(wheels=wheels)}
    base = key_of(tmp_path, "beta\n", environ)
    (wheels / "beta-1.1-py3-none-any.whl").write_bytes(b"new")
    assert key_of(tmp_path, "beta\n", environ) != base


@pytest.mark.parametrize("name", ["PIP_CONSTRAINT", "UV_CONSTRAINT"])
def test_constraints_files_named_by_the_environment_are_hashed(tmp_path: Path, name: str) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("beta<1\n", encoding="utf-8")
    environ = {name: "constraints.txt"}  # from the app folder, where the installer runs
    base = key_of(tmp_path, "beta\n", environ)
    constraints.write_text("beta<2\n", encoding="utf-8")
    assert key_of(tmp_path, "beta\n", environ) != base


@pytest.mark.parametrize(
    ("installer", "relpath"),
    [
        ("pip", "config/pip/pip.conf"),  # XDG_CONFIG_HOME
        ("pip", "home/.pip/pip.conf"),  # the legacy user file
        ("pip", "named.conf"),  # PIP_CONFIG_FILE
        ("uv", "config/uv/uv.toml"),
        ("uv", "app/uv.toml"),  # uv runs in the app folder
        ("uv", "uv.toml"),  # ... and looks in its parents
    ],
)
def test_the_installer_configuration_files_are_part_of_the_key(
    tmp_path: Path, installer: str, relpath: str
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    environ = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PIP_CONFIG_FILE": str(tmp_path / "named.conf"),
    }
    keys = [key_of(app, "beta\n", environ, installer=installer).digest]
    config = tmp_path / relpath
    config.parent.mkdir(parents=True, exist_ok=True)
    for index in ("https://one/simple", "https://two/simple"):
        config.write_text(f'[global]\nindex-url = "{index}"\n', encoding="utf-8")
        keys.append(key_of(app, "beta\n", environ, installer=installer).digest)
    assert len(set(keys)) == 3


def test_only_the_tool_uv_table_of_a_pyproject_is_part_of_the_key(tmp_path: Path) -> None:
    project = '[project]\nname = "app"\nversion = "{version}"\n'
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(project.format(version="1"), encoding="utf-8")
    base = key_of(tmp_path, "beta\n")
    pyproject.write_text(project.format(version="2"), encoding="utf-8")
    assert key_of(tmp_path, "beta\n") == base
    tool_uv = project.format(version="2") + '[tool.uv.pip]\nprerelease = "{value}"\n'
    pyproject.write_text(tool_uv.format(value="allow"), encoding="utf-8")
    assert key_of(tmp_path, "beta\n") != base
    no_config = {"UV_NO_CONFIG": "1"}  # uv reads no configuration file at all
    ignored = key_of(tmp_path, "beta\n", no_config)
    pyproject.write_text(tool_uv.format(value="disallow"), encoding="utf-8")
    assert key_of(tmp_path, "beta\n", no_config) == ignored


def test_a_local_folder_is_never_cached(tmp_path: Path) -> None:
    (tmp_path / "mypkg").mkdir()
    for text in ("./mypkg\n", "-e ./mypkg\n"):
        (tmp_path / "requirements.txt").write_text(text, encoding="utf-8")
        key = local_key(request(), tmp_path)
        assert isinstance(key, Uncacheable)
        assert "local folder" in key.reason


def test_no_requirements_no_key(tmp_path: Path) -> None:
    assert local_key(request(None), tmp_path) is None


def test_a_hashed_lock_is_exact(tmp_path: Path) -> None:
    digest = "a" * 64
    hashed = f"six==1.16.0 \\\n    --hash=sha256:{digest}\nidna==3.7 --hash=sha256:{digest}\n"
    assert key_of(tmp_path, hashed).hashed
    assert not key_of(tmp_path, f"six==1.16.0 --hash=sha256:{digest}\nidna==3.7\n").hashed


def test_exact_pins_cover_every_installed_distribution(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Requests==2.32.0\nidna==3.7\nsix>=1\n", encoding="utf-8")
    assert exact_pins(requirements, ["requests==2.32", "idna==3.7"])
    assert not exact_pins(requirements, ["requests==2.32.0", "six==1.16.0"])
    assert not exact_pins(requirements, ["requests==2.32.0", "urllib3==2.2.0"])


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("30m", 1800), ("0", 0), ("2d", 172800), ("90s", 90)]
)
def test_cache_ttl_durations(text: str, seconds: float) -> None:
    assert cache_policy(no_cache=False, refresh=False, cache_ttl=text).ttl == seconds


def test_cache_option_mistakes() -> None:
    with pytest.raises(ConfigError, match="--cache-ttl must be a duration"):
        cache_policy(no_cache=False, refresh=False, cache_ttl="1 week")
    with pytest.raises(ConfigError, match="cannot be combined"):
        cache_policy(no_cache=True, refresh=True, cache_ttl="24h")


def cached_tree(folder: Path) -> tuple[IncludedFile, ...]:
    """An app whose `.python_packages` is a cached tree (as the cache's result points at)."""
    site = folder / ".python_packages" / "lib" / "site-packages" / "dep"
    site.mkdir(parents=True)
    for index in range(40):
        (site / f"m{index}.py").write_text(f"X = {index}\n" * (index * 50), encoding="utf-8")
    (folder / "function_app.py").write_text("import dep\n", encoding="utf-8")
    return select_files(folder, ship_python_packages=True, funcignore=[]).included


def test_deflated_entries_give_the_bytes_of_a_cold_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = cached_tree(tmp_path / "entry")
    cold = write_zip(files, tmp_path / "cold.zip")
    with closing(DeflatedEntries(tmp_path / "entry")) as store:
        filled = write_zip(files, tmp_path / "filled.zip", store=store)
    deflated: list[str] = []
    real = package.deflate

    def counting(entry: IncludedFile, content: bytes | None, level: int) -> package.Deflated:
        deflated.append(entry.relpath)
        return real(entry, content, level)

    monkeypatch.setattr(package, "deflate", counting)
    with closing(DeflatedEntries(tmp_path / "entry")) as store:
        warm = write_zip(files, tmp_path / "warm.zip", workers=3, store=store)
    assert cold.sha256 == filled.sha256 == warm.sha256
    assert deflated == ["function_app.py"]  # only the app's own file was deflated again


class Served:
    """Counts how a store serves a pack: as one run, or entry by entry."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs = self.found = 0
        run, find = DeflatedEntries.run, DeflatedEntries.find

        def counted_run(store: DeflatedEntries, *args: Any) -> package.StoredRun | None:
            result = run(store, *args)
            self.runs += result is not None
            return result

        def counted_find(store: DeflatedEntries, *args: Any) -> package.Deflated | None:
            result = find(store, *args)
            self.found += result is not None
            return result

        monkeypatch.setattr(DeflatedEntries, "run", counted_run)
        monkeypatch.setattr(DeflatedEntries, "find", counted_find)


DATE: Final = (2024, 5, 6, 7, 8, 10)


def pack_with_store(files: Sequence[IncludedFile], zip_path: Path, folder: Path) -> str:
    with closing(DeflatedEntries(folder)) as store:
        return write_zip(files, zip_path, timestamp=DATE, store=store).sha256


def filled_entry(tmp_path: Path) -> tuple[Path, tuple[IncludedFile, ...]]:
    """A cached tree, and its files, whose entries a first pack kept."""
    folder = tmp_path / "entry"
    files = cached_tree(folder)
    pack_with_store(files, tmp_path / "fill.zip", folder)
    return folder, files


def test_the_kept_tree_is_copied_as_one_run_wherever_it_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, files = filled_entry(tmp_path)
    served = Served(monkeypatch)
    for extra in ("zz_after.py", ".config.json"):  # an app file after the run, one before it
        (folder / extra).write_text("A = 1\n", encoding="utf-8")
        files = select_files(folder, ship_python_packages=True, funcignore=[]).included
        cold = write_zip(files, tmp_path / "cold.zip", timestamp=DATE)
        assert pack_with_store(files, tmp_path / "warm.zip", folder) == cold.sha256
    assert files[0].relpath == ".config.json"
    assert (served.runs, served.found) == (2, 0)
    with zipfile.ZipFile(tmp_path / "warm.zip") as archive:
        assert archive.testzip() is None
        assert archive.read(".python_packages/lib/site-packages/dep/m3.py") == b"X = 3\n" * 150


def test_kept_central_records_serve_a_run_that_starts_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, files = filled_entry(tmp_path)
    computed: list[int] = []
    real = package.central_records

    def counted(*args: Any, start: int) -> bytes:
        computed.append(start)
        return real(*args, start=start)

    monkeypatch.setattr(package, "central_records", counted)
    cold = write_zip(files, tmp_path / "cold.zip", timestamp=DATE)
    assert pack_with_store(files, tmp_path / "warm.zip", folder) == cold.sha256
    assert computed == []  # the kept records, as they are
    executable = tuple(
        dataclasses.replace(item, executable=item.relpath.endswith("/m3.py")) for item in files
    )
    cold_executable = write_zip(executable, tmp_path / "x.zip", timestamp=DATE)
    assert pack_with_store(executable, tmp_path / "warm.zip", folder) == cold_executable.sha256
    assert computed == [0]  # a mode the kept records do not have: made again
    central = next((folder / "deflated").glob("*.central"))
    central.write_bytes(central.read_bytes()[:-1])
    assert pack_with_store(files, tmp_path / "warm.zip", folder) == cold.sha256
    assert computed == [0, 0]  # a short file is not used


def test_another_date_or_a_changed_file_copies_entry_by_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, files = filled_entry(tmp_path)
    served = Served(monkeypatch)
    with closing(DeflatedEntries(folder)) as store:
        other_date = write_zip(
            files, tmp_path / "a.zip", timestamp=(2030, 1, 1, 0, 0, 0), store=store
        )
    assert (
        other_date.sha256
        == write_zip(files, tmp_path / "b.zip", timestamp=(2030, 1, 1, 0, 0, 0)).sha256
    )
    assert (served.runs, served.found) == (0, 40)
    changed = folder / ".python_packages" / "lib" / "site-packages" / "dep" / "m7.py"
    changed.write_text("X = 'changed'\n", encoding="utf-8")
    files = select_files(folder, ship_python_packages=True, funcignore=[]).included
    cold = write_zip(files, tmp_path / "cold.zip", timestamp=DATE)
    assert pack_with_store(files, tmp_path / "warm.zip", folder) == cold.sha256
    assert (served.runs, served.found) == (0, 79)  # 39 unchanged files from the store


def test_another_level_deflates_again(tmp_path: Path) -> None:
    files = cached_tree(tmp_path / "entry")
    with closing(DeflatedEntries(tmp_path / "entry")) as store:
        write_zip(files, tmp_path / "six.zip", store=store)
    with closing(DeflatedEntries(tmp_path / "entry")) as store:
        nine = write_zip(files, tmp_path / "nine.zip", compresslevel=9, store=store)
    assert nine.sha256 == write_zip(files, tmp_path / "cold9.zip", compresslevel=9).sha256


def test_a_failed_pack_keeps_no_half_blob(tmp_path: Path) -> None:
    files = cached_tree(tmp_path / "entry")
    (tmp_path / "entry" / "function_app.py").unlink()
    store = DeflatedEntries(tmp_path / "entry")
    with pytest.raises(BuildError):
        write_zip(files, tmp_path / "broken.zip", workers=1, store=store)
    store.close()
    assert not any((tmp_path / "entry" / "deflated").glob("*"))
