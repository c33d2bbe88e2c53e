"""Entry point of the `examgate` command. Exit codes: 0 ok, 1 a check found problems, 2 usage, 3 error."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from edge import __version__, logs
from edge.cli import core
from edge.cmdline import EXIT_ERROR, EXIT_USAGE, print_error
from edge.errors import ExamGateError

# Command groups contributed by each capability: module path -> register function name.
GROUPS: tuple[str, ...] = (
    "edge.demo.cli",
    "edge.vision.cli",
    "edge.identity.cli",
    "edge.cli.chip",
    "edge.cli.trust",
    "edge.cli.sim",
    "edge.cli.mqtt",
    "edge.central.cli",
    "edge.provision.cli",
    "edge.cli.privacy",
    "edge.report.cli",
    "edge.selftest.cli",
    "edge.api.cli",
)


# Commands that load the face stack: its native log lines are silenced unless --verbose.
NATIVE_LOG_COMMANDS = frozenset({"demo", "face"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="examgate", description="ExamGate: identity check at exam-centre gates")
    parser.add_argument("--version", action="version", version=f"examgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    core.register(sub)
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue  # capability not installed in this build
        module.register(sub)
    events = sub.choices["events"]
    events_sub = events.get_default("events_sub")
    if "ingest" in sub.choices:
        importlib.import_module("edge.cli.mqtt").register_events_commands(events_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    if argv is None and args.command in NATIVE_LOG_COMMANDS and not getattr(args, "verbose", False):
        # a real command line (not an in-process caller, whose file descriptors stay untouched): the filter lives
        # until the process ends, because the native libraries also log from their destructors at exit
        logs.quiet_native_logs()  # MediaPipe/LiteRT/absl lines only with --verbose
    try:
        code = func(args)
    except ExamGateError as err:
        print_error(err, as_json=bool(getattr(args, "json", False)))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
