"""Run-from-package storage for Linux Consumption: upload the zip, then name it for the app.

As Core Tools does, the package goes to the `function-releases` container of the app's own
storage account (`AzureWebJobsStorage`) as `<UTC time>-<guid>.zip`, and the app gets
`WEBSITE_RUN_FROM_PACKAGE=<URL>`:

* a connection string with an account key: a read-only service SAS valid for 10 years (Core
  Tools' choice; the app reads the package at every cold start, so it must not expire soon);
* identity-based storage (`AzureWebJobsStorage__accountName`, optional `__blobServiceUri`,
  `__clientId`, `__managedIdentityResourceId`), where Core Tools gives up: the upload uses the
  signed-in identity's Entra token, and the app fetches the plain blob URL with its own managed
  identity (`WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID`, `SystemAssigned` or the user-assigned
  identity's resource id), which needs Storage Blob Data Reader on the account. A user-delegation
  SAS would do without that role but expires within 7 days, after which the app cannot start.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ServiceRequestError,
)
from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContentSettings,
    ExponentialRetry,
    generate_blob_sas,
)

from funcpub.deploy.auth import Verify
from funcpub.deploy.timing import Timing
from funcpub.errors import AuthError, DeployError
from funcpub.masking import is_key_vault_reference

CONTAINER: Final = "function-releases"
SAS_LIFETIME: Final = timedelta(days=3650)
SAS_CLOCK_SKEW: Final = timedelta(minutes=5)
STORAGE_SETTING: Final = "AzureWebJobsStorage"
MI_RESOURCE_SETTING: Final = "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"
SYSTEM_ASSIGNED: Final = "SystemAssigned"
AUTH_CODES: Final = frozenset({"AuthenticationFailed", "InvalidAuthenticationInfo"})
CONTRIBUTOR_HINT: Final = (
    "the signed-in identity needs Storage Blob Data Contributor on the app's storage account"
)
STORAGE_HINT: Final = (
    f"give the app an {STORAGE_SETTING} connection string with an account key, or identity-based"
    f" storage ({STORAGE_SETTING}__accountName), or publish with --build remote"
)


@dataclass(frozen=True, kw_only=True)
class StorageAccount:
    """Where the package goes and how the upload (and the app) authenticate."""

    name: str
    blob_endpoint: str  # https://<account>.blob.<suffix> (or an emulator's URL), no trailing /
    account_key: str | None  # key-based; None for identity-based storage
    app_identity: str | None = None  # identity-based: SystemAssigned or a resource id

    @property
    def identity_based(self) -> bool:
        """Whether the upload uses the signed-in identity instead of the account key."""
        return self.account_key is None


@dataclass(frozen=True, kw_only=True)
class StoredPackage:
    """An uploaded package and the settings that make the app run it."""

    blob_name: str
    url: str  # the blob, without a SAS
    settings: Mapping[str, str | None]  # name -> value (None: remove)
    secrets: tuple[str, ...]  # the SAS URL and its signature: never printed


def _setting(settings: Mapping[str, str], name: str) -> str | None:
    """A setting by name, case-insensitively, `__` and `:` alike (as the host reads them)."""
    wanted = name.upper().replace(":", "__")
    for key, value in settings.items():
        if key.upper().replace(":", "__") == wanted and value.strip():
            return value.strip()
    return None


def storage_account(
    settings: Mapping[str, str],
    *,
    endpoint_suffix: str,
    user_identities: Mapping[str, str],
    display: str,
) -> StorageAccount:
    """The app's storage account from its settings; DeployError when none is usable."""
    connection = _setting(settings, STORAGE_SETTING)
    if connection is not None:
        return _from_connection_string(connection, endpoint_suffix, display)
    account = _setting(settings, f"{STORAGE_SETTING}__accountName")
    service = _setting(settings, f"{STORAGE_SETTING}__blobServiceUri")
    if account is None and service is None:
        msg = f"{display} has no {STORAGE_SETTING}: there is nowhere to upload the package to"
        raise DeployError(msg, hint=STORAGE_HINT)
    name = account or urlsplit(service or "").hostname or ""
    return StorageAccount(
        name=name.split(".")[0],
        blob_endpoint=(service or f"https://{name}.blob.{endpoint_suffix}").rstrip("/"),
        account_key=None,
        app_identity=_app_identity(settings, user_identities, display),
    )


def _from_connection_string(value: str, endpoint_suffix: str, display: str) -> StorageAccount:
    if is_key_vault_reference(value):
        msg = f"{display}'s {STORAGE_SETTING} is a Key Vault reference, which funcpub cannot read"
        raise DeployError(msg, hint=STORAGE_HINT)
    parts = {
        key.strip().lower(): item.strip()
        for key, _, item in (part.partition("=") for part in value.split(";"))
        if key.strip()
    }
    name, key = parts.get("accountname"), parts.get("accountkey")
    if not name or not key:
        msg = f"{display}'s {STORAGE_SETTING} connection string has no account name and key"
        raise DeployError(msg, hint=STORAGE_HINT)
    protocol = parts.get("defaultendpointsprotocol", "https")
    suffix = parts.get("endpointsuffix", endpoint_suffix)
    endpoint = parts.get("blobendpoint") or f"{protocol}://{name}.blob.{suffix}"
    return StorageAccount(name=name, blob_endpoint=endpoint.rstrip("/"), account_key=key)


def _app_identity(
    settings: Mapping[str, str], user_identities: Mapping[str, str], display: str
) -> str:
    """The identity the app reads its storage with: SystemAssigned or a resource id."""
    if resource := _setting(settings, f"{STORAGE_SETTING}__managedIdentityResourceId"):
        return resource
    client_id = _setting(settings, f"{STORAGE_SETTING}__clientId")
    if client_id is None:
        return SYSTEM_ASSIGNED
    if resource := user_identities.get(client_id.lower()):
        return resource
    msg = f"{display} has no user-assigned identity with client id {client_id}"
    hint = f"assign that identity to the app, or set {STORAGE_SETTING}__managedIdentityResourceId"
    raise DeployError(msg, hint=hint)


def blob_name(now: datetime | None = None) -> str:
    """`<yyyyMMddHHmmss>-<guid>.zip`, as Core Tools names its packages."""
    moment = now or datetime.now(timezone.utc)
    return f"{moment:%Y%m%d%H%M%S}-{uuid.uuid4()}.zip"


def upload_package(
    account: StorageAccount,
    path: Path,
    *,
    credential: TokenCredential,
    verify: Verify,
    timing: Timing,
    on_progress: Callable[[int, int], None],
) -> StoredPackage:
    """Upload `path` to the account's `function-releases` container (created if missing).

    The SDK retries 5xx, 408 and connection errors; anything else is a DeployError/AuthError.
    """
    name = blob_name()
    size = path.stat().st_size
    with _service(account, credential, verify, timing) as service, _storage_errors(account):
        container = service.get_container_client(CONTAINER)
        with suppress(ResourceExistsError):
            container.create_container()
        blob = container.get_blob_client(name)
        with path.open("rb") as stream:
            blob.upload_blob(
                stream,
                length=size,
                overwrite=False,
                max_concurrency=2,
                content_settings=ContentSettings(content_type="application/zip"),
                progress_hook=lambda current, total: on_progress(current, total or size),
            )
        url = blob.url
    return stored_package(account, name, url)


def stored_package(account: StorageAccount, name: str, url: str) -> StoredPackage:
    """The settings that make the app run the blob at `url`."""
    if account.identity_based:
        settings = {"WEBSITE_RUN_FROM_PACKAGE": url, MI_RESOURCE_SETTING: account.app_identity}
        return StoredPackage(blob_name=name, url=url, settings=settings, secrets=())
    assert account.account_key is not None
    now = datetime.now(timezone.utc)
    sas = generate_blob_sas(
        account.name,
        CONTAINER,
        name,
        account_key=account.account_key,
        permission=BlobSasPermissions(read=True),
        start=now - SAS_CLOCK_SKEW,
        expiry=now + SAS_LIFETIME,
        protocol="https",
    )
    signed = f"{url}?{sas}"
    signature = parse_qs(sas).get("sig", [""])[0]
    settings = {"WEBSITE_RUN_FROM_PACKAGE": signed, MI_RESOURCE_SETTING: None}
    return StoredPackage(
        blob_name=name, url=url, settings=settings, secrets=(signed, sas, signature)
    )


@contextmanager
def _service(
    account: StorageAccount, credential: TokenCredential, verify: Verify, timing: Timing
) -> Iterator[BlobServiceClient]:
    # The storage SDK's own retries (5xx, 408, connection errors), paced like funcpub's.
    retry = ExponentialRetry(
        initial_backoff=max(1, round(timing.retry.initial)),
        increment_base=max(2, round(timing.retry.factor)),
        retry_total=timing.upload_attempts - 1,
        random_jitter_range=1,
    )
    key = (
        None
        if account.account_key is None
        else {"account_name": account.name, "account_key": account.account_key}
    )
    client = BlobServiceClient(
        account.blob_endpoint,
        credential=key or credential,
        connection_verify=verify,
        retry_policy=retry,
        connection_timeout=30,
        read_timeout=timing.upload_timeout,
    )
    with client:
        yield client


@contextmanager
def _storage_errors(account: StorageAccount) -> Iterator[None]:
    """Storage SDK exceptions as funcpub errors, naming the account."""
    where = f"the storage account {account.name} ({account.blob_endpoint})"
    try:
        yield
    except ServiceRequestError as error:
        msg = f"cannot reach {where}: {_first_line(error)}"
        raise DeployError(msg, hint="check the network and the app's storage settings") from None
    except HttpResponseError as error:
        raw_code = getattr(error, "error_code", None)  # set by the storage SDK
        code = str(getattr(raw_code, "value", raw_code) or "")
        detail = f"HTTP {error.status_code}" + (f" {code}" if code else "")
        msg = f"{where} refused the package upload: {detail}"
        if error.status_code in (401, 403) or code in AUTH_CODES:
            hint = CONTRIBUTOR_HINT if account.identity_based else _key_hint(code)
            raise AuthError(msg, hint=hint) from None
        hint = "publish again; check the storage account in the portal"
        raise DeployError(msg, hint=hint) from None
    except AzureError as error:
        msg = f"uploading the package to {where} failed: {_first_line(error)}"
        raise DeployError(msg, hint="publish again") from None


def _key_hint(code: str) -> str:
    if code == "KeyBasedAuthenticationNotPermitted":
        return f"the account refuses account keys: {STORAGE_HINT}"
    return f"check the account key in the app's {STORAGE_SETTING} setting"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
