"""A simulated turnstile (kind ``simulated``): records each pulse, and a virtual candidate walks through.

After each release a virtual passage sensor fires ``passage_after_s`` later (never when None). Tests and the
demo can also raise the fire release and the alarm by hand. All methods are thread-safe.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from edge.devices import TurnstileStatus
from firmware_bridge.turnstile.release import check_release_allowed

Direction = Literal["entry", "exit"]


@dataclass(frozen=True)
class Pulse:
    """One relay pulse: which direction, when it started (monotonic seconds) and how long it lasted."""

    direction: Direction
    started_monotonic_s: float
    duration_ms: int


class VirtualTurnstile:
    """Implements ``edge.devices.Turnstile`` without hardware."""

    def __init__(self, pulse_ms: int = 300, passage_after_s: float | None = 0.05) -> None:
        if pulse_ms <= 0:
            raise ValueError(f"pulse_ms must be > 0, got {pulse_ms}")
        self.pulse_ms = pulse_ms
        self.passage_after_s = passage_after_s
        self._lock = threading.Lock()
        self._pulses: list[Pulse] = []
        self._passages = 0
        self._passed = threading.Event()
        self._timers: list[threading.Timer] = []
        self._fire_release = False
        self._alarm = False
        self._closed = False

    # ---------------------------------------------------------------- port
    def release(self, direction: Direction = "entry") -> None:
        with self._lock:
            check_release_allowed(closed=self._closed, fire_release=self._fire_release)
            self._pulses.append(Pulse(direction, time.monotonic(), self.pulse_ms))
            self._passed.clear()
            if self.passage_after_s is not None:
                timer = threading.Timer(self.passage_after_s, self.simulate_passage)
                timer.daemon = True
                self._timers = [t for t in self._timers if t.is_alive()] + [timer]
                timer.start()

    def wait_passage(self, timeout_s: float) -> bool:
        """True when someone passed since the last release, waiting up to ``timeout_s``."""
        return self._passed.wait(max(0.0, timeout_s))

    def status(self) -> TurnstileStatus:
        with self._lock:
            return TurnstileStatus(
                fire_release=self._fire_release, alarm=self._alarm, fault="closed" if self._closed else None
            )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    # ----------------------------------------------------------- simulation
    def simulate_passage(self) -> None:
        """The passage sensor reports one person through."""
        with self._lock:
            if self._closed:
                return
            self._passages += 1
            self._passed.set()

    def set_fire_release(self, active: bool) -> None:
        """The fire-alarm loop opens (True) or closes again (False)."""
        with self._lock:
            self._fire_release = active

    def set_alarm(self, active: bool) -> None:
        """The controller reports forcing / tailgating (True) or clears it (False)."""
        with self._lock:
            self._alarm = active

    @property
    def pulses(self) -> tuple[Pulse, ...]:
        with self._lock:
            return tuple(self._pulses)

    @property
    def passages(self) -> int:
        with self._lock:
            return self._passages

    def describe(self) -> dict[str, Any]:
        """What self-test output shows about this turnstile."""
        return {
            "kind": "simulated",
            "pulse_ms": self.pulse_ms,
            "passage_after_s": self.passage_after_s,
            "failure_mode": "simulated",
        }
