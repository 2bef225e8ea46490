"""Credentials: the chain built from `environ`, instance discovery, CA bundles, error messages."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AzureCliCredential,
    AzurePipelinesCredential,
    CertificateCredential,
    ChainedTokenCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from funcpub.deploy.auth import (
    ACCESS_TOKEN_HINT,
    EXPIRED_ASSERTION_HINT,
    FEDERATION_HINT,
    OIDC_HINT,
    SERVICE_PRINCIPAL_HINT,
    SIGN_IN_HINT,
    Credential,
    PipelinesVariablesMissingCredential,
    auth_error,
    ca_bundle,
    credential_chain,
    make_credential,
    needs_instance_discovery,
)
from funcpub.deploy.cloud import cloud_profile
from funcpub.errors import AuthError, ConfigError

EMULATOR = cloud_profile("emulator", {"FUNCPUB_EMULATOR_URL": "https://127.0.0.1:8443"})
PUBLIC = cloud_profile("AzureCloud", {})
SP = {"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client"}
TENANT_GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

OIDC_URI = (
    "https://dev.azure.com/org/project/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken"
)
PIPELINES = {
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "11111111-2222-3333-4444-555555555555",
    "AZURESUBSCRIPTION_CLIENT_ID": "client",
    "AZURESUBSCRIPTION_TENANT_ID": TENANT_GUID,
    "SYSTEM_ACCESSTOKEN": "job-access-token",
    "SYSTEM_OIDCREQUESTURI": OIDC_URI,
}


def test_ca_bundle_prefers_requests_then_ssl_cert_file() -> None:
    assert ca_bundle({}) is True
    assert ca_bundle({"SSL_CERT_FILE": "/b.pem"}) == "/b.pem"
    assert ca_bundle({"REQUESTS_CA_BUNDLE": "/a.pem", "SSL_CERT_FILE": "/b.pem"}) == "/a.pem"


@pytest.mark.parametrize(
    ("authority", "discover"),
    [
        ("https://login.microsoftonline.com", True),
        ("https://login.chinacloudapi.cn", True),
        ("https://LOGIN.microsoftonline.us", True),
        ("https://127.0.0.1:8443", False),
        ("https://login.contoso.example", False),
    ],
)
def test_instance_discovery_only_for_microsoft_hosts(authority: str, discover: bool) -> None:
    assert needs_instance_discovery(authority) is discover


def test_chain_order_when_everything_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", OIDC_URI)
    environ = {
        **SP,
        "AZURE_CLIENT_SECRET": "s",
        "AZURE_FEDERATED_TOKEN_FILE": "/token",
        **PIPELINES,
    }
    chain = credential_chain(EMULATOR, environ)
    assert [type(c) for c in chain] == [
        ClientSecretCredential,
        WorkloadIdentityCredential,
        AzurePipelinesCredential,
        ManagedIdentityCredential,
        AzureCliCredential,
    ]


def test_secret_credential_skips_instance_discovery_off_microsoft() -> None:
    environ = {**SP, "AZURE_CLIENT_SECRET": "s"}
    (emulated, *_) = credential_chain(EMULATOR, environ)
    (public, *_) = credential_chain(PUBLIC, environ)
    assert isinstance(emulated, ClientSecretCredential)
    assert isinstance(public, ClientSecretCredential)
    # MsalCredential keeps `instance_discovery` = not disable_instance_discovery (None = default).
    assert emulated._instance_discovery is False
    assert public._instance_discovery is None
    assert emulated._authority == "https://127.0.0.1:8443"


def write_certificate(folder: Path) -> Path:
    """A PEM file holding a private key and its self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "funcpub-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = folder / "sp.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path


def test_certificate_credential(tmp_path: Path) -> None:
    path = write_certificate(tmp_path)
    environ = {**SP, "AZURE_CLIENT_CERTIFICATE_PATH": str(path)}
    (first, *_) = credential_chain(EMULATOR, environ)
    assert isinstance(first, CertificateCredential)


def test_explicit_ids_win_over_the_environment() -> None:
    environ = {**SP, "AZURE_CLIENT_SECRET": "s"}
    (first, *_) = credential_chain(EMULATOR, environ, tenant_id=TENANT_GUID, client_id="mine")
    assert isinstance(first, ClientSecretCredential)
    assert first._tenant_id == TENANT_GUID
    assert first._client_id == "mine"


def test_without_a_service_principal_only_ambient_credentials() -> None:
    chain = credential_chain(PUBLIC, {"AZURE_CLIENT_SECRET": "s"})
    assert [type(c) for c in chain] == [ManagedIdentityCredential, AzureCliCredential]


def test_refused_secret_names_the_aadsts_code_without_the_secret() -> None:
    text = (
        "ClientSecretCredential.get_token failed: Microsoft Entra ID error '(invalid_client) "
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the "
        "client secret value, not the client secret ID, for a secret added to app 'x'. "
        "Trace ID: 1 Correlation ID: 2' hunter2"
    )
    error = auth_error(text, ("hunter2",))
    assert "AADSTS7000215" in error.message
    assert "Invalid client secret provided." in error.message
    assert "hunter2" not in error.message
    assert "Trace ID" not in error.message


def test_nothing_configured_says_what_to_do() -> None:
    text = (
        "ChainedTokenCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n"
        "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, "
        "no response from the IMDS endpoint.\n"
        "\tAzureCliCredential: Azure CLI not found on path\n"
        "To mitigate this issue, please refer to the troubleshooting guidelines here at x."
    )
    error = auth_error(text)
    assert error.hint == SIGN_IN_HINT
    assert error.message == (
        "no Azure credential could sign in; tried managed identity: authentication unavailable,"
        " no response from the IMDS endpoint; Azure CLI: Azure CLI not found on path"
    )
    assert "az login" in SIGN_IN_HINT
    assert "AZURE_CLIENT_SECRET" in SIGN_IN_HINT


class _Failing(ChainedTokenCredential):
    def __init__(self, message: str) -> None:
        self.message = message

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        raise ClientAuthenticationError(message=self.message)


class _Working(ChainedTokenCredential):
    def __init__(self) -> None:
        pass

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo("tok-123", 2_000_000_000)


def test_credential_wrapper_raises_auth_error() -> None:
    credential = Credential(
        _Failing("AADSTS700016: app not found s3cret"), on_token=print, secrets=("s3cret",)
    )
    with pytest.raises(AuthError) as info:
        credential.bearer("https://management.azure.com/.default")
    assert "AADSTS700016" in info.value.message
    assert "s3cret" not in info.value.message


def test_credential_wrapper_reports_tokens_as_secrets() -> None:
    seen: list[str] = []
    credential = Credential(_Working(), on_token=seen.append)
    assert credential.bearer("scope/.default") == "tok-123"
    assert seen == ["tok-123"]


def test_the_service_connection_is_configured_from_its_own_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", OIDC_URI)
    (pipelines, *_) = credential_chain(EMULATOR, {**SP, **PIPELINES})
    assert isinstance(pipelines, AzurePipelinesCredential)
    assert pipelines._service_connection_id == PIPELINES["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]
    assert pipelines._client_assertion_credential._client._tenant_id == TENANT_GUID


def test_without_the_access_token_the_service_connection_is_only_unavailable() -> None:
    environ = {k: v for k, v in PIPELINES.items() if k != "SYSTEM_ACCESSTOKEN"}
    (pipelines, *rest) = credential_chain(PUBLIC, environ)
    assert isinstance(pipelines, PipelinesVariablesMissingCredential)
    assert [type(c) for c in rest] == [ManagedIdentityCredential, AzureCliCredential]
    with pytest.raises(CredentialUnavailableError, match="not set in this step: SYSTEM_ACC"):
        pipelines.get_token_info("https://management.azure.com/.default")


def test_an_oidc_uri_the_process_does_not_have_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SYSTEM_OIDCREQUESTURI", raising=False)
    with pytest.raises(ConfigError, match="SYSTEM_OIDCREQUESTURI differs") as info:
        credential_chain(PUBLIC, PIPELINES)
    assert "os.environ" in (info.value.hint or "")


def test_environment_secrets_are_reported_before_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEM_OIDCREQUESTURI", OIDC_URI)
    seen: list[str] = []
    make_credential(PUBLIC, {**PIPELINES, "AZURE_CLIENT_SECRET": "short"}, on_token=seen.append)
    assert seen == ["job-access-token"]  # "short" is below MIN_SECRET: it would blank out words


def _chain_text(*attempts: str) -> str:
    lines = "\n".join(f"\t{attempt}" for attempt in attempts)
    return f"ChainedTokenCredential failed.\nAttempted credentials:\n{lines}\nTo mitigate this."


def test_a_missing_access_token_says_how_to_map_it() -> None:
    error = auth_error(
        _chain_text(
            "PipelinesVariablesMissingCredential: not set in this step: SYSTEM_ACCESSTOKEN",
            "ManagedIdentityCredential: ManagedIdentityCredential authentication unavailable.",
            "AzureCliCredential: Azure CLI not found on path",
        )
    )
    assert error.message.startswith(
        "no Azure credential could sign in; tried Azure Pipelines service connection:"
        " not set in this step: SYSTEM_ACCESSTOKEN;"
    )
    assert error.hint == ACCESS_TOKEN_HINT
    assert "env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in ACCESS_TOKEN_HINT


def test_azure_devops_refusing_the_job_token_points_at_the_token_and_the_connection() -> None:
    error = auth_error(
        _chain_text(
            "AzurePipelinesCredential: (None) TF400813: The user '' is not authorized to access"
            " this resource."
        )
    )
    assert error.message == (
        "no Azure credential could sign in; tried Azure Pipelines service connection:"
        " TF400813: The user '' is not authorized to access this resource"
    )
    assert error.hint == OIDC_HINT


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("70021", FEDERATION_HINT),
        ("700213", FEDERATION_HINT),
        ("700212", FEDERATION_HINT),
        ("700024", EXPIRED_ASSERTION_HINT),
        ("7000215", SERVICE_PRINCIPAL_HINT),
    ],
)
def test_a_refused_federated_token_says_what_must_match(code: str, hint: str) -> None:
    error = auth_error(f"AzurePipelinesCredential: Entra error 'AADSTS{code}: Nope. Trace ID: 1'")
    assert error.message == f"Microsoft Entra ID refused the credential: AADSTS{code} (Nope.)"
    assert error.hint == hint
