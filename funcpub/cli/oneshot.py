"""`publish --emulator --emulator-plan SKU`: the hosting plan of the one-shot emulator's app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer

from funcpub.errors import ConfigError
from funcpub.options import StrategyName

if TYPE_CHECKING:
    from funcpub.emulator.records import PlanSku

DEFAULT_PLAN: Final = "EP1"
EmulatorPlan = Annotated[
    str | None,
    typer.Option(
        "--emulator-plan",
        help="With --emulator: the app's hosting plan, EP1 (default), EP2, EP3, P1v3, Y1 or FC1.",
    ),
]
NO_STORAGE_HINT: Final = (
    "publish with --build remote (the default) to an emulated Linux Consumption app, pick another"
    " --emulator-plan, or serve the emulator with Azurite as its storage (docs/emulator.md)"
)


def emulator_plan(
    value: str | None, *, emulator: bool, build: StrategyName, slot: str | None
) -> PlanSku:
    """The plan to create the one-shot emulator's app on; ConfigError before anything runs."""
    from funcpub.emulator.records import parse_plan  # the emulator: only when used

    if value is not None and not emulator:
        msg = "--emulator-plan only applies to --emulator"
        raise ConfigError(msg, hint="add --emulator, or drop --emulator-plan")
    try:
        plan = parse_plan(value or DEFAULT_PLAN)
    except ValueError as exc:
        raise ConfigError(str(exc), hint="see `funcpub publish --help`") from None
    if plan == "Y1" and build != "remote":
        # Run-from-package needs a storage account whose TLS the one-shot emulator trusts.
        msg = (
            f"a Linux Consumption (Y1) app runs a {build} build from blob storage, and the"
            " one-shot emulator has no storage account"
        )
        raise ConfigError(msg, hint=NO_STORAGE_HINT)
    if plan == "FC1" and slot:
        msg = "Flex Consumption (FC1) apps have no deployment slots"
        raise ConfigError(msg, hint="drop --slot, or pick another --emulator-plan")
    return plan
