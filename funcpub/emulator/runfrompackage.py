"""Run-from-package from a URL: the site fetches `WEBSITE_RUN_FROM_PACKAGE` and runs it read-only.

On Azure a site whose `WEBSITE_RUN_FROM_PACKAGE` is a URL downloads the zip when it starts (an
app-settings change restarts it; funcpub and Core Tools then sync triggers) and mounts it
read-only as wwwroot; a running site keeps the package it has. The emulator does the same on
restart, and on sync triggers when no host runs for the site (a settings change stopped it):
download over TLS (trusting only the emulator's CA, so a real SAS `https://` URL served by
Azurite works), extract, make the tree read-only, swap it in as wwwroot and index it. With
`WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID` the request carries an Entra token of the app's
managed identity for Azure Storage instead of a SAS. A failed download leaves the site with no
functions and the failure as the host's error, as on Azure.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Final

import requests

from funcpub.emulator.context import Context
from funcpub.emulator.deployments import DeploymentFailedError, activate, extract
from funcpub.emulator.records import IndexRecord, SiteRecord
from funcpub.emulator.runtime import index_record
from funcpub.emulator.sites import make_read_only, remove_tree, site_dir, utc_now, wwwroot
from funcpub.emulator.tls import tls_files
from funcpub.emulator.tokens import mint_access_token

LOG: Final = logging.getLogger("funcpub.emulator.runfrompackage")
PACKAGE_SETTING: Final = "WEBSITE_RUN_FROM_PACKAGE"
MI_SETTING: Final = "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"
STORAGE_AUDIENCE: Final = "https://storage.azure.com"
STORAGE_VERSION: Final = "2021-08-06"  # bearer tokens need x-ms-version 2017-11-09 or later
DOWNLOAD_TIMEOUT: Final = 60.0
CHUNK: Final = 1 << 20


class PackageError(Exception):
    """The package could not be fetched or unpacked."""


def package_url(site: SiteRecord) -> str | None:
    """The package URL the site runs from, if `WEBSITE_RUN_FROM_PACKAGE` is one."""
    value = site.app_settings.get(PACKAGE_SETTING, "").strip()
    return value if value.lower().startswith(("https://", "http://")) else None


def principal_id(site: SiteRecord) -> str:
    """The object id of the site's system-assigned identity (stable per site)."""
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"funcpub-emulator:{site.subscription_id}:{site.key}")
    )


def mount(context: Context, site: SiteRecord) -> None:
    """Fetch and run the site's package URL; a failure becomes the site's host error."""
    url = package_url(site)
    if url is None or site.is_flex:
        return
    packages = site_dir(context.data_dir, site) / "packages"
    release = packages / uuid.uuid4().hex
    try:
        _unpack(_download(context, site, url, packages), release)
    except PackageError as error:
        shutil.rmtree(release, ignore_errors=True)
        _fail(context, site, f"Failed to run from package {PACKAGE_SETTING}: {error}")
        return
    activate(wwwroot(context.data_dir, site), release)
    result = context.runtimes.reload(site)
    index = index_record(result, None)
    context.store.update_site(site.key, lambda s: replace(s, index=index))
    _prune(packages, keep=release)


def _injected_fault(context: Context, site: SiteRecord) -> None:
    """A `package` fault rule: the download fails as the rule says."""
    rule = context.faults.take("package", "GET", site.key, site.key)
    if rule is None:
        return
    if rule.drop:
        msg = "cannot download the package: ConnectionError"
        raise PackageError(msg)
    if rule.status is not None and rule.status >= 400:
        msg = f"downloading the package answered HTTP {rule.status}"
        raise PackageError(msg)


def _download(context: Context, site: SiteRecord, url: str, folder: Path) -> Path:
    _injected_fault(context, site)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f".download-{uuid.uuid4().hex}.zip"
    headers = _identity_headers(context, site)
    verify = str(tls_files(context.data_dir / "tls").ca_cert)
    try:
        with requests.get(
            url, headers=headers, verify=verify, stream=True, timeout=DOWNLOAD_TIMEOUT
        ) as response:
            status = response.status_code
            if status == 200:
                with target.open("wb") as sink:
                    for chunk in response.iter_content(CHUNK):
                        sink.write(chunk)
    except requests.RequestException as error:
        target.unlink(missing_ok=True)
        msg = f"cannot download the package: {type(error).__name__}"
        raise PackageError(msg) from None
    if status != 200:
        msg = f"downloading the package answered HTTP {status}"
        raise PackageError(msg)
    return target


def _identity_headers(context: Context, site: SiteRecord) -> dict[str, str]:
    """A token of the app's managed identity when the setting asks for one (no SAS then)."""
    if not site.app_settings.get(MI_SETTING, "").strip():
        return {}
    subscription = context.store.subscription(site.subscription_id)
    tenant = subscription.tenant_id if subscription else context.store.defaults.tenant_id
    token = mint_access_token(
        context.store.signing_key,
        tenant_id=tenant,
        app_id=principal_id(site),
        object_id=principal_id(site),
        audience=STORAGE_AUDIENCE,
        lifetime=300,
    )
    return {"Authorization": f"Bearer {token}", "x-ms-version": STORAGE_VERSION}


def _unpack(package: Path, release: Path) -> None:
    """Extract, then make the tree read-only (Azure mounts the zip read-only)."""
    try:
        release.mkdir(parents=True)
        extract(package, release)
    except DeploymentFailedError as error:
        raise PackageError(str(error)) from None
    finally:
        package.unlink(missing_ok=True)
    make_read_only(release)


def _fail(context: Context, site: SiteRecord, message: str) -> None:
    LOG.info("%s: %s", site.full_name, message)
    context.runtimes.stop(site.key)
    index = IndexRecord(functions=(), errors=(message,), indexed_at=utc_now(), deployment_id=None)
    context.store.update_site(site.key, lambda s: replace(s, index=index))


def _prune(packages: Path, *, keep: Path) -> None:
    """Delete every other package tree."""
    for entry in packages.iterdir():
        if entry.resolve() != keep.resolve():
            remove_tree(entry)
