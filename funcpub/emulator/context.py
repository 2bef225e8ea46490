"""What every request handler of the emulator shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from funcpub.emulator.deployments import Deployments
from funcpub.emulator.faults import Faults
from funcpub.emulator.runtime import Runtimes
from funcpub.emulator.state import Store


@dataclass(frozen=True, kw_only=True)
class Context:
    """The emulator's services, handed to the ARM, Kudu and app-host handlers."""

    store: Store
    faults: Faults
    runtimes: Runtimes
    deployments: Deployments
    data_dir: Path
    base_url: str
    token_lifetime: int
