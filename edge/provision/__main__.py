"""``python -m edge.provision init …``: the same commands as ``examgate provision …``, usable before the CLI
entry point is installed."""

from __future__ import annotations

import sys

from edge.cmdline import run_group
from edge.provision.cli import register


def main(argv: list[str] | None = None) -> int:
    return run_group(register, argv, prefix=["provision"])


if __name__ == "__main__":
    sys.exit(main())
