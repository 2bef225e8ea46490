"""`python -m funcpub` and the `funcpub` console script."""

from __future__ import annotations

import sys

from funcpub.cli import run


def main() -> None:
    """Run the CLI and exit with its code (Ctrl-C exits 130)."""
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
