"""Azure clouds: where to sign in and where ARM lives.

Profiles differ only in their values. The emulator is one more profile whose authority and ARM
endpoint are the emulator's URL, so every code path that runs against it also runs against Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, get_args
from urllib.parse import urlsplit

from funcpub.errors import ConfigError
from funcpub.options import EMULATOR_URL_ENV, CloudName

CLOUD_NAMES: Final[tuple[CloudName, ...]] = get_args(CloudName)
# The emulator stands in for the public cloud, so it expects the public ARM audience.
PUBLIC_ARM_SCOPE: Final = "https://management.azure.com/.default"


@dataclass(frozen=True, kw_only=True)
class CloudProfile:
    """The endpoints of one cloud (az cloud show: activeDirectory / resourceManager)."""

    name: CloudName
    authority_host: str  # https://host[:port], no trailing slash
    arm_endpoint: str  # https://host[:port], no trailing slash
    arm_scope: str  # the ARM audience + /.default; also the audience the SCM site accepts
    storage_suffix: str = "core.windows.net"  # <account>.blob.<suffix>


_FIXED: Final[Mapping[str, CloudProfile]] = {
    "AzureCloud": CloudProfile(
        name="AzureCloud",
        authority_host="https://login.microsoftonline.com",
        arm_endpoint="https://management.azure.com",
        arm_scope=PUBLIC_ARM_SCOPE,
    ),
    "AzureChinaCloud": CloudProfile(
        name="AzureChinaCloud",
        authority_host="https://login.chinacloudapi.cn",
        arm_endpoint="https://management.chinacloudapi.cn",
        arm_scope="https://management.chinacloudapi.cn/.default",
        storage_suffix="core.chinacloudapi.cn",
    ),
    "AzureUSGovernment": CloudProfile(
        name="AzureUSGovernment",
        authority_host="https://login.microsoftonline.us",
        arm_endpoint="https://management.usgovcloudapi.net",
        arm_scope="https://management.usgovcloudapi.net/.default",
        storage_suffix="core.usgovcloudapi.net",
    ),
}


def cloud_profile(name: str, environ: Mapping[str, str]) -> CloudProfile:
    """The profile of cloud `name`; ConfigError for an unknown name or a missing emulator URL."""
    if name == "emulator":
        return CloudProfile(
            name="emulator",
            authority_host=_emulator_url(environ),
            arm_endpoint=_emulator_url(environ),
            arm_scope=PUBLIC_ARM_SCOPE,
        )
    if name in _FIXED:
        return _FIXED[name]
    msg = f"unknown Azure cloud {name!r}"
    raise ConfigError(msg, hint=f"use one of {', '.join(CLOUD_NAMES)}")


def _emulator_url(environ: Mapping[str, str]) -> str:
    """FUNCPUB_EMULATOR_URL as https://host:port; ConfigError when unset or not https."""
    value = environ.get(EMULATOR_URL_ENV, "").strip().rstrip("/")
    if not value:
        msg = f"the emulator cloud needs {EMULATOR_URL_ENV}"
        raise ConfigError(msg, hint="start `funcpub emulator` and export the variables it prints")
    parts = urlsplit(value)
    # Entra ID clients refuse http:// authorities and bearer tokens over http.
    if parts.scheme != "https" or not parts.netloc:
        msg = f"{EMULATOR_URL_ENV}={value!r} must be an https:// URL"
        raise ConfigError(msg, hint="use the https URL the emulator prints")
    return f"https://{parts.netloc}"
