"""Runs the MQTT CLI commands through a parser built like edge/cli/main.py (independent of other groups)."""

from __future__ import annotations

import argparse
import sys

from edge.cli.mqtt import register, register_events_commands


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="examgate")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    events = sub.add_parser("events")
    register_events_commands(events.add_subparsers(dest="action", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
