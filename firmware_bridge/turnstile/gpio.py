"""A turnstile controller wired to the Pi's GPIO header through a relay board (kind ``gpio``).

Outputs: one relay per direction, each closing the controller's dry-contact "release" input for ``pulse_ms``.
Inputs (dry contacts, internal pull-up by default, so a closed contact reads active):
  * passage sensor: the controller's "passage done" output; closes the loop between release and passage;
  * alarm: forcing / tailgating reported by the controller;
  * fire release: the fire panel's **normally closed** loop; open circuit (alarm or cut wire) = fire.

Under fire release both relays are held closed so the lane is free in both directions, ``status()`` reports
``fire_release=True`` and ``release()`` refuses, so the lane stops admitting. The relays only ever move on
``release()`` or on a fire transition: never on start, on sensor edges or on close.

Fail-safe vs fail-secure is the turnstile's own lock design (does it unlock or lock when its power is cut?);
software cannot change it. ``failure_mode`` records which one the site has so self-test can state it.
Whatever the mode, the fire panel should also be wired straight to the controller's fire input: this
driver is a second path, and a stopped daemon cannot hold the relays.

Every gpiozero device takes ``pin_factory``: tests pass ``gpiozero.pins.mock.MockFactory``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal

from edge.device_config import GpioTurnstileConfig
from edge.devices import TurnstileStatus
from firmware_bridge.turnstile.errors import TurnstileError, no_relay
from firmware_bridge.turnstile.release import check_release_allowed

Direction = Literal["entry", "exit"]
log = logging.getLogger(__name__)


class GpioTurnstile:
    """Implements ``edge.devices.Turnstile`` with gpiozero devices."""

    def __init__(self, cfg: GpioTurnstileConfig, *, pin_factory: object | None = None) -> None:
        # gpiozero is in the `pi` extra, not a core dependency: import it only when a GPIO turnstile is chosen.
        from gpiozero import DigitalInputDevice, DigitalOutputDevice  # noqa: PLC0415
        from gpiozero.exc import GPIOZeroError  # noqa: PLC0415

        self._cfg = cfg
        self._pulse_s = cfg.pulse_ms / 1000.0
        self._lock = threading.Lock()
        self._passed = threading.Event()
        self._fire_release = False
        self._closed = False
        self._devices: list[Any] = []
        self._relays: dict[Direction, Any] = {}
        self._passage_in: Any | None = None
        self._alarm_in: Any | None = None
        self._fire_in: Any | None = None
        bounce_s = cfg.debounce_ms / 1000.0 if cfg.debounce_ms > 0 else None

        def output(pin: int) -> Any:
            dev = DigitalOutputDevice(
                pin, active_high=cfg.relay_active_high, initial_value=False, pin_factory=pin_factory
            )
            self._devices.append(dev)
            return dev

        def contact(pin: int) -> Any:
            dev = DigitalInputDevice(pin, pull_up=cfg.inputs_pull_up, bounce_time=bounce_s, pin_factory=pin_factory)
            self._devices.append(dev)
            return dev

        try:
            self._relays["entry"] = output(cfg.entry_relay_pin)
            if cfg.exit_relay_pin is not None:
                self._relays["exit"] = output(cfg.exit_relay_pin)
            if cfg.passage_sensor_pin is not None:
                self._passage_in = contact(cfg.passage_sensor_pin)
                self._passage_in.when_activated = self._on_passage
            if cfg.alarm_pin is not None:
                self._alarm_in = contact(cfg.alarm_pin)
                self._alarm_in.when_activated = self._on_alarm
            if cfg.fire_release_pin is not None:
                self._fire_in = contact(cfg.fire_release_pin)
                self._fire_in.when_deactivated = self._on_fire_loop_open
                self._fire_in.when_activated = self._on_fire_loop_closed
        except GPIOZeroError as exc:
            self._close_devices()
            raise TurnstileError(
                f"GPIO for the turnstile cannot be set up: {exc}",
                code="E_TURNSTILE_GPIO_UNAVAILABLE",
                remedy="check the pin numbers in [turnstile] (BCM numbering, no pin used twice), that the examgate "
                "user is in the gpio group and that no other program holds the pins",
            ) from exc
        # A fire loop already open at start (alarm, or the wire is cut) frees the lane at once.
        if self._fire_in is not None and not self._fire_in.is_active:
            self._on_fire_loop_open()

    # ---------------------------------------------------------------- port
    def release(self, direction: Direction = "entry") -> None:
        """Pulse the direction's relay for ``pulse_ms`` (in the background; returns at once)."""
        with self._lock:
            check_release_allowed(closed=self._closed, fire_release=self._fire_release)
            relay = self._relays.get(direction)
            if relay is None:
                raise no_relay(direction)
            self._passed.clear()
            relay.blink(on_time=self._pulse_s, off_time=0, n=1, background=True)

    def wait_passage(self, timeout_s: float) -> bool:
        """True when the passage sensor closed since the last release, waiting up to ``timeout_s``.

        Without a passage sensor nothing can be confirmed: returns False at once.
        """
        if self._passage_in is None:
            return False
        return self._passed.wait(max(0.0, timeout_s))

    def status(self) -> TurnstileStatus:
        with self._lock:
            if self._closed:
                return TurnstileStatus(fire_release=self._fire_release, fault="closed")
            alarm = bool(self._alarm_in is not None and self._alarm_in.is_active)
            return TurnstileStatus(fire_release=self._fire_release, alarm=alarm)

    def close(self) -> None:
        """Release the pins. Relays drop to rest (a pulse in progress is cut short)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # Outside the lock: closing an input may wait for its callback thread, which takes the lock.
        self._close_devices()

    def relay_engaged(self, direction: Direction) -> bool:
        """Whether the direction's relay is closed right now (for self-test and hardware tests)."""
        relay = self._relays.get(direction)
        return bool(relay is not None and not self._closed and relay.value)

    def describe(self) -> dict[str, Any]:
        """What self-test output shows about this turnstile (pins, levels, failure mode)."""
        cfg = self._cfg
        return {
            "kind": "gpio",
            "pulse_ms": cfg.pulse_ms,
            "relay_pins": {d: getattr(cfg, f"{d}_relay_pin") for d in ("entry", "exit")},
            "relay_active_high": cfg.relay_active_high,
            "passage_sensor_pin": cfg.passage_sensor_pin,
            "alarm_pin": cfg.alarm_pin,
            "fire_release_pin": cfg.fire_release_pin,
            "failure_mode": cfg.failure_mode,
            "fire_release": self._fire_release,
        }

    # ------------------------------------------------------------ callbacks
    def _on_passage(self) -> None:
        self._passed.set()

    def _on_alarm(self) -> None:
        log.warning("turnstile alarm input active (forcing or tailgating reported by the controller)")

    def _on_fire_loop_open(self) -> None:
        with self._lock:
            if self._closed or self._fire_release:
                return
            self._fire_release = True
            for relay in self._relays.values():
                relay.on()  # stops a pulse in progress and holds the release contact closed
        log.warning("fire release: lane held open in both directions, admissions stopped")

    def _on_fire_loop_closed(self) -> None:
        with self._lock:
            if self._closed or not self._fire_release:
                return
            self._fire_release = False
            for relay in self._relays.values():
                relay.off()
        log.warning("fire release cleared: lane back to normal operation")

    def _close_devices(self) -> None:
        devices, self._devices = self._devices, []
        for dev in reversed(devices):
            dev.close()
