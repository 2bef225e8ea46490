"""`config/slotConfigNames`: the app's slot-sticky setting names, through azure-mgmt-web."""

from __future__ import annotations

import pytest
import requests
from azure.mgmt.web import WebSiteManagementClient
from azure.mgmt.web.models import SlotConfigNamesResource

from funcpub.emulator import Emulator, SiteInfo
from tests.emulator_fixtures import ARM_SCOPE, RESOURCE_GROUP, make_credential

pytestmark = pytest.mark.emulator


def test_unset_lists_are_null(arm_client: WebSiteManagementClient, app: SiteInfo) -> None:
    names = arm_client.web_apps.list_slot_configuration_names(RESOURCE_GROUP, "hello-app")
    data = names.as_dict()
    assert data["name"] == "slotConfigNames"
    assert data["id"] == f"{app.resource_id}/config/slotConfigNames"
    assert data["properties"]["appSettingNames"] is None
    assert data["properties"]["connectionStringNames"] is None


def test_put_then_get(arm_client: WebSiteManagementClient, app: SiteInfo) -> None:
    body = SlotConfigNamesResource(
        {"properties": {"appSettingNames": ["STICKY_A", "STICKY_B"], "connectionStringNames": []}}
    )
    written = arm_client.web_apps.update_slot_configuration_names(RESOURCE_GROUP, "hello-app", body)
    assert written.as_dict()["properties"]["appSettingNames"] == ["STICKY_A", "STICKY_B"]
    read = arm_client.web_apps.list_slot_configuration_names(RESOURCE_GROUP, "hello-app")
    assert read.as_dict()["properties"] == {
        "appSettingNames": ["STICKY_A", "STICKY_B"],
        "connectionStringNames": [],
        "azureStorageConfigNames": None,
    }


def test_the_names_belong_to_the_app_not_its_slots(emulator: Emulator, app: SiteInfo) -> None:
    emulator.create_slot("hello-app", "staging")
    token = make_credential(emulator).get_token(ARM_SCOPE).token
    url = f"{emulator.url}{app.resource_id}/slots/staging/config/slotConfigNames"
    response = requests.get(
        url,
        params={"api-version": "2023-12-01"},
        headers={"Authorization": f"Bearer {token}"},
        verify=str(emulator.ca_bundle),
        timeout=30,
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "InvalidResourceType"


def test_bad_bodies_are_rejected(emulator: Emulator, app: SiteInfo) -> None:
    token = make_credential(emulator).get_token(ARM_SCOPE).token
    url = f"{emulator.url}{app.resource_id}/config/slotConfigNames"
    response = requests.put(
        url,
        params={"api-version": "2023-12-01"},
        headers={"Authorization": f"Bearer {token}"},
        json={"properties": {"appSettingNames": "NOT_A_LIST"}},
        verify=str(emulator.ca_bundle),
        timeout=30,
    )
    assert response.status_code == 400
    assert "appSettingNames" in response.json()["error"]["message"]


def test_the_names_survive_a_restart(emulator: Emulator, app: SiteInfo) -> None:
    client = WebSiteManagementClient(
        make_credential(emulator),
        emulator.subscription_id,
        base_url=emulator.url,
        credential_scopes=[ARM_SCOPE],
        connection_verify=str(emulator.ca_bundle),
    )
    with client:
        client.web_apps.update_slot_configuration_names(
            RESOURCE_GROUP,
            "hello-app",
            SlotConfigNamesResource({"properties": {"appSettingNames": ["KEEP"]}}),
        )
    emulator.stop()
    restarted = Emulator(emulator.data_dir).start()
    try:
        record = restarted.context.store.site("hello-app")
        assert record is not None
        assert record.sticky_app_settings == ("KEEP",)
    finally:
        restarted.stop()
