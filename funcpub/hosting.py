"""Hosting plans and how a package reaches an app on each: a pure decision, no network.

The app's ARM data decides the plan (`funcpub.deploy.arm.hosting_of`); the plan and the build
strategy decide the delivery path. The dry run shows this table, since it cannot ask Azure.

- Premium (EP*), Dedicated (B*, S*, P*): Kudu zipdeploy (Oryx builds for `--build remote`);
- Linux Consumption (Y1): blob storage + `WEBSITE_RUN_FROM_PACKAGE=<url>`, or Kudu zipdeploy
  for `--build remote` (Kudu then keeps the built package in the app's storage and runs it);
- Flex Consumption (FC1): OneDeploy `/api/publish?RemoteBuild=true|false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from funcpub.options import StrategyName

HostingPlan = Literal["consumption", "flex", "premium", "dedicated"]
DeliveryName = Literal["zipdeploy", "run-from-package", "onedeploy"]

PLAN_NAMES: Final[Mapping[HostingPlan, str]] = {
    "premium": "Elastic Premium (EP1-EP3)",
    "dedicated": "Dedicated (App Service plan)",
    "consumption": "Linux Consumption (Y1)",
    "flex": "Flex Consumption (FC1)",
}
WINDOWS_REFUSED: Final = "refused: Python function apps run on Linux only"
# Flex takes its runtime from functionAppConfig and builds by the request alone.
FLEX_SETTINGS_LEFT_OUT: Final = "the worker, build and package settings are not set on Flex"
# Plans whose apps can have deployment slots (Flex Consumption has none).
PLANS_WITH_SLOTS: Final = frozenset({"premium", "dedicated", "consumption"})


def delivery_for(hosting: HostingPlan, strategy: StrategyName) -> DeliveryName:
    """How a package built by `strategy` reaches an app on `hosting`."""
    if hosting == "flex":
        return "onedeploy"
    if hosting == "consumption" and strategy != "remote":
        return "run-from-package"
    return "zipdeploy"


def describe_delivery(delivery: DeliveryName, strategy: StrategyName, hosting: HostingPlan) -> str:
    """One line saying what the delivery does (the dry run and the progress lines)."""
    if delivery == "onedeploy":
        remote = "true" if strategy == "remote" else "false"
        return (
            f"OneDeploy: POST /api/publish?RemoteBuild={remote} (Entra bearer token only;"
            f" {FLEX_SETTINGS_LEFT_OUT})"
        )
    if delivery == "run-from-package":
        return (
            "upload to the app's storage account (blob container function-releases), then set"
            " WEBSITE_RUN_FROM_PACKAGE to its read-only URL and sync triggers"
        )
    return f"Kudu zipdeploy: POST /api/zipdeploy?isAsync=true{_kudu_build(hosting, strategy)}"


def _kudu_build(hosting: HostingPlan, strategy: StrategyName) -> str:
    if strategy != "remote":
        return ""
    if hosting == "consumption":
        return " (Oryx builds on the SCM site, which stores the result in the app's storage)"
    return " (Oryx builds on the SCM site)"


def delivery_table(strategy: StrategyName) -> tuple[tuple[str, str], ...]:
    """(plan, delivery path) for every plan: what the dry run shows."""
    paths = tuple(
        (name, describe_delivery(delivery_for(plan, strategy), strategy, plan))
        for plan, name in PLAN_NAMES.items()
    )
    return (*paths, ("Windows (any plan)", WINDOWS_REFUSED))
