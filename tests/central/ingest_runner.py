"""Runs `examgate ingest` through a parser holding only the MQTT/central commands (independent of other groups)."""

from __future__ import annotations

import argparse
import sys

from edge.central.cli import register as register_central
from edge.cli.mqtt import register


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="examgate")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    register_central(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
