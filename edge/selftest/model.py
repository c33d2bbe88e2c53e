"""One check's result, and what every check gets to look at."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from edge.config import AppConfig

Status = Literal["pass", "fail", "skip", "warn"]  # warn: works, but an operator must act (not a pass)
CommandRunner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=10, check=False)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    remedy: str = ""
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "remedy": self.remedy}


@dataclass(frozen=True)
class SelftestContext:
    """The config plus the few things tests replace (the host's clock, thermal file and commands)."""

    cfg: AppConfig
    actuate: bool = False
    thermal_path: Path = Path("/sys/class/thermal/thermal_zone0/temp")
    max_temp_c: float = 80.0  # the Pi starts throttling at 80-85 °C
    broker_timeout_s: float = 5.0
    run: CommandRunner = field(default=run_command)
    now: Callable[[], dt.datetime] = field(default=_utc_now)


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, "pass", detail)


def failed(name: str, detail: str, remedy: str) -> CheckResult:
    return CheckResult(name, "fail", detail, remedy)


def skipped(name: str, detail: str, remedy: str = "") -> CheckResult:
    return CheckResult(name, "skip", detail, remedy)


def warned(name: str, detail: str, remedy: str) -> CheckResult:
    return CheckResult(name, "warn", detail, remedy)
