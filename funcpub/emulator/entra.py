"""Entra ID (Azure AD) v2.0 endpoints: OIDC discovery and the client-credentials token grant.

Two client authentications are accepted for a registered service principal:
* `client_secret` (ClientSecretCredential via MSAL, which first reads the discovery document);
* `client_assertion` (WorkloadIdentityCredential / ClientAssertionCredential /
  AzurePipelinesCredential): a JWT signed with the emulator's key, unexpired, whose `iss` and
  `sub` match one of the principal's federated credentials and whose `aud` is that credential's
  audience (`api://AzureADTokenExchange`). The default principal trusts `EMULATOR_OIDC_ISSUER`
  with `DEFAULT_FEDERATED_SUBJECT` (`Emulator.federated_token()` mints one) and each federated
  Azure DevOps service connection (`Emulator.pipeline_env()`; see `devops`).
Errors use Entra's JSON shape and AADSTS codes (azure-identity raises ClientAuthenticationError).
"""

from __future__ import annotations

import datetime
import hmac
import uuid
from collections.abc import Mapping
from typing import Final

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from funcpub.emulator.records import Principal
from funcpub.emulator.state import Store
from funcpub.emulator.tokens import (
    RESOURCE_AUDIENCES,
    TokenError,
    decode_jwt,
    mint_access_token,
)
from funcpub.emulator.web import json_response

ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def discovery(request: Request, tenant: str, *, store: Store, base_url: str) -> Response:
    """`GET /{tenant}/v2.0/.well-known/openid-configuration` (what MSAL reads first)."""
    if not store.tenant_exists(tenant):
        return _tenant_not_found(tenant)
    root = f"{base_url}/{tenant}"
    return json_response(
        {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "funcpub-emulator",
        }
    )


def token(request: Request, tenant: str, *, store: Store, lifetime: int) -> Response:
    """`POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`."""
    form = request.form
    if not store.tenant_exists(tenant):
        return _tenant_not_found(tenant)
    problem = _check_request(form)
    if problem is not None:
        return problem
    client_id = form["client_id"]
    principal = store.principal(client_id)
    if principal is None or principal.tenant_id != tenant.lower():
        return _application_not_found(client_id, tenant)
    audience = _audience(form["scope"])
    if isinstance(audience, Response):
        return audience
    refused = _authenticate(form, principal, store.signing_key)
    if refused is not None:
        return refused
    access_token = mint_access_token(
        store.signing_key,
        tenant_id=principal.tenant_id,
        app_id=principal.client_id,
        object_id=principal.object_id,
        audience=audience,
        lifetime=lifetime,
        assertion="client_assertion" in form,
    )
    return json_response(
        {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        },
        headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
    )


def _check_request(form: MultiDict[str, str]) -> Response | None:
    grant = form.get("grant_type")
    if not grant:
        return error(400, "invalid_request", 900144, _missing("grant_type"))
    if grant != "client_credentials":
        return error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )
    for name in ("client_id", "scope"):
        if not form.get(name):
            return error(400, "invalid_request", 900144, _missing(name))
    return None


def _missing(name: str) -> str:
    return f"The request body must contain the following parameter: '{name}'."


def _audience(scope: str) -> str | Response:
    """One `<resource>/.default` scope, as client credential flows require."""
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        return error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    resource = scopes[0].removesuffix("/.default").rstrip("/")
    audience = RESOURCE_AUDIENCES.get(resource.lower())
    if audience is None:
        return error(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant. This can "
            "happen if the application has not been installed by the administrator of the "
            "tenant or consented to by any user in the tenant.",
        )
    return audience


def _authenticate(form: MultiDict[str, str], principal: Principal, key: bytes) -> Response | None:
    if "client_assertion" in form:
        return _check_assertion(form, principal, key)
    secret = form.get("client_secret")
    if not secret:
        return error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or "
            "'client_secret'.",
        )
    if not hmac.compare_digest(secret.encode(), principal.secret.encode()):
        return error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            "client secret value, not the client secret ID, for a secret added to app "
            f"'{principal.client_id}'.",
        )
    return None


def _check_assertion(
    form: MultiDict[str, str], principal: Principal, key: bytes
) -> Response | None:
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        return error(
            400,
            "invalid_request",
            700025,
            f"Client assertion type must be '{ASSERTION_TYPE}'.",
        )
    try:
        claims = decode_jwt(form["client_assertion"], key)
    except TokenError as exc:
        return _assertion_error(exc)
    issuer, subject, audience = (str(claims.get(n)) for n in ("iss", "sub", "aud"))
    trusted = [f for f in principal.federated if f.issuer == issuer]
    if not trusted:
        return _no_match(700211, "issuer", issuer)
    if not any(f.subject == subject for f in trusted):
        return _no_match(700213, "subject", subject)
    if not any(f.subject == subject and f.audience == audience for f in trusted):
        return _no_match(700212, "audience", audience)
    return None


def _assertion_error(exc: TokenError) -> Response:
    if exc.problem in ("expired", "not_yet_valid"):
        return error(
            400,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range. "
            f"Current time: {_utc_text()}, expiry time of assertion {exc.claims.get('exp')}.",
        )
    return error(400, "invalid_request", 50027, "JWT token is invalid or malformed.")


def _no_match(code: int, what: str, value: str) -> Response:
    return error(
        400,
        "invalid_request",
        code,
        f"No matching federated identity record found for presented assertion {what} '{value}'. "
        "Check your federated identity credential Subject, Audience and Issuer against the "
        "presented assertion. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    )


def _tenant_not_found(tenant: str) -> Response:
    return error(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud.",
    )


def _application_not_found(client_id: str, tenant: str) -> Response:
    return error(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of the "
        "tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
    )


def _utc_text() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def error(status: int, code: str, aadsts: int, text: str) -> Response:
    """Entra's error body: `error`, `error_description` (`AADSTS<n>: ...`), `error_codes`, ..."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = _utc_text()
    description = (
        f"AADSTS{aadsts}: {text} Trace ID: {trace_id} Correlation ID: {correlation_id} "
        f"Timestamp: {timestamp}"
    )
    body: Mapping[str, object] = {
        "error": code,
        "error_description": description,
        "error_codes": [aadsts],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}",
    }
    return json_response(body, status=status)
