"""The per-plan delivery decision, the dry run's delivery table and the storage settings."""

from __future__ import annotations

import pytest

from funcpub.deploy.blob import MI_RESOURCE_SETTING, StorageAccount, storage_account, stored_package
from funcpub.deploy.delivery import DELIVERIES, onedeploy_endpoint
from funcpub.errors import DeployError
from funcpub.hosting import HostingPlan, delivery_for, delivery_table
from funcpub.options import StrategyName

KEY = "a2V5"  # base64 of "key"


@pytest.mark.parametrize(
    ("hosting", "strategy", "delivery"),
    [
        ("premium", "local", "zipdeploy"),
        ("premium", "remote", "zipdeploy"),
        ("dedicated", "none", "zipdeploy"),
        ("consumption", "local", "run-from-package"),
        ("consumption", "docker", "run-from-package"),
        ("consumption", "none", "run-from-package"),
        ("consumption", "remote", "zipdeploy"),
        ("flex", "local", "onedeploy"),
        ("flex", "remote", "onedeploy"),
    ],
)
def test_delivery_for(hosting: HostingPlan, strategy: StrategyName, delivery: str) -> None:
    assert delivery_for(hosting, strategy) == delivery
    assert DELIVERIES[delivery_for(hosting, strategy)].name == delivery


def test_only_flex_refuses_basic() -> None:
    assert {name for name, d in DELIVERIES.items() if d.bearer_only} == {"onedeploy"}


@pytest.mark.parametrize(("strategy", "remote"), [("local", "false"), ("remote", "true")])
def test_onedeploy_endpoint(strategy: StrategyName, remote: str) -> None:
    assert onedeploy_endpoint(strategy) == f"/api/publish?RemoteBuild={remote}&Deployer=funcpub"


def test_delivery_table_names_every_plan_and_windows() -> None:
    table = dict(delivery_table("none"))
    assert table["Linux Consumption (Y1)"].startswith("upload to the app's storage account")
    assert table["Flex Consumption (FC1)"].startswith(
        "OneDeploy: POST /api/publish?RemoteBuild=false"
    )
    assert table["Elastic Premium (EP1-EP3)"].startswith("Kudu zipdeploy")
    assert table["Windows (any plan)"].startswith("refused")
    remote = dict(delivery_table("remote"))
    assert remote["Linux Consumption (Y1)"] == (
        "Kudu zipdeploy: POST /api/zipdeploy?isAsync=true (Oryx builds on the SCM site, which"
        " stores the result in the app's storage)"
    )
    assert remote["Flex Consumption (FC1)"] == (
        "OneDeploy: POST /api/publish?RemoteBuild=true (Entra bearer token only; the worker,"
        " build and package settings are not set on Flex)"
    )
    for plan in ("Elastic Premium (EP1-EP3)", "Dedicated (App Service plan)"):
        assert remote[plan] == (
            "Kudu zipdeploy: POST /api/zipdeploy?isAsync=true (Oryx builds on the SCM site)"
        )


def account(settings: dict[str, str], identities: dict[str, str] | None = None) -> StorageAccount:
    return storage_account(
        settings,
        endpoint_suffix="core.windows.net",
        user_identities=identities or {},
        display="app",
    )


def test_connection_string_account() -> None:
    parsed = account(
        {"AzureWebJobsStorage": f"DefaultEndpointsProtocol=https;AccountName=st1;AccountKey={KEY}"}
    )
    assert parsed == StorageAccount(
        name="st1", blob_endpoint="https://st1.blob.core.windows.net", account_key=KEY
    )


def test_identity_based_account_names_the_apps_identity() -> None:
    settings = {"AzureWebJobsStorage__accountName": "st2"}
    assert account(settings).blob_endpoint == "https://st2.blob.core.windows.net"
    assert account(settings).app_identity == "SystemAssigned"
    user = {**settings, "AzureWebJobsStorage__clientId": "ABC"}
    assert account(user, {"abc": "/subscriptions/s/uami"}).app_identity == "/subscriptions/s/uami"
    with pytest.raises(DeployError, match="no user-assigned identity with client id ABC"):
        account(user)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "has no AzureWebJobsStorage"),
        ({"AzureWebJobsStorage": "UseDevelopmentStorage=true"}, "has no account name and key"),
        ({"AzureWebJobsStorage": "@Microsoft.KeyVault(SecretUri=https://v/s)"}, "Key Vault"),
    ],
    ids=["none", "development storage", "key vault"],
)
def test_unusable_storage(settings: dict[str, str], message: str) -> None:
    with pytest.raises(DeployError, match=message):
        account(settings)


def test_key_based_package_url_is_a_read_only_https_sas() -> None:
    stored = stored_package(
        StorageAccount(
            name="st1", blob_endpoint="https://st1.blob.core.windows.net", account_key=KEY
        ),
        "p.zip",
        "https://st1.blob.core.windows.net/function-releases/p.zip",
    )
    url = stored.settings["WEBSITE_RUN_FROM_PACKAGE"] or ""
    assert url.startswith("https://st1.blob.core.windows.net/function-releases/p.zip?")
    assert "sp=r&" in url and "spr=https" in url
    assert stored.settings[MI_RESOURCE_SETTING] is None
    assert url in stored.secrets
