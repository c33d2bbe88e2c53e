"""Turnstiles: a simulator that records pulses, and a GPIO relay/contact driver for a real controller."""

from __future__ import annotations

from edge.device_config import GpioTurnstileConfig, SimulatedTurnstileConfig, TurnstileConfig
from edge.devices import Turnstile
from firmware_bridge.turnstile.errors import TurnstileError

__all__ = ["TurnstileError", "open_turnstile"]


def open_turnstile(cfg: TurnstileConfig, *, pin_factory: object | None = None) -> Turnstile:
    """Open the turnstile the config names. ``pin_factory`` (gpiozero) is for tests; None = the Pi's default."""
    if isinstance(cfg, SimulatedTurnstileConfig):
        from firmware_bridge.turnstile.virtual import VirtualTurnstile  # noqa: PLC0415 (gpiozero only on the Pi)

        return VirtualTurnstile(cfg.pulse_ms, cfg.passage_after_s)
    if isinstance(cfg, GpioTurnstileConfig):
        from firmware_bridge.turnstile.gpio import GpioTurnstile  # noqa: PLC0415 (gpiozero only on the Pi)

        return GpioTurnstile(cfg, pin_factory=pin_factory)
    raise TypeError(f"unknown turnstile config {type(cfg).__name__}")
