"""Runs the checks in order; a check that raises becomes a failed result with the error's code and remedy."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from edge.errors import ExamGateError
from edge.selftest.checks_broker import check_broker
from edge.selftest.checks_devices import check_camera, check_reader, check_turnstile
from edge.selftest.checks_system import (
    check_clock,
    check_disk,
    check_models,
    check_roster,
    check_store,
    check_temperature,
)
from edge.selftest.checks_trust import check_trust
from edge.selftest.model import CheckResult, SelftestContext, failed

log = logging.getLogger("examgate.selftest")

Check = tuple[str, Callable[[SelftestContext], CheckResult]]

CHECKS: tuple[Check, ...] = (
    ("clock", check_clock),
    ("disk", check_disk),
    ("store", check_store),
    ("roster", check_roster),
    ("models", check_models),
    ("camera", check_camera),
    ("reader", check_reader),
    ("csca", check_trust),
    ("turnstile", check_turnstile),
    ("broker", check_broker),
    ("temperature", check_temperature),
)


def run_check(name: str, check: Callable[[SelftestContext], CheckResult], ctx: SelftestContext) -> CheckResult:
    started = time.perf_counter()
    try:
        result = check(ctx)
    except ExamGateError as err:
        result = failed(name, f"{err.code}: {err.message}", err.remedy)
    except Exception as exc:  # a broken check must not hide the others' results
        log.exception("selftest check %s crashed", name)
        result = failed(
            name,
            f"unexpected {type(exc).__name__}: {exc}",
            "report this to the ExamGate maintainers with the output of `examgate selftest --json`",
        )
    return replace(result, name=name, elapsed_ms=(time.perf_counter() - started) * 1000)


def run_checks(ctx: SelftestContext, checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    return [run_check(name, check, ctx) for name, check in checks]
