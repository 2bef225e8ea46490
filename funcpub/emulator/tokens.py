"""JWT-shaped tokens signed with the emulator's key (HS256), and their validation.

Access tokens look like Entra ID's v1 tokens (`aud`, `iss`, `tid`, `appid`, `oid`, `iat`, `nbf`,
`exp`); the SDKs treat them as opaque strings, the emulator's ARM and SCM hosts verify them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

ARM_AUDIENCES: Final = frozenset(
    {
        "https://management.azure.com/",
        "https://management.azure.com",
        "https://management.core.windows.net/",
        "https://management.core.windows.net",
    }
)
APPSERVICE_AUDIENCES: Final = frozenset({"https://appservice.azure.com"})
# Scope resource (without `/.default`, compared without a trailing slash) -> token audience.
RESOURCE_AUDIENCES: Final[Mapping[str, str]] = {
    "https://management.azure.com": "https://management.azure.com/",
    "https://management.core.windows.net": "https://management.core.windows.net/",
    "https://appservice.azure.com": "https://appservice.azure.com",
    "https://storage.azure.com": "https://storage.azure.com",  # Azurite checks aud and iss
}

Problem = Literal["malformed", "signature", "expired", "not_yet_valid"]
CLOCK_SKEW: Final = (
    2  # seconds of leeway (Azure allows minutes); keeps 1-2 s test tokens from flaking
)


class TokenError(Exception):
    """A token that cannot be accepted; `problem` says why."""

    def __init__(self, problem: Problem, claims: Mapping[str, Any] | None = None) -> None:
        super().__init__(problem)
        self.problem: Problem = problem
        self.claims: Mapping[str, Any] = claims or {}


@dataclass(frozen=True, kw_only=True)
class AccessToken:
    """The claims of a validated access token that the emulator acts on."""

    audience: str
    tenant_id: str
    app_id: str
    object_id: str
    issued_at: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signing_input: bytes, key: bytes) -> str:
    return _b64(hmac.new(key, signing_input, hashlib.sha256).digest())


def encode_jwt(claims: Mapping[str, Any], key: bytes) -> str:
    """A compact JWS (HS256) over `claims`."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{_sign(signing_input, key)}"


def decode_jwt(token: str, key: bytes, *, now: float | None = None) -> dict[str, Any]:
    """The verified claims; TokenError when malformed, badly signed, expired or not yet valid."""
    claims = _parse(token)
    header, payload, signature = token.split(".")
    expected = _sign(f"{header}.{payload}".encode("ascii"), key)
    if not hmac.compare_digest(expected, signature):
        raise TokenError("signature", claims)
    moment = time.time() if now is None else now
    if _number(claims, "exp") <= moment - CLOCK_SKEW:
        raise TokenError("expired", claims)
    if _number(claims, "nbf", default=0) > moment + CLOCK_SKEW:
        raise TokenError("not_yet_valid", claims)
    return claims


def _parse(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error):
        raise TokenError("malformed") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise TokenError("malformed")
    return claims


def _number(claims: Mapping[str, Any], name: str, default: float | None = None) -> float:
    value = claims.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError("malformed", claims)
    return float(value)


def mint_access_token(
    key: bytes,
    *,
    tenant_id: str,
    app_id: str,
    object_id: str,
    audience: str,
    lifetime: int,
    assertion: bool = False,
    now: float | None = None,
) -> str:
    """An Entra-like v1 access token for a service principal."""
    issued = int(time.time() if now is None else now)
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "appid": app_id,
        "appidacr": "2" if assertion else "1",  # 1: client secret, 2: certificate/assertion
        "idtyp": "app",
        "oid": object_id,
        "sub": object_id,
        "tid": tenant_id,
        "uti": uuid.uuid4().hex,
        "ver": "1.0",
    }
    return encode_jwt(claims, key)


def read_access_token(token: str, key: bytes, *, now: float | None = None) -> AccessToken:
    """Validate signature and lifetime; the caller checks audience and tenant."""
    claims = decode_jwt(token, key, now=now)
    try:
        return AccessToken(
            audience=str(claims["aud"]),
            tenant_id=str(claims["tid"]),
            app_id=str(claims["appid"]),
            object_id=str(claims["oid"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed", claims) from None


def mint_assertion(
    key: bytes,
    *,
    issuer: str,
    subject: str,
    audience: str,
    lifetime: int,
    now: float | None = None,
) -> str:
    """A federated (workload identity) assertion, as a CI system's OIDC provider would issue."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    return encode_jwt(claims, key)
