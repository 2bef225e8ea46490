"""Who may call what: bearer tokens for ARM and SCM, publishing credentials for SCM.

ARM accepts only tokens for the ARM audience and answers 401 with ARM's error JSON and a
`WWW-Authenticate: Bearer` challenge (no `claims`, so azure-core surfaces the 401). The SCM
front end accepts a token for the ARM or the App Service audience, or Basic `$<app>` with the
publishing password while the site's `basicPublishingCredentialsPolicies/scm` allows it; it
refuses everything else with an empty 401.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
from typing import Final

from werkzeug.wrappers import Request, Response

from funcpub.emulator.records import SiteRecord
from funcpub.emulator.state import Store
from funcpub.emulator.tokens import (
    APPSERVICE_AUDIENCES,
    ARM_AUDIENCES,
    AccessToken,
    TokenError,
    read_access_token,
)
from funcpub.emulator.web import bearer_token, empty_response, json_response, request_ids

SCM_AUDIENCES: Final = ARM_AUDIENCES | APPSERVICE_AUDIENCES


def arm_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """ARM's error body `{"error": {"code", "message"}}`."""
    return json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        headers={**request_ids(), **(headers or {})},
    )


def _challenge(base_url: str, tenant: str, description: str) -> dict[str, str]:
    value = (
        f'Bearer authorization_uri="{base_url}/{tenant}", error="invalid_token", '
        f'error_description="{description}"'
    )
    return {"WWW-Authenticate": value}


def _dotnet_time(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%m/%d/%Y %H:%M:%S")


def authorize_arm(
    request: Request, store: Store, *, tenant_id: str, base_url: str
) -> AccessToken | Response:
    """The caller's token, or the 401 ARM sends."""
    token = bearer_token(request)
    if token is None:
        message = "Authentication failed. The 'Authorization' header is missing."
        return arm_error(401, "AuthenticationFailed", message)
    try:
        claims = read_access_token(token, store.signing_key)
    except TokenError as exc:
        return _arm_token_error(exc, tenant_id, base_url)
    if claims.audience not in ARM_AUDIENCES:
        message = (
            f"The access token has been obtained for wrong audience or resource "
            f"'{claims.audience}'. It should exactly match with one of the allowed audiences "
            f"{', '.join(repr(a) for a in sorted(ARM_AUDIENCES))}."
        )
        challenge = _challenge(base_url, tenant_id, "The access token is invalid.")
        return arm_error(401, "InvalidAuthenticationTokenAudience", message, challenge)
    if claims.tenant_id != tenant_id:
        message = (
            f"The access token is from the wrong issuer 'https://sts.windows.net/"
            f"{claims.tenant_id}/'. It must match the tenant 'https://sts.windows.net/"
            f"{tenant_id}/' associated with this subscription. Please use the authority (URL) "
            f"'{base_url}/{tenant_id}' to get the token."
        )
        challenge = _challenge(base_url, tenant_id, "The access token is invalid.")
        return arm_error(401, "InvalidAuthenticationTokenTenant", message, challenge)
    return claims


def _arm_token_error(exc: TokenError, tenant_id: str, base_url: str) -> Response:
    if exc.problem == "expired":
        expiry = float(exc.claims.get("exp", 0))
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        message = (
            f"The access token expiry UTC time '{_dotnet_time(expiry)}' is earlier than current "
            f"UTC time '{_dotnet_time(now)}'."
        )
        challenge = _challenge(base_url, tenant_id, "The access token has expired.")
        return arm_error(401, "ExpiredAuthenticationToken", message, challenge)
    challenge = _challenge(base_url, tenant_id, "The access token is invalid.")
    return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.", challenge)


def valid_token(request: Request, store: Store) -> AccessToken | None:
    """Any unexpired token the emulator issued (for its own admin routes)."""
    token = bearer_token(request)
    if token is None:
        return None
    try:
        return read_access_token(token, store.signing_key)
    except TokenError:
        return None


def scm_allows(request: Request, store: Store, site: SiteRecord, *, tenant_id: str) -> bool:
    """Whether the SCM front end lets this request through."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        return site.basic_auth and _publishing_credentials_match(value.strip(), site)
    token = bearer_token(request)
    if token is None:
        return False
    try:
        claims = read_access_token(token, store.signing_key)
    except TokenError:
        return False
    return claims.audience in SCM_AUDIENCES and claims.tenant_id == tenant_id


def _publishing_credentials_match(encoded: str, site: SiteRecord) -> bool:
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    # Azure also accepts the `<app>\$<app>` form of the user name.
    user = user.rpartition("\\")[2]
    return user.lower() == site.publishing_user.lower() and hmac.compare_digest(
        password.encode(), site.publishing_password.encode()
    )


def scm_unauthorized() -> Response:
    """The App Service front end's refusal: 401 with an empty body."""
    return empty_response(401)
