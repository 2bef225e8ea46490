"""Azure DevOps' OIDC token endpoint for service connections (what AzurePipelinesCredential calls).

A pipeline job finds the endpoint in `SYSTEM_OIDCREQUESTURI`
(`<collection>/<project>/_apis/distributedtask/hubs/build/plans/<plan>/jobs/<job>/oidctoken`) and
`POST`s to it with `?api-version=7.1&serviceConnectionId=<id>` and the job's access token
(`System.AccessToken`) as a bearer token. Azure DevOps answers `{"oidcToken": "<jwt>"}`: issuer
`https://vstoken.dev.azure.com/<organization id>`, subject
`sc://<organization>/<project>/<service connection>`, audience `api://AzureADTokenExchange`.
Here the token is signed with the emulator's key, which its Entra ID trusts for every issuer; the
principal accepts it only when it holds a federated credential for that issuer and subject.
Errors use Azure DevOps' JSON shape (`message`, `typeKey`); the wording of the unknown-connection
error is an approximation.
"""

from __future__ import annotations

import time
import uuid
from typing import Final

from werkzeug.wrappers import Request, Response

from funcpub.emulator.records import (
    DEVOPS_ISSUER,
    DEVOPS_ORGANIZATION_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    service_connection_subject,
)
from funcpub.emulator.state import Store
from funcpub.emulator.tokens import TokenError, decode_jwt, encode_jwt, mint_assertion
from funcpub.emulator.web import bearer_token, json_response

OIDC_PATH: Final = (
    "/<organization>/<project>/_apis/distributedtask/hubs/build/plans/<plan>/jobs/<job>/oidctoken"
)
OIDC_TOKEN_LIFETIME: Final = 600  # Azure DevOps' ID tokens are short-lived
JOB_TOKEN_ISSUER: Final = "app.vstoken.visualstudio.com"  # noqa: S105 - an issuer name
JOB_TOKEN_AUDIENCE: Final = f"{JOB_TOKEN_ISSUER}|vso:{DEVOPS_ORGANIZATION_ID}"


def is_devops_path(path: str) -> bool:
    """Whether a request on the main port is for Azure DevOps (fault role `devops`)."""
    return "/_apis/distributedtask/" in path.lower()


def mint_job_access_token(key: bytes, *, lifetime: int) -> str:
    """A job's `System.AccessToken`: what the OIDC endpoint requires as the bearer token."""
    issued = int(time.time())
    claims = {
        "iss": JOB_TOKEN_ISSUER,
        "aud": JOB_TOKEN_AUDIENCE,
        "nameid": str(uuid.uuid4()),  # the project's build service identity
        "scp": "app_token",
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
    }
    return encode_jwt(claims, key)


def oidc_token(request: Request, *, store: Store) -> Response:
    """`POST …/oidctoken?api-version=7.1&serviceConnectionId=<id>` with the job's token."""
    if not request.args.get("api-version"):
        return _error(
            400,
            "VssVersionNotSpecifiedException",
            'No api-version was supplied for the "POST" request. The version must be supplied '
            "either as part of the Accept header or as a query parameter.",
        )
    if not _valid_job_token(bearer_token(request), store.signing_key):
        return _error(
            401,
            "UnauthorizedRequestException",
            "TF400813: The user '' is not authorized to access this resource.",
        )
    connection_id = request.args.get("serviceConnectionId", "")
    connection = store.service_connection(connection_id)
    if connection is None:
        return _error(
            404,
            "ServiceEndpointNotFoundException",
            f"Service connection {connection_id} could not be found, or this pipeline is not "
            "authorized to use it.",
        )
    token = mint_assertion(
        store.signing_key,
        issuer=DEVOPS_ISSUER,
        subject=service_connection_subject(connection.name),
        audience=TOKEN_EXCHANGE_AUDIENCE,
        lifetime=OIDC_TOKEN_LIFETIME,
    )
    return json_response({"oidcToken": token})


def _valid_job_token(token: str | None, key: bytes) -> bool:
    if token is None:
        return False
    try:
        claims = decode_jwt(token, key)
    except TokenError:
        return False
    return claims.get("aud") == JOB_TOKEN_AUDIENCE


def _error(status: int, type_key: str, message: str) -> Response:
    """Azure DevOps' error body."""
    return json_response(
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": f"Microsoft.TeamFoundation.DistributedTask.WebApi.{type_key}",
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        },
        status=status,
    )
