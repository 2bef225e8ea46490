"""`python -m funcpub` and the `funcpub` console script."""

from __future__ import annotations

import gc
import signal
import sys
from types import FrameType
from typing import Final

# A run makes many long-lived objects (modules, classes, a package's file list) and little
# cyclic garbage, so the default thresholds (700, 10, 10) have the collector walk them over and
# over: about a tenth of a warm rebuild. Collect far less often, as mypy does for the same reason.
GC_THRESHOLDS: Final = (50_000, 20, 20)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (CI cancelling a job, `docker stop`, `kill`) stops a run the way Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> None:
    """Run the CLI and exit with its code (Ctrl-C and SIGTERM exit 130)."""
    gc.set_threshold(*GC_THRESHOLDS)
    from funcpub.cli import run  # noqa: PLC0415 - imported once the collector is tuned

    signal.signal(signal.SIGTERM, _terminate)
    code = run(sys.argv[1:])
    gc.freeze()  # the process ends here: no last collections over everything it made
    sys.exit(code)


if __name__ == "__main__":
    main()
