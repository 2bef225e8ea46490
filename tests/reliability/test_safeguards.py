"""The small pieces the reliability guarantees rest on, offline and fast."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from funcpub.appsettings import ensure
from funcpub.deploy.arm import ArmApp, SiteInfo, apply_changes
from funcpub.deploy.auth import untrusted
from funcpub.deploy.changes import ConcreteChange
from funcpub.errors import DeployError
from funcpub.requirements import has_credentials, mask_credentials

SITE = SiteInfo(
    name="app",
    slot=None,
    resource_group="rg",
    kind="functionapp,linux",
    sku="ElasticPremium",
    hosting="premium",
    state="Running",
    scm_host="app.scm.test",
    app_host="app.test",
    server_farm_id=None,
)
CHANGES = (
    ConcreteChange(change=ensure("SCM_DO_BUILD_DURING_DEPLOYMENT", "false", "r"), previous=None),
    ConcreteChange(
        change=ensure("linuxFxVersion", "Python|3.11", "r", scope="site config"),
        previous="Python|3.10",
    ),
)


class Flaky(ArmApp):
    """An app whose site-config PATCH fails, and whose settings PUT fails after `puts` calls."""

    def __init__(self, *, puts: int, reads: int = 99) -> None:
        self.site = SITE
        self.settings: dict[str, str] = {"KEEP": "me"}
        self.config = {"linuxFxVersion": "Python|3.10"}
        self.puts_left = puts
        self.reads_left = reads

    def app_settings(self) -> dict[str, str]:
        self.reads_left -= 1
        if self.reads_left < 0:
            raise DeployError("could not read the app settings: HTTP 503")
        return dict(self.settings)

    def site_config(self) -> dict[str, str]:
        return dict(self.config)

    def replace_app_settings(self, settings: Any) -> None:
        if self.puts_left <= 0:
            raise DeployError("could not update the app settings: HTTP 500")
        self.puts_left -= 1
        self.settings = dict(settings)

    def patch_site_config(self, properties: Any) -> None:
        raise DeployError("could not update the site configuration: HTTP 500")


def test_a_failed_step_puts_the_applied_settings_back() -> None:
    app = Flaky(puts=2)
    with pytest.raises(DeployError) as info:
        apply_changes(app, CHANGES)
    assert info.value.message.endswith(
        "(the changed settings were put back: SCM_DO_BUILD_DURING_DEPLOYMENT)"
    )
    assert app.settings == {"KEEP": "me"}


def test_a_failed_put_back_says_what_is_still_changed() -> None:
    app = Flaky(puts=1)
    with pytest.raises(DeployError) as info:
        apply_changes(app, CHANGES)
    assert "SCM_DO_BUILD_DURING_DEPLOYMENT, linuxFxVersion may have changed" in info.value.message
    assert "checking failed: could not update the app settings: HTTP 500" in info.value.message


def test_an_unreadable_app_is_never_claimed_unchanged() -> None:
    app = Flaky(puts=0, reads=1)  # the read before the PUT works, none after it
    with pytest.raises(DeployError) as info:
        apply_changes(app, CHANGES)
    assert "no settings were changed" not in info.value.message
    assert "may have changed in Azure" in info.value.message


@pytest.mark.parametrize(
    ("text", "verification"),
    [
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed", True),
        ("hostname mismatch, certificate is not valid for 'x'", True),
        ("EOF occurred in violation of protocol (_ssl.c:2427)", False),  # a cut connection
        ("[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] decryption failed", False),
    ],
)
def test_only_a_refused_certificate_is_a_tls_failure(text: str, verification: bool) -> None:
    assert untrusted(requests.exceptions.SSLError(text)) is verification
    assert untrusted(requests.ConnectionError(text)) is False


@pytest.mark.parametrize(
    ("line", "shipped"),
    [
        ("--index-url https://u:secret@h/simple", "--index-url https://u:***@h/simple"),
        ("--index-url https://u:${TOKEN}@h/simple", "--index-url https://u:${TOKEN}@h/simple"),
        ("--index-url https://${USER}:${PASS}@h/", "--index-url https://${USER}:${PASS}@h/"),
        ("x @ git+https://ghp_abc@github.com/o/r", "x @ git+https://***@github.com/o/r"),
        ("x @ git+ssh://git@github.com/o/r", "x @ git+ssh://git@github.com/o/r"),
        ("-i https://u:p%40ss@h/  # https://a:b@c/", "-i https://u:***@h/  # https://a:***@c/"),
        ("requests==2.32.3", "requests==2.32.3"),
    ],
)
def test_requirements_credentials_are_masked(line: str, shipped: str) -> None:
    assert mask_credentials(line) == shipped
    assert has_credentials(line) is (line != shipped)
