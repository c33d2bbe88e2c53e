"""`examgate selftest [--json] [--actuate] [--config FILE]`: exit 0 when nothing failed, 1 otherwise."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from edge.cmdline import EXIT_CHECK_FAILED, EXIT_OK, add_config_arg, load
from edge.errors import ConfigError
from edge.selftest.model import CheckResult, SelftestContext, failed

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

_MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "warn": "WARN"}


def _config_failure(err: ConfigError) -> CheckResult:
    problems = "; ".join(f"{path}: {why}" for path, why in err.problems) or err.message
    return failed("config", f"{err.message} ({problems})", err.remedy)


def cmd_selftest(args: argparse.Namespace) -> int:
    try:
        cfg = load(args)
    except ConfigError as err:
        results = [_config_failure(err)]
    else:
        from edge.selftest.runner import run_checks  # noqa: PLC0415 - the checks' imports only when running

        results = run_checks(SelftestContext(cfg, actuate=bool(args.actuate)))
    if args.json:
        print(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"{_MARK[r.status]}  {r.name:<{width}}  {r.detail}  [{r.elapsed_ms:.0f} ms]")
            if r.status in ("fail", "warn") and r.remedy:
                print(f"      {'':<{width}}  remedy: {r.remedy}")
        fails = sum(r.status == "fail" for r in results)
        warns = sum(r.status == "warn" for r in results)
        summary = f"{len(results)} checks: {fails} failed" if fails else f"{len(results)} checks: all passed or skipped"
        print(f"{summary}, {warns} warning(s) to act on" if warns else summary)
    return EXIT_CHECK_FAILED if any(r.status == "fail" for r in results) else EXIT_OK


def register(sub: SubParsers) -> None:
    parser = sub.add_parser("selftest", help="check camera, reader, turnstile, broker, models, clock, disk, store")
    parser.add_argument("--json", action="store_true", help="print a list of {name, status, detail, remedy}")
    parser.add_argument(
        "--actuate", action="store_true", help="also pulse the entry relay once (the turnstile arm releases)"
    )
    add_config_arg(parser)
    parser.set_defaults(func=cmd_selftest)
