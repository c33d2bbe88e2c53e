"""``python -m edge.provision init …``: the same commands as ``examgate provision …``, usable before the CLI
entry point is installed."""

from __future__ import annotations

import argparse
import sys

from edge.provision.cli import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge.provision")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["provision", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
