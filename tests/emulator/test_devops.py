"""Azure DevOps' OIDC endpoint and Entra ID's federated check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import AzurePipelinesCredential, ClientAssertionCredential

from funcpub.emulator import Emulator
from funcpub.emulator.faults import FaultRule
from funcpub.emulator.records import (
    DEVOPS_ISSUER,
    TOKEN_EXCHANGE_AUDIENCE,
    FederatedCredential,
    service_connection_subject,
)
from tests.emulator.test_entra import claims_of
from tests.emulator_fixtures import ARM_SCOPE

pytestmark = pytest.mark.emulator


def pipelines_credential(
    emulator: Emulator, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AzurePipelinesCredential:
    """azure-identity's credential, configured as funcpub configures it in a pipeline step."""
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", env["SYSTEM_OIDCREQUESTURI"])
    return AzurePipelinesCredential(
        tenant_id=env["AZURESUBSCRIPTION_TENANT_ID"],
        client_id=env["AZURESUBSCRIPTION_CLIENT_ID"],
        service_connection_id=env["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
        system_access_token=env["SYSTEM_ACCESSTOKEN"],
        authority=emulator.url,
        connection_verify=str(emulator.ca_bundle),
    )


def ask_for_oidc_token(
    emulator: Emulator, env: dict[str, str], *, query: str | None = None, bearer: str | None = None
) -> requests.Response:
    connection = env["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]
    query = f"api-version=7.1&serviceConnectionId={connection}" if query is None else query
    headers = {"Content-Type": "application/json", "X-TFS-FedAuthRedirect": "Suppress"}
    if bearer != "":
        headers["Authorization"] = f"Bearer {bearer or env['SYSTEM_ACCESSTOKEN']}"
    return requests.post(
        f"{env['SYSTEM_OIDCREQUESTURI']}?{query}",
        headers=headers,
        verify=str(emulator.ca_bundle),
        timeout=10,
    )


def test_the_service_connection_signs_in_without_a_secret(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = emulator.pipeline_env()
    assert "AZURE_CLIENT_SECRET" not in env
    credential = pipelines_credential(emulator, env, monkeypatch)
    claims = claims_of(credential.get_token(ARM_SCOPE).token)
    assert claims["appid"] == emulator.client_id
    assert claims["appidacr"] == "2"  # an assertion, not a secret


def test_the_oidc_token_names_the_service_connection(emulator: Emulator) -> None:
    env = emulator.pipeline_env("deploy-prod")
    response = ask_for_oidc_token(emulator, env)
    assert response.status_code == 200
    claims = claims_of(response.json()["oidcToken"])
    assert claims["iss"] == DEVOPS_ISSUER
    assert claims["sub"] == "sc://funcpub-emulator/funcpub/deploy-prod"
    assert claims["aud"] == TOKEN_EXCHANGE_AUDIENCE


@pytest.mark.parametrize(
    ("request_kind", "status", "type_key"),
    [
        ("no api-version", 400, "VssVersionNotSpecifiedException"),
        ("no access token", 401, "UnauthorizedRequestException"),
        ("an ARM token", 401, "UnauthorizedRequestException"),
        ("unknown connection", 404, "ServiceEndpointNotFoundException"),
    ],
)
def test_the_oidc_endpoint_refuses(
    emulator: Emulator, request_kind: str, status: int, type_key: str
) -> None:
    env = emulator.pipeline_env()
    unknown = "api-version=7.1&serviceConnectionId=00000000-0000-0000-0000-000000000000"
    requests_by_kind: dict[str, Callable[[], requests.Response]] = {
        "no api-version": lambda: ask_for_oidc_token(emulator, env, query="serviceConnectionId=x"),
        "no access token": lambda: ask_for_oidc_token(emulator, env, bearer=""),
        "an ARM token": lambda: ask_for_oidc_token(emulator, env, bearer=emulator.issue_token()),
        "unknown connection": lambda: ask_for_oidc_token(emulator, env, query=unknown),
    }
    response = requests_by_kind[request_kind]()
    assert response.status_code == status
    assert response.json()["typeKey"] == type_key


@pytest.mark.parametrize(
    ("subject", "audience", "lifetime", "code"),
    [
        pytest.param("renamed", TOKEN_EXCHANGE_AUDIENCE, 600, "AADSTS700213", id="subject"),
        pytest.param("funcpub-wif", "api://somewhere-else", 600, "AADSTS700212", id="audience"),
        pytest.param("funcpub-wif", TOKEN_EXCHANGE_AUDIENCE, -60, "AADSTS700024", id="expired"),
    ],
)
def test_entra_checks_the_service_connection_token_like_a_federated_credential(
    emulator: Emulator, subject: str, audience: str, lifetime: int, code: str
) -> None:
    emulator.add_service_connection()  # trusts sc://funcpub-emulator/funcpub/funcpub-wif
    assertion = emulator.federated_token(
        issuer=DEVOPS_ISSUER,
        subject=service_connection_subject(subject),
        audience=audience,
        lifetime=lifetime,
    )
    credential = ClientAssertionCredential(
        emulator.tenant_id,
        emulator.client_id,
        lambda: assertion,
        authority=emulator.url,
        connection_verify=str(emulator.ca_bundle),
    )
    with pytest.raises(ClientAuthenticationError, match=code):
        credential.get_token(ARM_SCOPE)


def test_a_connection_without_a_federated_credential_is_refused(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.add_service_connection("old-name")  # the name the federated credential has
    env = emulator.pipeline_env("renamed-connection", federated=False)
    credential = pipelines_credential(emulator, env, monkeypatch)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213") as info:
        credential.get_token(ARM_SCOPE)
    assert "sc://funcpub-emulator/funcpub/renamed-connection" in str(info.value)


def test_service_connections_survive_a_restart(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emulator") as emulator:
        connection = emulator.add_service_connection("kept")
    with Emulator(tmp_path / "emulator") as emulator:
        store = emulator.context.store
        assert store.service_connection(connection.id) == connection
        principal = store.principal(emulator.client_id)
        assert principal is not None
        trusted = FederatedCredential(
            issuer=DEVOPS_ISSUER, subject=service_connection_subject("kept")
        )
        assert trusted in principal.federated
        assert emulator.add_service_connection("kept") == connection  # reused by name


def test_a_failing_oidc_endpoint_is_retried(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.faults.add(FaultRule(role="devops", method="POST", path="/oidctoken$", status=503))
    env = emulator.pipeline_env()
    credential = pipelines_credential(emulator, env, monkeypatch)
    assert claims_of(credential.get_token(ARM_SCOPE).token)["appid"] == emulator.client_id
    assert not emulator.faults.rules()  # the fault fired: the first request failed
