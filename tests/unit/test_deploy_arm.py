"""ARM helpers: subscription resolution, site parsing, target checks, applying changes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from funcpub.appsettings import ensure, remove
from funcpub.deploy.arm import (
    ArmApp,
    SiteInfo,
    apply_changes,
    check_site,
    hosting_of,
    parse_azure_profile,
    parse_site,
    resolve_subscription,
)
from funcpub.deploy.changes import ConcreteChange
from funcpub.errors import ConfigError, DeployError

SUB = "00000000-0000-0000-0000-000000000001"
PROFILE = {
    "installationId": "x",
    "subscriptions": [
        {"id": "11111111-0000-0000-0000-000000000000", "isDefault": False},
        {"id": SUB, "isDefault": True, "name": "dev"},
    ],
}


def test_azure_profile_with_bom() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(PROFILE).encode()
    assert parse_azure_profile(data) == SUB


@pytest.mark.parametrize(
    "data", [b"", b"{", b"[]", json.dumps({"subscriptions": [{"id": "x"}]}).encode()]
)
def test_azure_profile_without_default(data: bytes) -> None:
    assert parse_azure_profile(data) is None


def test_subscription_precedence(tmp_path: Path) -> None:
    (tmp_path / "azureProfile.json").write_text(json.dumps(PROFILE), encoding="utf-8-sig")
    cli = {"AZURE_CONFIG_DIR": str(tmp_path)}
    assert resolve_subscription(None, cli) == SUB
    env = {**cli, "AZURE_SUBSCRIPTION_ID": "22222222-0000-0000-0000-000000000000"}
    assert resolve_subscription(None, env) == env["AZURE_SUBSCRIPTION_ID"]
    assert resolve_subscription("33333333-0000-0000-0000-000000000000", env).startswith("3333")


def test_no_subscription_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_subscription(None, {"AZURE_CONFIG_DIR": str(tmp_path)})
    assert info.value.hint is not None
    assert "--subscription" in info.value.hint


def test_malformed_subscription() -> None:
    with pytest.raises(ConfigError):
        resolve_subscription("../x", {})


SITE: dict[str, Any] = {
    "id": f"/subscriptions/{SUB}/resourceGroups/rg-1/providers/Microsoft.Web/sites/hello",
    "name": "hello",
    "kind": "functionapp,linux",
    "properties": {
        "state": "Running",
        "sku": "ElasticPremium",
        "defaultHostName": "hello.azurewebsites.net",
        "enabledHostNames": ["hello.azurewebsites.net", "hello.scm.azurewebsites.net"],
        "hostNameSslStates": [
            {"name": "127.0.0.1:4001", "hostType": "Standard"},
            {"name": "127.0.0.1:4002", "hostType": "Repository"},
        ],
    },
}


def test_parse_site_prefers_host_name_ssl_states() -> None:
    site = parse_site(SITE)
    assert (site.name, site.resource_group, site.hosting) == ("hello", "rg-1", "premium")
    assert (site.app_host, site.scm_host) == ("127.0.0.1:4001", "127.0.0.1:4002")


def test_parse_site_falls_back_to_enabled_host_names() -> None:
    raw = {**SITE, "properties": {**SITE["properties"], "hostNameSslStates": []}}
    site = parse_site(raw)
    assert (site.app_host, site.scm_host) == (
        "hello.azurewebsites.net",
        "hello.scm.azurewebsites.net",
    )


def test_parse_slot_and_plan_tier() -> None:
    raw = {**SITE, "name": "hello/staging", "properties": {**SITE["properties"], "sku": None}}
    site = parse_site(raw, slot="staging", sku="Dynamic")
    assert (site.name, site.slot, site.display, site.hosting) == (
        "hello",
        "staging",
        "hello/staging",
        "consumption",
    )


@pytest.mark.parametrize(
    ("sku", "hosting"),
    [
        ("Dynamic", "consumption"),
        ("FlexConsumption", "flex"),
        ("ElasticPremium", "premium"),
        ("PremiumV3", "dedicated"),
        ("Basic", "dedicated"),
        ("Y1", "consumption"),
        ("FC1", "flex"),
        ("EP2", "premium"),
        ("", "dedicated"),
    ],
)
def test_hosting_of(sku: str, hosting: str) -> None:
    assert hosting_of(sku) == hosting


def site(kind: str = "functionapp,linux", sku: str = "ElasticPremium", **extra: Any) -> SiteInfo:
    props = {**SITE["properties"], "sku": sku, **extra}
    return parse_site({**SITE, "kind": kind, "properties": props})


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (site(kind="functionapp"), "is a Windows function app; Python function apps need Linux"),
        (site(kind="app,linux"), "is not a function app"),
        (site(kind="functionapp,linux,container"), "runs a container"),
        (site(hostNameSslStates=[], enabledHostNames=[]), "no SCM"),
        (
            dataclasses.replace(site(sku="FlexConsumption"), slot="staging"),
            "have no deployment slots",
        ),
    ],
    ids=["windows", "web app", "container", "no scm", "flex slot"],
)
def test_refused_targets(target: SiteInfo, message: str) -> None:
    with pytest.raises(DeployError, match=message):
        check_site(target)


@pytest.mark.parametrize(
    "target",
    [
        site(),
        site(sku="PremiumV3"),
        site(sku="Dynamic"),
        site(sku="FlexConsumption"),
        site(kind="functionapp,linux,elastic"),
    ],
    ids=["premium", "dedicated", "consumption", "flex", "elastic kind"],
)
def test_accepted_targets(target: SiteInfo) -> None:
    check_site(target)


def test_windows_refusal_says_what_to_do() -> None:
    with pytest.raises(DeployError) as info:
        check_site(site(kind="functionapp"))
    assert info.value.hint == (
        "create a Linux function app (az functionapp create --os-type Linux ...)"
    )


def test_flex_runtime_and_identities_are_parsed() -> None:
    raw = {
        **SITE,
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {"/subscriptions/s/uami": {"clientId": "ABC"}},
        },
        "properties": {
            **SITE["properties"],
            "sku": None,
            "functionAppConfig": {"runtime": {"name": "python", "version": "3.12"}},
        },
    }
    parsed = parse_site(raw)
    assert (parsed.hosting, parsed.flex_runtime) == ("flex", ("python", "3.12"))
    assert parsed.user_identities == {"abc": "/subscriptions/s/uami"}


class FakeApp(ArmApp):
    """ArmApp over dicts, failing on request."""

    def __init__(self, settings: dict[str, str], fx: str, *, fail_patch: bool = False) -> None:
        self.site = parse_site(SITE)
        self.settings = dict(settings)
        self.config = {"linuxFxVersion": fx}
        self.fail_patch = fail_patch
        self.puts: list[dict[str, str]] = []

    def app_settings(self) -> dict[str, str]:
        return dict(self.settings)

    def site_config(self) -> dict[str, str]:
        return dict(self.config)

    def replace_app_settings(self, settings: Any) -> None:
        self.puts.append(dict(settings))
        self.settings = dict(settings)

    def patch_site_config(self, properties: Any) -> None:
        if self.fail_patch:
            raise DeployError("could not update the site configuration: HTTP 500")
        self.config.update(properties)


CHANGES = (
    ConcreteChange(change=ensure("SCM_DO_BUILD_DURING_DEPLOYMENT", "false", "r"), previous=None),
    ConcreteChange(change=remove("WEBSITE_RUN_FROM_PACKAGE", "r"), previous="1"),
    ConcreteChange(
        change=ensure("linuxFxVersion", "Python|3.11", "r", scope="site config"), previous=None
    ),
)


def test_apply_is_one_put_that_keeps_other_settings() -> None:
    app = FakeApp({"KEEP": "me", "WEBSITE_RUN_FROM_PACKAGE": "1"}, fx="")
    apply_changes(app, CHANGES)
    assert app.puts == [{"KEEP": "me", "SCM_DO_BUILD_DURING_DEPLOYMENT": "false"}]
    assert app.config["linuxFxVersion"] == "Python|3.11"


def test_partial_failure_puts_the_changed_keys_back() -> None:
    app = FakeApp({"WEBSITE_RUN_FROM_PACKAGE": "1"}, fx="", fail_patch=True)
    with pytest.raises(DeployError) as info:
        apply_changes(app, CHANGES)
    assert info.value.message.endswith(
        "(the changed settings were put back: "
        "SCM_DO_BUILD_DURING_DEPLOYMENT, WEBSITE_RUN_FROM_PACKAGE)"
    )
    assert app.settings == {"WEBSITE_RUN_FROM_PACKAGE": "1"}


def test_a_failure_before_any_change_says_so() -> None:
    class Locked(FakeApp):
        def replace_app_settings(self, settings: Any) -> None:
            raise DeployError("could not update the app settings: HTTP 409: locked")

    with pytest.raises(DeployError) as info:
        apply_changes(Locked({"WEBSITE_RUN_FROM_PACKAGE": "1"}, fx=""), CHANGES)
    assert info.value.message.endswith("HTTP 409: locked (no settings were changed)")


def test_read_back_mismatch_is_an_error() -> None:
    class Forgetful(FakeApp):
        def replace_app_settings(self, settings: Any) -> None:
            self.puts.append(dict(settings))

    app = Forgetful({}, fx="Python|3.11")
    with pytest.raises(DeployError, match="did not keep the new value of SCM_DO_BUILD"):
        apply_changes(app, CHANGES[:1])
