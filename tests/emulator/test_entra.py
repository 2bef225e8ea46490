"""Entra ID: the token endpoint as azure-identity drives it (secret and workload identity)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, WorkloadIdentityCredential

from funcpub.emulator import Emulator
from tests.emulator_fixtures import APPSERVICE_SCOPE, ARM_SCOPE, make_credential

pytestmark = pytest.mark.emulator


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def test_secret_grant_gives_an_arm_token(emulator: Emulator) -> None:
    token = make_credential(emulator).get_token(ARM_SCOPE)
    claims = claims_of(token.token)
    assert claims["aud"] == "https://management.azure.com/"
    assert claims["tid"] == emulator.tenant_id
    assert claims["appid"] == emulator.client_id
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(token.expires_on - time.time() - 3600) < 10


def test_appservice_scope_gives_the_appservice_audience(emulator: Emulator) -> None:
    token = make_credential(emulator).get_token(APPSERVICE_SCOPE)
    assert claims_of(token.token)["aud"] == "https://appservice.azure.com"


def test_token_lifetime_is_configurable(tmp_path: Path) -> None:
    with Emulator(tmp_path, token_lifetime=120) as emulator:
        token = make_credential(emulator).get_token(ARM_SCOPE)
    assert abs(token.expires_on - time.time() - 120) < 10


def test_wrong_secret_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        make_credential(emulator, secret="not-the-secret").get_token(ARM_SCOPE)


def test_wrong_secret_answers_entra_error_json(emulator: Emulator) -> None:
    response = requests.post(
        f"{emulator.url}/{emulator.tenant_id}/oauth2/v2.0/token",
        data={
            "client_id": emulator.client_id,
            "client_secret": "wrong",
            "grant_type": "client_credentials",
            "scope": ARM_SCOPE,
        },
        verify=str(emulator.ca_bundle),
        timeout=10,
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert {"timestamp", "trace_id", "correlation_id", "error_uri"} <= set(body)


def test_discovery_document_names_the_endpoints(emulator: Emulator) -> None:
    url = f"{emulator.url}/{emulator.tenant_id}/v2.0/.well-known/openid-configuration"
    document = requests.get(url, verify=str(emulator.ca_bundle), timeout=10).json()
    root = f"{emulator.url}/{emulator.tenant_id}"
    assert document["token_endpoint"] == f"{root}/oauth2/v2.0/token"
    assert document["authorization_endpoint"] == f"{root}/oauth2/v2.0/authorize"
    assert document["issuer"] == f"{root}/v2.0"


def test_unknown_tenant_is_refused(emulator: Emulator) -> None:
    tenant = "00000000-0000-0000-0000-000000000000"
    url = f"{emulator.url}/{tenant}/v2.0/.well-known/openid-configuration"
    response = requests.get(url, verify=str(emulator.ca_bundle), timeout=10)
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_client_assertion_grant(emulator: Emulator) -> None:
    credential = ClientAssertionCredential(
        emulator.tenant_id,
        emulator.client_id,
        emulator.federated_token,
        authority=emulator.url,
        connection_verify=str(emulator.ca_bundle),
    )
    claims = claims_of(credential.get_token(ARM_SCOPE).token)
    assert claims["appid"] == emulator.client_id
    assert claims["appidacr"] == "2"


def test_workload_identity_reads_the_token_file(emulator: Emulator, tmp_path: Path) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text(emulator.federated_token())
    credential = WorkloadIdentityCredential(
        tenant_id=emulator.tenant_id,
        client_id=emulator.client_id,
        token_file_path=str(token_file),
        authority=emulator.url,
        connection_verify=str(emulator.ca_bundle),
    )
    assert claims_of(credential.get_token(APPSERVICE_SCOPE).token)["tid"] == emulator.tenant_id


@pytest.mark.parametrize(
    ("assertion", "code"),
    [
        pytest.param("untrusted-subject", "AADSTS700213", id="subject"),
        pytest.param("expired", "AADSTS700024", id="expired"),
        pytest.param("garbage", "AADSTS50027", id="malformed"),
    ],
)
def test_bad_assertions_are_refused(emulator: Emulator, assertion: str, code: str) -> None:
    tokens = {
        "untrusted-subject": lambda: emulator.federated_token(subject="someone-else"),
        "expired": lambda: emulator.federated_token(lifetime=-60),
        "garbage": lambda: "not.a.jwt",
    }
    credential = ClientAssertionCredential(
        emulator.tenant_id,
        emulator.client_id,
        tokens[assertion],
        authority=emulator.url,
        connection_verify=str(emulator.ca_bundle),
    )
    with pytest.raises(ClientAuthenticationError, match=code):
        credential.get_token(ARM_SCOPE)


def test_unknown_scope_is_refused(emulator: Emulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS500011"):
        make_credential(emulator).get_token("https://vault.azure.net/.default")
