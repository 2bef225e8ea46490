"""`python -m funcpub` and the `funcpub` console script."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from funcpub.cli import run


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (CI cancelling a job, `docker stop`, `kill`) stops a run the way Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> None:
    """Run the CLI and exit with its code (Ctrl-C and SIGTERM exit 130)."""
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
