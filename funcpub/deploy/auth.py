"""Signing in to Microsoft Entra ID with azure-identity.

The default chain follows DefaultAzureCredential's non-interactive part - environment service
principal (secret or certificate), workload identity, then an Azure Pipelines service connection
(AzurePipelinesCredential), managed identity, Azure CLI - but is built from the `environ` mapping
the caller passes instead of `os.environ`, with the cloud profile's authority on every credential.
One exception: AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI from `os.environ` when it asks
for a token (its constructor takes no URI), so the chain refuses an `environ` that disagrees.

MSAL asks https://login.microsoftonline.com/common/discovery/instance about any authority it
does not know, which fails offline and leaks the host name; for authorities other than the public
Microsoft hosts we pass `disable_instance_discovery=True` (only the MSAL-based credentials take it:
ClientSecretCredential, CertificateCredential; workload identity never discovers).
TLS is always verified; a private CA comes from REQUESTS_CA_BUNDLE or SSL_CERT_FILE in `environ`
and is handed to azure-core as `connection_verify`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from azure.core.credentials import (
    AccessToken,
    AccessTokenInfo,
    TokenCredential,
    TokenRequestOptions,
)
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import PipelineResponse
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

from funcpub.deploy.cloud import CloudProfile
from funcpub.errors import AuthError, ConfigError

# MSAL's well-known Entra hosts (msal/authority.py WELL_KNOWN_AUTHORITY_HOSTS, public subset).
PUBLIC_AUTHORITY_HOSTS: Final = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
    }
)
CA_VARIABLES: Final = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_UNTRUSTED: Final = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "ostname mismatch")
ACCESS_TOKEN_VARIABLE: Final = "SYSTEM_ACCESSTOKEN"  # noqa: S105 - a variable name
OIDC_URI_VARIABLE: Final = "SYSTEM_OIDCREQUESTURI"
SERVICE_CONNECTION_VARIABLE: Final = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"
# What AzurePipelinesCredential needs besides the service connection's ID; AzureCLI@2 and
# AzurePowerShell@5 export the AZURESUBSCRIPTION_* ones, the job's access token must be mapped.
PIPELINES_VARIABLES: Final = (
    "AZURESUBSCRIPTION_CLIENT_ID",
    "AZURESUBSCRIPTION_TENANT_ID",
    ACCESS_TOKEN_VARIABLE,
    OIDC_URI_VARIABLE,
)
SECRET_VARIABLES: Final = (
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    ACCESS_TOKEN_VARIABLE,
)
MIN_SECRET: Final = 8  # shorter values would blank out ordinary words when redacted
OIDC_TOKEN_FIELD: Final = "oidcToken"  # noqa: S105 - Azure DevOps' response field
SIGN_IN_HINT: Final = (
    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or"
    " AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE for workload identity),"
    " or run `az login`"
    " (add --tenant <id> if the app is in another tenant)"
)
ACCESS_TOKEN_HINT: Final = (
    "map the job's access token into the step that runs funcpub -"
    f" `env: {ACCESS_TOKEN_VARIABLE}: $(System.AccessToken)` - secret variables reach a script"
    " only when mapped"
)
OIDC_HINT: Final = (
    f"Azure DevOps gave no OIDC token: check that {ACCESS_TOKEN_VARIABLE} is this job's"
    " $(System.AccessToken) and that the pipeline is allowed to use the service connection"
    f" {SERVICE_CONNECTION_VARIABLE} names"
)
FEDERATION_HINT: Final = (
    "the app registration (or managed identity) needs a federated credential matching the token:"
    " for an Azure Pipelines service connection the issuer"
    " https://vstoken.dev.azure.com/<organization id>, the subject"
    " sc://<organization>/<project>/<service connection> (renaming the connection changes it)"
    " and the audience api://AzureADTokenExchange"
)
EXPIRED_ASSERTION_HINT: Final = (
    "the federated token expired before it was exchanged: hand funcpub a fresh one (in Azure"
    f" Pipelines map {ACCESS_TOKEN_VARIABLE} so funcpub asks for one whenever it signs in)"
)
SERVICE_PRINCIPAL_HINT: Final = (
    "check the client ID, tenant and secret or certificate of the service principal"
)
# AADSTS codes of a refused federated token -> what to do.
AADSTS_HINTS: Final = {
    "70021": FEDERATION_HINT,  # no matching federated identity record
    "700211": FEDERATION_HINT,  # ... for the issuer
    "700212": FEDERATION_HINT,  # ... for the audience
    "700213": FEDERATION_HINT,  # ... for the subject
    "700024": EXPIRED_ASSERTION_HINT,  # assertion not within its valid time range
}
TLS_HINT: Final = (
    "the sign-in endpoint's TLS certificate is not trusted here: set REQUESTS_CA_BUNDLE to the"
    " CA bundle that signed it (funcpub never turns TLS verification off)"
)
CREDENTIAL_LABELS: Final = {
    "ClientSecretCredential": "service principal (secret)",
    "CertificateCredential": "service principal (certificate)",
    "WorkloadIdentityCredential": "workload identity",
    "AzurePipelinesCredential": "Azure Pipelines service connection",
    "PipelinesVariablesMissingCredential": "Azure Pipelines service connection",
    "ManagedIdentityCredential": "managed identity",
    "AzureCliCredential": "Azure CLI",
}
_AADSTS = re.compile(r"AADSTS(\d+)\b[:\s]*([^\r\n]*)")
_ATTEMPT = re.compile(r"^\s*(\w+Credential): (.*)$")
_SENTENCE = re.compile(r"^(.*?[.!])(?:\s|$)")

Verify = str | bool  # a CA bundle path, or True for the system store; never False


def ca_bundle(environ: Mapping[str, str]) -> Verify:
    """The CA bundle to trust: REQUESTS_CA_BUNDLE or SSL_CERT_FILE, else the default store."""
    for name in CA_VARIABLES:
        if value := environ.get(name, "").strip():
            return value
    return True


def untrusted(error: BaseException) -> bool:
    """Whether a `requests` error is a failed certificate check: never retried.

    requests raises SSLError for any TLS-layer failure, a connection cut mid-stream (EOF)
    included; only a refused certificate or host name is a verification failure.
    """
    text = str(error)
    return isinstance(error, requests.exceptions.SSLError) and any(
        marker in text for marker in _UNTRUSTED
    )


def check_ca_bundle(environ: Mapping[str, str]) -> None:
    """ConfigError when the CA bundle the environment names does not exist (before any request)."""
    for name in CA_VARIABLES:
        if value := environ.get(name, "").strip():
            if not Path(value).exists():
                msg = f"{name}={value} does not exist"
                raise ConfigError(
                    msg, hint="point it at a PEM file of CA certificates, or unset it"
                )
            return


def needs_instance_discovery(authority_host: str) -> bool:
    """Whether MSAL may validate this authority with Microsoft (only for Microsoft's hosts)."""
    return (urlsplit(authority_host).hostname or "").lower() in PUBLIC_AUTHORITY_HOSTS


class Credential:
    """A TokenCredential that turns every sign-in failure into `AuthError`.

    Tokens are cached by the underlying credentials, so asking for one per request is cheap and
    keeps long deployments working after the first token expires.
    """

    def __init__(
        self,
        inner: ChainedTokenCredential,
        *,
        on_token: Callable[[str], None],
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._inner = inner
        self._on_token = on_token
        self._secrets = secrets

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """azure-core's TokenCredential protocol."""
        try:
            token = self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as error:
            raise auth_error(str(error), self._secrets) from None
        self._on_token(token.token)
        return token

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        """azure-core's SupportsTokenInfo protocol (what its bearer policy prefers)."""
        try:
            info = self._inner.get_token_info(*scopes, options=options)
        except ClientAuthenticationError as error:
            raise auth_error(str(error), self._secrets) from None
        self._on_token(info.token)
        return info

    def bearer(self, scope: str) -> str:
        """A current access token for `scope`."""
        return self.get_token_info(scope).token

    def close(self) -> None:
        """Close the credentials' HTTP sessions."""
        self._inner.close()


def make_credential(
    profile: CloudProfile,
    environ: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    on_token: Callable[[str], None] = lambda _token: None,
    retry_backoff: float | None = None,
) -> Credential:
    """The default credential chain for `profile`, configured from `environ`.

    `on_token` learns every secret sign-in handles, before it could be printed: the secrets in
    `environ`, Azure DevOps' OIDC tokens and the access tokens.
    `retry_backoff` is azure-core's backoff factor for the Entra ID requests (None: its own).
    """
    secrets = tuple(value for name in SECRET_VARIABLES if (value := environ.get(name)))
    for secret in secrets:
        if len(secret) >= MIN_SECRET:
            on_token(secret)
    chain = credential_chain(
        profile,
        environ,
        tenant_id=tenant_id,
        client_id=client_id,
        retry_backoff=retry_backoff,
        on_secret=on_token,
    )
    return Credential(ChainedTokenCredential(*chain), on_token=on_token, secrets=secrets)


def credential_chain(
    profile: CloudProfile,
    environ: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    retry_backoff: float | None = None,
    on_secret: Callable[[str], None] = lambda _secret: None,
) -> list[TokenCredential]:
    """Environment service principal, workload identity, Azure Pipelines service connection,
    managed identity, Azure CLI (each only when `environ` configures it, the last two always)."""
    tenant = tenant_id or environ.get("AZURE_TENANT_ID") or None
    client = client_id or environ.get("AZURE_CLIENT_ID") or None
    transport: dict[str, Any] = {"connection_verify": ca_bundle(environ)}
    # Entra ID's own token endpoints only: managed identity keeps its IMDS retry schedule.
    entra = transport | ({} if retry_backoff is None else {"retry_backoff_factor": retry_backoff})
    chain: list[TokenCredential] = []
    if tenant and client:
        chain += _service_principal(profile, environ, tenant, client, entra)
        if token_file := environ.get("AZURE_FEDERATED_TOKEN_FILE"):
            chain.append(
                WorkloadIdentityCredential(
                    tenant_id=tenant,
                    client_id=client,
                    token_file_path=token_file,
                    authority=profile.authority_host,
                    **entra,
                )
            )
    if connection := environ.get(SERVICE_CONNECTION_VARIABLE):
        chain.append(_azure_pipelines(profile, environ, connection, entra, on_secret))
    chain.append(ManagedIdentityCredential(client_id=client, **transport))
    chain.append(AzureCliCredential(tenant_id=tenant_id or ""))
    return chain


def _service_principal(
    profile: CloudProfile,
    environ: Mapping[str, str],
    tenant: str,
    client: str,
    transport: Mapping[str, Any],
) -> list[TokenCredential]:
    """A client-secret or certificate credential when the environment configures one."""
    options: dict[str, Any] = {"authority": profile.authority_host, **transport}
    if not needs_instance_discovery(profile.authority_host):
        options["disable_instance_discovery"] = True
    if secret := environ.get("AZURE_CLIENT_SECRET"):
        return [ClientSecretCredential(tenant, client, secret, **options)]
    if certificate := environ.get("AZURE_CLIENT_CERTIFICATE_PATH"):
        send_chain = environ.get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "").lower() in {"1", "true"}
        return [
            CertificateCredential(
                tenant,
                client,
                certificate,
                password=environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
                send_certificate_chain=send_chain,
                **options,
            )
        ]
    return []


class PipelinesVariablesMissingCredential:
    """Stands in for AzurePipelinesCredential when the step lacks some of its variables.

    Unavailable rather than failing, so the chain goes on (an AzureCLI@2 step without
    SYSTEM_ACCESSTOKEN still signs in with the task's Azure CLI login); its reason names them.
    """

    def __init__(self, missing: tuple[str, ...]) -> None:
        self.message = "not set in this step: " + ", ".join(missing)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise CredentialUnavailableError(message=self.message)

    def get_token_info(
        self, *scopes: str, options: TokenRequestOptions | None = None
    ) -> AccessTokenInfo:
        raise CredentialUnavailableError(message=self.message)

    def __enter__(self) -> PipelinesVariablesMissingCredential:
        return self

    def __exit__(self, *args: object) -> None:
        """Nothing to close."""


def _azure_pipelines(
    profile: CloudProfile,
    environ: Mapping[str, str],
    connection: str,
    transport: Mapping[str, Any],
    on_secret: Callable[[str], None],
) -> TokenCredential:
    """AzurePipelinesCredential for the service connection, or its stand-in when incomplete."""
    missing = tuple(name for name in PIPELINES_VARIABLES if not environ.get(name))
    if missing:
        return PipelinesVariablesMissingCredential(missing)
    if os.environ.get(OIDC_URI_VARIABLE) != environ[OIDC_URI_VARIABLE]:
        msg = f"{OIDC_URI_VARIABLE} differs between the given environment and the process's"
        hint = f"azure-identity reads {OIDC_URI_VARIABLE} from os.environ: set it there too"
        raise ConfigError(msg, hint=hint)
    return AzurePipelinesCredential(
        tenant_id=environ["AZURESUBSCRIPTION_TENANT_ID"],
        client_id=environ["AZURESUBSCRIPTION_CLIENT_ID"],
        service_connection_id=connection,
        system_access_token=environ[ACCESS_TOKEN_VARIABLE],
        authority=profile.authority_host,
        raw_response_hook=_oidc_token_reporter(on_secret),
        **transport,
    )


def _oidc_token_reporter(
    on_secret: Callable[[str], None],
) -> Callable[[PipelineResponse[Any, Any]], None]:
    """An azure-core response hook that hands Azure DevOps' OIDC token to `on_secret`."""

    def hook(response: PipelineResponse[Any, Any]) -> None:
        text = response.http_response.text()
        if OIDC_TOKEN_FIELD not in text:
            return
        try:
            token = json.loads(text).get(OIDC_TOKEN_FIELD)
        except (ValueError, AttributeError):
            return
        if isinstance(token, str):
            on_secret(token)

    return hook


def auth_error(text: str, secrets: tuple[str, ...] = ()) -> AuthError:
    """An AuthError for a credential failure: the AADSTS code if Entra refused, else what to do."""
    text = _without(text, secrets)
    if match := _AADSTS.search(text):
        detail = _first_sentence(match.group(2))
        msg = f"Microsoft Entra ID refused the credential: AADSTS{match.group(1)}"
        msg += f" ({detail})" if detail else ""
        return AuthError(msg, hint=AADSTS_HINTS.get(match.group(1), SERVICE_PRINCIPAL_HINT))
    attempts = [
        f"{CREDENTIAL_LABELS.get(name, name)}: {_first_sentence(_reason(name, reason)).rstrip('.')}"
        for name, reason in _attempts(text)
    ]
    msg = "no Azure credential could sign in"
    if attempts:
        msg += "; tried " + "; ".join(attempts)
    return AuthError(msg, hint=_hint(text))


def _hint(text: str) -> str:
    """What to do when no credential signed in, from the chain's reasons."""
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return TLS_HINT
    reasons = dict(_attempts(text))
    if AzurePipelinesCredential.__name__ in reasons:  # it failed (not AADSTS): Azure DevOps did
        return OIDC_HINT
    if ACCESS_TOKEN_VARIABLE in reasons.get(PipelinesVariablesMissingCredential.__name__, ""):
        return ACCESS_TOKEN_HINT
    return SIGN_IN_HINT


def _attempts(text: str) -> list[tuple[str, str]]:
    """(credential, reason) pairs from ChainedTokenCredential's 'Attempted credentials' block."""
    return [(m.group(1), m.group(2)) for line in text.splitlines() if (m := _ATTEMPT.match(line))]


def _reason(name: str, reason: str) -> str:
    """`reason` without the credential's own name or azure-core's `(None)` (no code) in front."""
    reason = reason.removeprefix(name).lstrip(" :") or reason
    return reason.removeprefix("(None) ")


def _first_sentence(text: str, limit: int = 160) -> str:
    text = text.strip()
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 3] + "..."


def _without(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
