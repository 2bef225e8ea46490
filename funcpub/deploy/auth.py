"""Signing in to Microsoft Entra ID with azure-identity.

The default chain matches DefaultAzureCredential's non-interactive part - environment service
principal (secret or certificate), workload identity, managed identity, Azure CLI - but is built
from the `environ` mapping the caller passes instead of `os.environ`, with the cloud profile's
authority on every credential.

MSAL asks https://login.microsoftonline.com/common/discovery/instance about any authority it
does not know, which fails offline and leaks the host name; for authorities other than the public
Microsoft hosts we pass `disable_instance_discovery=True` (only the MSAL-based credentials take it:
ClientSecretCredential, CertificateCredential; workload identity never discovers).
TLS is always verified; a private CA comes from REQUESTS_CA_BUNDLE or SSL_CERT_FILE in `environ`
and is handed to azure-core as `connection_verify`.
"""

from __future__ import annotations

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
from azure.identity import (
    AzureCliCredential,
    CertificateCredential,
    ChainedTokenCredential,
    ClientSecretCredential,
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
SECRET_VARIABLES: Final = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD")
SIGN_IN_HINT: Final = (
    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or"
    " AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE for workload identity),"
    " or run `az login`"
    " (add --tenant <id> if the app is in another tenant)"
)
TLS_HINT: Final = (
    "the sign-in endpoint's TLS certificate is not trusted here: set REQUESTS_CA_BUNDLE to the"
    " CA bundle that signed it (funcpub never turns TLS verification off)"
)
CREDENTIAL_LABELS: Final = {
    "ClientSecretCredential": "service principal (secret)",
    "CertificateCredential": "service principal (certificate)",
    "WorkloadIdentityCredential": "workload identity",
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

    `retry_backoff` is azure-core's backoff factor for the Entra ID requests (None: its own).
    """
    chain = credential_chain(
        profile, environ, tenant_id=tenant_id, client_id=client_id, retry_backoff=retry_backoff
    )
    secrets = tuple(value for name in SECRET_VARIABLES if (value := environ.get(name)))
    return Credential(ChainedTokenCredential(*chain), on_token=on_token, secrets=secrets)


def credential_chain(
    profile: CloudProfile,
    environ: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    client_id: str | None = None,
    retry_backoff: float | None = None,
) -> list[TokenCredential]:
    """Environment service principal, workload identity, managed identity, Azure CLI."""
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


def auth_error(text: str, secrets: tuple[str, ...] = ()) -> AuthError:
    """An AuthError for a credential failure: the AADSTS code if Entra refused, else what to do."""
    text = _without(text, secrets)
    if match := _AADSTS.search(text):
        detail = _first_sentence(match.group(2))
        msg = f"Microsoft Entra ID refused the credential: AADSTS{match.group(1)}"
        msg += f" ({detail})" if detail else ""
        hint = "check the client ID, tenant and secret or certificate of the service principal"
        return AuthError(msg, hint=hint)
    attempts = [
        f"{CREDENTIAL_LABELS.get(name, name)}: {_first_sentence(_reason(name, reason)).rstrip('.')}"
        for name, reason in _attempts(text)
    ]
    msg = "no Azure credential could sign in"
    if attempts:
        msg += "; tried " + "; ".join(attempts)
    return AuthError(msg, hint=TLS_HINT if "CERTIFICATE_VERIFY_FAILED" in text else SIGN_IN_HINT)


def _attempts(text: str) -> list[tuple[str, str]]:
    """(credential, reason) pairs from ChainedTokenCredential's 'Attempted credentials' block."""
    return [(m.group(1), m.group(2)) for line in text.splitlines() if (m := _ATTEMPT.match(line))]


def _reason(name: str, reason: str) -> str:
    """`reason` without the credential's own name in front."""
    return reason.removeprefix(name).lstrip(" :") or reason


def _first_sentence(text: str, limit: int = 160) -> str:
    text = text.strip()
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 3] + "..."


def _without(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
