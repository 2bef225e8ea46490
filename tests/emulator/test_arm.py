"""ARM for Microsoft.Web, driven by azure-mgmt-web 11 (the SDK proves the JSON shapes)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import (
    CsmPublishingCredentialsPoliciesEntity,
    CsmPublishingCredentialsPoliciesEntityProperties,
    SiteConfig,
    SiteConfigResource,
    StringDictionary,
)

from funcpub.emulator import Emulator, SiteInfo
from tests.emulator_fixtures import (
    APPSERVICE_SCOPE,
    RESOURCE_GROUP,
    Kudu,
    make_arm_client,
)

pytestmark = pytest.mark.emulator


def test_get_site_reports_hosts_plan_and_runtime(
    arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    site = arm_client.web_apps.get(RESOURCE_GROUP, "hello-app")
    assert site.kind == "functionapp,linux"
    assert site.reserved is True
    assert site.sku == "ElasticPremium"
    assert site.resource_group == RESOURCE_GROUP
    assert site.default_host_name == app.app_host
    assert site.host_names == [app.app_host]
    assert site.enabled_host_names == [app.app_host, app.scm_host]
    states = {state.host_type: state.name for state in site.host_name_ssl_states or ()}
    assert states == {"Standard": app.app_host, "Repository": app.scm_host}
    assert site.id == app.resource_id
    assert site.server_farm_id is not None
    plan_name = site.server_farm_id.rsplit("/", 1)[1]
    plan = arm_client.app_service_plans.get(RESOURCE_GROUP, plan_name)
    assert plan.sku is not None
    assert (plan.sku.name, plan.sku.tier) == ("EP1", "ElasticPremium")
    assert plan.reserved is True


def test_flex_and_windows_sites(emulator: Emulator, arm_client: WebSiteManagementClient) -> None:
    emulator.create_app("flex-app", plan="FC1", python="3.12")
    emulator.create_app("win-app", plan="Y1", os="windows")
    flex = arm_client.web_apps.get(RESOURCE_GROUP, "flex-app")
    assert (flex.kind, flex.sku, flex.reserved) == ("functionapp,linux", "FlexConsumption", None)
    assert flex.function_app_config is not None
    runtime = flex.function_app_config.runtime
    assert runtime is not None
    assert (runtime.name, runtime.version) == ("python", "3.12")
    flex_settings = arm_client.web_apps.list_application_settings(RESOURCE_GROUP, "flex-app")
    assert "FUNCTIONS_WORKER_RUNTIME" not in (flex_settings.properties or {})
    windows = arm_client.web_apps.get(RESOURCE_GROUP, "win-app")
    assert (windows.kind, windows.sku, windows.reserved) == ("functionapp", "Dynamic", False)


def test_list_sites_by_subscription_and_group(
    emulator: Emulator, arm_client: WebSiteManagementClient
) -> None:
    emulator.create_app("one")
    emulator.create_app("two", resource_group="rg-other")
    assert sorted(str(s.name) for s in arm_client.web_apps.list()) == ["one", "two"]
    names = [s.name for s in arm_client.web_apps.list_by_resource_group("rg-other")]
    assert names == ["two"]


def test_unknown_site_is_resource_not_found(
    arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        arm_client.web_apps.get(RESOURCE_GROUP, "no-such-app")
    assert caught.value.error is not None
    assert caught.value.error.code == "ResourceNotFound"


def test_web_config_get_and_patch(arm_client: WebSiteManagementClient, app: SiteInfo) -> None:
    config = arm_client.web_apps.get_configuration(RESOURCE_GROUP, "hello-app")
    assert config.linux_fx_version == "Python|3.11"
    patched = arm_client.web_apps.update_configuration(
        RESOURCE_GROUP,
        "hello-app",
        SiteConfigResource(properties=SiteConfig(linux_fx_version="Python|3.12")),
    )
    assert patched.linux_fx_version == "Python|3.12"
    again = arm_client.web_apps.get_configuration(RESOURCE_GROUP, "hello-app")
    assert again.linux_fx_version == "Python|3.12"
    assert again.number_of_workers == 1  # PATCH merges


def test_web_config_put(arm_client: WebSiteManagementClient, app: SiteInfo) -> None:
    config = arm_client.web_apps.get_configuration(RESOURCE_GROUP, "hello-app")
    assert config.properties is not None
    config.properties.always_on = True
    replaced = arm_client.web_apps.create_or_update_configuration(
        RESOURCE_GROUP, "hello-app", config
    )
    assert replaced.always_on is True
    assert replaced.linux_fx_version == "Python|3.11"


def test_app_settings_replace_semantics(
    emulator: Emulator, arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    current = arm_client.web_apps.list_application_settings(RESOURCE_GROUP, "hello-app")
    settings = dict(current.properties or {})
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert settings["FUNCTIONS_EXTENSION_VERSION"] == "~4"
    settings.pop("APPLICATIONINSIGHTS_CONNECTION_STRING")
    settings["NEW_SETTING"] = "1"
    result = arm_client.web_apps.update_application_settings(
        RESOURCE_GROUP, "hello-app", StringDictionary(properties=settings)
    )
    assert result.properties == settings
    assert emulator.site("hello-app").app_settings == settings
    kudu_settings = Kudu(app, str(emulator.ca_bundle)).get("/api/settings")
    assert kudu_settings.json()["NEW_SETTING"] == "1"
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" not in kudu_settings.json()


def test_publishing_credentials_and_scm_policy(
    arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    user = arm_client.web_apps.begin_list_publishing_credentials(
        RESOURCE_GROUP, "hello-app"
    ).result()
    assert user.publishing_user_name == "$hello-app"
    assert user.publishing_password == app.publishing_password
    assert user.scm_uri is not None
    assert user.scm_uri.endswith(f"@{app.scm_host}")
    policy = arm_client.web_apps.get_scm_allowed(RESOURCE_GROUP, "hello-app")
    assert policy.allow is True
    changed = arm_client.web_apps.update_scm_allowed(
        RESOURCE_GROUP,
        "hello-app",
        CsmPublishingCredentialsPoliciesEntity(
            properties=CsmPublishingCredentialsPoliciesEntityProperties(allow=False)
        ),
    )
    assert changed.allow is False
    assert arm_client.web_apps.get_scm_allowed(RESOURCE_GROUP, "hello-app").allow is False


def test_sync_triggers_answers_200_like_the_service(
    emulator: Emulator, arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    # The SDK expects 204 (the spec) and raises on the service's real 200.
    with pytest.raises(HttpResponseError) as caught:
        arm_client.web_apps.sync_function_triggers(RESOURCE_GROUP, "hello-app")
    assert caught.value.status_code == 200
    url = f"{app.resource_id}/syncfunctiontriggers?api-version=2024-04-01"
    response = arm_client.send_request(HttpRequest("POST", url))
    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert emulator.site("hello-app").last_trigger_sync is not None


def test_host_sync_keys_and_restart(arm_client: WebSiteManagementClient, app: SiteInfo) -> None:
    arm_client.web_apps.sync_functions(RESOURCE_GROUP, "hello-app")  # 204
    keys = arm_client.web_apps.list_host_keys(RESOURCE_GROUP, "hello-app")
    assert keys.master_key == app.master_key
    assert keys.function_keys == {"default": app.function_key}
    arm_client.web_apps.restart(RESOURCE_GROUP, "hello-app")


def test_slots_are_sites_with_their_own_hosts(
    emulator: Emulator, arm_client: WebSiteManagementClient, app: SiteInfo
) -> None:
    slot = emulator.create_slot("hello-app", "staging")
    assert slot.scm_host not in (app.scm_host, app.app_host)
    site = arm_client.web_apps.get_slot(RESOURCE_GROUP, "hello-app", "staging")
    assert site.name == "hello-app/staging"
    assert site.type == "Microsoft.Web/sites/slots"
    assert site.default_host_name == slot.app_host
    assert [s.name for s in arm_client.web_apps.list_slots(RESOURCE_GROUP, "hello-app")] == [
        "hello-app/staging"
    ]
    settings = arm_client.web_apps.list_application_settings_slot(
        RESOURCE_GROUP, "hello-app", "staging"
    )
    assert settings.properties == dict(app.app_settings)
    user = arm_client.web_apps.begin_list_publishing_credentials_slot(
        RESOURCE_GROUP, "hello-app", "staging"
    ).result()
    assert user.publishing_user_name == "$hello-app__staging"


def test_list_functions_after_deploy(
    arm_client: WebSiteManagementClient, app: SiteInfo, kudu: Kudu, hello_zip: Path
) -> None:
    assert list(arm_client.web_apps.list_functions(RESOURCE_GROUP, "hello-app")) == []
    assert kudu.deploy(hello_zip)["status"] == 4
    functions = {f.name: f for f in arm_client.web_apps.list_functions(RESOURCE_GROUP, "hello-app")}
    assert set(functions) == {"hello-app/hello", "hello-app/health"}
    hello = functions["hello-app/hello"]
    assert hello.type == "Microsoft.Web/sites/functions"
    assert hello.invoke_url_template == f"https://{app.app_host}/api/hello"
    assert hello.language == "python"
    assert hello.is_disabled is False
    assert hello.config["bindings"][0]["type"] == "httpTrigger"


def test_appservice_audience_is_refused_by_arm(emulator: Emulator, app: SiteInfo) -> None:
    client = make_arm_client(emulator, credential_scopes=[APPSERVICE_SCOPE])
    with pytest.raises(ClientAuthenticationError) as caught:
        client.web_apps.get(RESOURCE_GROUP, "hello-app")
    assert caught.value.status_code == 401
    assert caught.value.error is not None
    assert caught.value.error.code == "InvalidAuthenticationTokenAudience"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        pytest.param("expired", "ExpiredAuthenticationToken", id="expired"),
        pytest.param("forged", "InvalidAuthenticationToken", id="bad-signature"),
        pytest.param(None, "AuthenticationFailed", id="missing"),
    ],
)
def test_bad_tokens_get_arm_401s(
    emulator: Emulator, app: SiteInfo, token: str | None, code: str
) -> None:
    tokens = {
        "expired": emulator.issue_token(lifetime=-60),
        "forged": emulator.issue_token()[:-4] + "AAAA",
    }
    headers = {} if token is None else {"Authorization": f"Bearer {tokens[token]}"}
    response = requests.get(
        f"{emulator.url}{app.resource_id}?api-version=2024-04-01",
        headers=headers,
        verify=str(emulator.ca_bundle),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_api_version_is_required(emulator: Emulator, app: SiteInfo) -> None:
    response = requests.get(
        f"{emulator.url}{app.resource_id}",
        headers={"Authorization": f"Bearer {emulator.issue_token()}"},
        verify=str(emulator.ca_bundle),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_paths_match_case_insensitively(emulator: Emulator, app: SiteInfo) -> None:
    path = app.resource_id.replace("resourceGroups", "resourcegroups").replace(
        "Microsoft.Web", "microsoft.web"
    )
    response = requests.get(
        f"{emulator.url}{path.upper().replace('HELLO-APP', 'Hello-App')}?api-version=2016-08-01",
        headers={"Authorization": f"Bearer {emulator.issue_token()}"},
        verify=str(emulator.ca_bundle),
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["name"] == "hello-app"


def test_expired_tokens_are_refreshed_by_the_sdk(tmp_path: Path) -> None:
    # With expires_in below 300 s, MSAL asks for a new token on every call.
    with Emulator(tmp_path, token_lifetime=60) as emulator:
        emulator.create_app("short-lived")
        client = make_arm_client(emulator)
        assert client.web_apps.get(RESOURCE_GROUP, "short-lived").name == "short-lived"
        assert client.web_apps.get(RESOURCE_GROUP, "short-lived").name == "short-lived"
