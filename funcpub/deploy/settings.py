"""Reading an app's settings for `funcpub settings diff`: sign in, find the app, read, done.

Nothing is written. The values read are registered as secrets with the reporter before anything
else is reported (see funcpub.masking.secret_values).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol

from funcpub.deploy import AzureTarget
from funcpub.deploy.arm import ArmApp, find_site, make_client, resolve_subscription
from funcpub.deploy.auth import ca_bundle, check_ca_bundle, make_credential
from funcpub.deploy.cloud import cloud_profile
from funcpub.deploy.timing import DEFAULT_TIMING, Timing
from funcpub.errors import FuncpubError
from funcpub.masking import secret_values


class SettingsReporter(Protocol):
    """Where reading reports what it does (funcpub.console.Console implements it)."""

    def step(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def secret(self, value: str) -> None: ...


@dataclass(frozen=True, kw_only=True)
class RemoteSettings:
    """An app's (or slot's) app settings and the names marked as slot settings."""

    display: str  # app or app/slot
    app_settings: Mapping[str, str]
    sticky: frozenset[str]


def read_remote_settings(
    app_name: str,
    *,
    slot: str | None,
    target: AzureTarget,
    reporter: SettingsReporter,
    environ: Mapping[str, str],
    timing: Timing = DEFAULT_TIMING,
) -> RemoteSettings:
    """The app settings of `app_name` (or its `slot`); AuthError, DeployError or ConfigError."""
    profile = cloud_profile(target.cloud, environ)
    check_ca_bundle(environ)
    subscription = resolve_subscription(target.subscription_id, environ)
    with ExitStack() as stack:
        credential = make_credential(
            profile,
            environ,
            tenant_id=target.tenant_id,
            client_id=target.client_id,
            on_token=reporter.secret,
        )
        stack.callback(credential.close)
        reporter.step(f"signing in to {profile.name} ({profile.authority_host})")
        credential.bearer(profile.arm_scope)
        client = make_client(
            credential, subscription, profile, verify=ca_bundle(environ), timing=timing
        )
        stack.callback(client.close)
        display = f"{app_name}/{slot}" if slot else app_name
        reporter.step(f"reading the app settings of {display}")
        site = find_site(
            client,
            app_name,
            resource_group=target.resource_group,
            slot=slot,
            subscription=subscription,
        )
        app = ArmApp(client, site)
        settings = app.app_settings()
        for value in secret_values(settings.items()):
            reporter.secret(value)
        return RemoteSettings(
            display=site.display, app_settings=settings, sticky=_sticky(app, reporter)
        )


def _sticky(app: ArmApp, reporter: SettingsReporter) -> frozenset[str]:
    try:
        return app.sticky_setting_names()
    except FuncpubError as error:
        reporter.warn(f"could not read the slot setting names: {error.message}")
        return frozenset()
