"""Helpers shared by every command module (edge/cli/ and each capability's own): config location, error printing,
exit codes. It sits below the commands so that a capability's CLI never imports the ``edge.cli`` package."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.config import AppConfig, load_config
from edge.errors import ConfigError, ExamGateError, RosterError

DEFAULT_CONFIG = Path("/etc/examgate/examgate.toml")

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check ran and found problems (config check, audit verify, selftest)
EXIT_USAGE = 2
EXIT_ERROR = 3  # an ExamGateError stopped the command


def config_path(args: argparse.Namespace) -> Path:
    given = getattr(args, "config", None)
    if given:
        return Path(given)
    env = os.environ.get("EXAMGATE_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=f"config file (default: $EXAMGATE_CONFIG or {DEFAULT_CONFIG})")


def load(args: argparse.Namespace) -> AppConfig:
    return load_config(config_path(args))


def print_error(err: ExamGateError, as_json: bool = False) -> None:
    if as_json:
        payload: dict[str, object] = dict(err.to_dict())
        if isinstance(err, ConfigError) and err.problems:
            payload["problems"] = [{"path": p, "problem": why} for p, why in err.problems]
        if isinstance(err, RosterError) and err.problems:
            payload["problems"] = [{"line": n, "field": f, "problem": why} for n, f, why in err.problems]
        print(json.dumps(payload, ensure_ascii=False))
        return
    print(f"error: {err}", file=sys.stderr)
    if isinstance(err, ConfigError):
        for path, why in err.problems:
            print(f"  {path}: {why}", file=sys.stderr)
    if isinstance(err, RosterError):
        for line, field, why in err.problems:
            print(f"  line {line}: {field}: {why}", file=sys.stderr)
    print(f"remedy: {err.remedy}", file=sys.stderr)


def run_group(register: Callable[[Any], None], argv: Sequence[str] | None, prefix: Sequence[str] = ()) -> int:
    """Run one command group on its own (``python -m …``), e.g. before the ``examgate`` entry point is installed."""
    parser = argparse.ArgumentParser(prog="examgate")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*prefix, *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def pn532_baud(text: str) -> int:
    """argparse type: a UART speed the PN532 supports."""
    from firmware_bridge.pn532.driver import BAUD_CODES  # noqa: PLC0415 - serial stack only for the commands using it

    value = int(text)
    if value not in BAUD_CODES:
        raise argparse.ArgumentTypeError(f"the PN532 runs at {', '.join(map(str, sorted(BAUD_CODES)))}; got {value}")
    return value
