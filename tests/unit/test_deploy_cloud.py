"""Cloud profiles: fixed clouds, the emulator from FUNCPUB_EMULATOR_URL, bad names."""

from __future__ import annotations

import pytest

from funcpub.deploy.cloud import CLOUD_NAMES, PUBLIC_ARM_SCOPE, cloud_profile
from funcpub.errors import ConfigError


@pytest.mark.parametrize(
    ("name", "authority", "arm"),
    [
        ("AzureCloud", "https://login.microsoftonline.com", "https://management.azure.com"),
        (
            "AzureChinaCloud",
            "https://login.chinacloudapi.cn",
            "https://management.chinacloudapi.cn",
        ),
        (
            "AzureUSGovernment",
            "https://login.microsoftonline.us",
            "https://management.usgovcloudapi.net",
        ),
    ],
)
def test_fixed_clouds(name: str, authority: str, arm: str) -> None:
    profile = cloud_profile(name, {})
    assert (profile.name, profile.authority_host, profile.arm_endpoint) == (name, authority, arm)
    assert profile.arm_scope == f"{arm}/.default"


def test_emulator_takes_both_endpoints_from_its_url() -> None:
    profile = cloud_profile("emulator", {"FUNCPUB_EMULATOR_URL": "https://127.0.0.1:8443/"})
    assert profile.authority_host == profile.arm_endpoint == "https://127.0.0.1:8443"
    assert profile.arm_scope == PUBLIC_ARM_SCOPE


def test_emulator_url_path_is_dropped() -> None:
    profile = cloud_profile("emulator", {"FUNCPUB_EMULATOR_URL": "https://localhost:9/x"})
    assert profile.arm_endpoint == "https://localhost:9"


@pytest.mark.parametrize("environ", [{}, {"FUNCPUB_EMULATOR_URL": "  "}])
def test_emulator_without_url(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="FUNCPUB_EMULATOR_URL"):
        cloud_profile("emulator", environ)


def test_emulator_needs_https() -> None:
    with pytest.raises(ConfigError, match="https"):
        cloud_profile("emulator", {"FUNCPUB_EMULATOR_URL": "http://127.0.0.1:8443"})


def test_unknown_cloud_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        cloud_profile("AzureGermanCloud", {})
    assert info.value.hint is not None
    assert all(name in info.value.hint for name in CLOUD_NAMES)
