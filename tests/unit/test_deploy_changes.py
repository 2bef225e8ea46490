"""Concrete setting changes: only what differs, guarded switches, masking, merge and read-back."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from funcpub.appsettings import SettingChange, base_settings, ensure, remove
from funcpub.deploy.changes import (
    MASK,
    ConcreteChange,
    CurrentConfig,
    concrete_changes,
    looks_secret,
    merged_app_settings,
    site_config_patch,
    unapplied,
)
from funcpub.errors import DeployError
from funcpub.strategies.remote import RemoteStrategy

NO_BUILD = ensure("SCM_DO_BUILD_DURING_DEPLOYMENT", "false", "prebuilt")
NO_PACKAGE_URL = remove("WEBSITE_RUN_FROM_PACKAGE", "bypasses the build")
RUNTIME = ensure("FUNCTIONS_WORKER_RUNTIME", "python", "python worker")
EXTENSION = ensure("FUNCTIONS_EXTENSION_VERSION", "~4", "Functions 4")
PYTHON = ensure("linuxFxVersion", "Python|3.11", "Python 3.11", scope="site config")


def config(settings: dict[str, str] | None = None, fx: str = "") -> CurrentConfig:
    return CurrentConfig(app_settings=settings or {}, site_config={"linuxFxVersion": fx})


@dataclass(frozen=True)
class Case:
    id: str
    wanted: SettingChange
    current: CurrentConfig
    changed: bool


CASES = [
    Case("equal", NO_BUILD, config({"SCM_DO_BUILD_DURING_DEPLOYMENT": "false"}), changed=False),
    Case("0 means false", NO_BUILD, config({"SCM_DO_BUILD_DURING_DEPLOYMENT": "0"}), False),
    Case("different", NO_BUILD, config({"SCM_DO_BUILD_DURING_DEPLOYMENT": "true"}), True),
    Case("absent", NO_BUILD, config(), changed=True),
    Case("empty counts as absent", NO_BUILD, config({"SCM_DO_BUILD_DURING_DEPLOYMENT": ""}), True),
    Case("remove present", NO_PACKAGE_URL, config({"WEBSITE_RUN_FROM_PACKAGE": "1"}), True),
    Case("remove absent", NO_PACKAGE_URL, config(), changed=False),
    Case("runtime equal", RUNTIME, config({"FUNCTIONS_WORKER_RUNTIME": "python"}), False),
    Case("runtime case", RUNTIME, config({"FUNCTIONS_WORKER_RUNTIME": "Python"}), False),
    Case("runtime unset", RUNTIME, config(), changed=True),
    Case("extension same", EXTENSION, config({"FUNCTIONS_EXTENSION_VERSION": "~4"}), False),
    Case("extension pinned", EXTENSION, config({"FUNCTIONS_EXTENSION_VERSION": "4.1036.1"}), False),
    Case("extension unset", EXTENSION, config(), changed=True),
    Case("python equal", PYTHON, config(fx="Python|3.11"), changed=False),
    Case("python upper case", PYTHON, config(fx="PYTHON|3.11"), changed=False),
    Case("python empty", PYTHON, config(fx=""), changed=True),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_only_differences_become_changes(case: Case) -> None:
    changes = concrete_changes([case.wanted], case.current, force=False)
    assert bool(changes) == case.changed
    if changes:
        assert changes[0].change is case.wanted
        assert changes[0].previous == case.current.value(case.wanted)


@pytest.mark.parametrize(
    ("wanted", "current", "hint"),
    [
        (RUNTIME, config({"FUNCTIONS_WORKER_RUNTIME": "node"}), "--force"),
        (PYTHON, config(fx="Python|3.10"), "--python-version 3.10"),
        (PYTHON, config(fx="Node|18"), "--force"),
        (EXTENSION, config({"FUNCTIONS_EXTENSION_VERSION": "~3"}), "--functions-version 3"),
    ],
    ids=["other runtime", "other python", "other stack", "other functions major"],
)
def test_switches_need_force(wanted: SettingChange, current: CurrentConfig, hint: str) -> None:
    with pytest.raises(DeployError) as info:
        concrete_changes([wanted], current, force=False)
    assert info.value.hint is not None
    assert hint in info.value.hint
    forced = concrete_changes([wanted], current, force=True)
    assert [item.change for item in forced] == [wanted]


def test_base_settings_on_a_fresh_app() -> None:
    current = config({"FUNCTIONS_WORKER_RUNTIME": "python", "FUNCTIONS_EXTENSION_VERSION": "~4"})
    changes = concrete_changes(base_settings("3.11", "4"), current, force=False)
    assert [item.change.key for item in changes] == ["linuxFxVersion"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"SCM_DO_BUILD_DURING_DEPLOYMENT": "false", "ENABLE_ORYX_BUILD": "true"},
         ["set SCM_DO_BUILD_DURING_DEPLOYMENT=true (was false)"]),
        ({"SCM_DO_BUILD_DURING_DEPLOYMENT": "0", "ENABLE_ORYX_BUILD": "False"},
         ["set SCM_DO_BUILD_DURING_DEPLOYMENT=true (was 0)",
          "set ENABLE_ORYX_BUILD=true (was False)"]),
        ({"SCM_DO_BUILD_DURING_DEPLOYMENT": "1", "ENABLE_ORYX_BUILD": "TRUE"}, []),
        ({"WEBSITE_RUN_FROM_PACKAGE": "1"},
         ["set SCM_DO_BUILD_DURING_DEPLOYMENT=true (new)", "set ENABLE_ORYX_BUILD=true (new)",
          "remove WEBSITE_RUN_FROM_PACKAGE (was 1)"]),
    ],
    ids=["false is fixed", "0 and False are fixed", "1 and TRUE already build", "package mount"],
)  # fmt: skip
def test_a_remote_build_turns_the_build_on(settings: dict[str, str], expected: list[str]) -> None:
    changes = concrete_changes(RemoteStrategy().settings(), config(settings), force=False)
    assert [item.describe() for item in changes] == expected


def test_describe() -> None:
    item = ConcreteChange(change=NO_BUILD, previous="true")
    assert item.describe() == "set SCM_DO_BUILD_DURING_DEPLOYMENT=false (was true)"
    assert ConcreteChange(change=NO_BUILD, previous=None).describe().endswith("(new)")
    removal = ConcreteChange(change=NO_PACKAGE_URL, previous="1")
    assert removal.describe() == "remove WEBSITE_RUN_FROM_PACKAGE (was 1)"


def test_describe_masks_secrets() -> None:
    sas = "https://acct.blob.core.windows.net/c/app.zip?sv=2022&sig=abc%2B"
    item = ConcreteChange(change=NO_PACKAGE_URL, previous=sas)
    assert item.describe() == f"remove WEBSITE_RUN_FROM_PACKAGE (was {MASK})"
    storage = ensure("AzureWebJobsStorage", "UseDevelopmentStorage=true", "test")
    assert MASK in ConcreteChange(change=storage, previous=None).describe()


@pytest.mark.parametrize(
    ("key", "value", "secret"),
    [
        ("AzureWebJobsStorage", "x", True),
        ("MY_API_KEY", "x", True),
        ("DB_PASSWORD", "x", True),
        ("SOME_URL", "https://user:pw@example.com/", True),
        ("CONN", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k", True),
        ("SCM_DO_BUILD_DURING_DEPLOYMENT", "true", False),
        ("WEBSITE_RUN_FROM_PACKAGE", "1", False),
    ],
)
def test_looks_secret(key: str, value: str, secret: bool) -> None:
    assert looks_secret(key, value) is secret


def test_merge_keeps_unrelated_settings() -> None:
    changes = [
        ConcreteChange(change=NO_BUILD, previous="true"),
        ConcreteChange(change=NO_PACKAGE_URL, previous="1"),
        ConcreteChange(change=PYTHON, previous=""),
    ]
    current = {
        "KEEP": "me",
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
        "WEBSITE_RUN_FROM_PACKAGE": "1",
    }
    assert merged_app_settings(current, changes) == {
        "KEEP": "me",
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "false",
    }
    assert site_config_patch(changes) == {"linuxFxVersion": "Python|3.11"}


def test_unapplied_names_keys_azure_did_not_keep() -> None:
    changes = [
        ConcreteChange(change=NO_BUILD, previous="true"),
        ConcreteChange(change=NO_PACKAGE_URL, previous="1"),
        ConcreteChange(change=PYTHON, previous=None),
    ]
    after = config({"SCM_DO_BUILD_DURING_DEPLOYMENT": "false", "WEBSITE_RUN_FROM_PACKAGE": "1"})
    assert unapplied(changes, after) == ("WEBSITE_RUN_FROM_PACKAGE", "linuxFxVersion")
