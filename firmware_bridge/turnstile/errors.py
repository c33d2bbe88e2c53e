"""Typed turnstile failures (codes E_TURNSTILE_…), each with a remedy a technician can act on."""

from __future__ import annotations

from edge.errors import DeviceError


class TurnstileError(DeviceError):
    code = "E_TURNSTILE_FAULT"
    remedy = "check the relay board and the turnstile controller's power, then run `examgate selftest`"


def fire_release_active() -> TurnstileError:
    return TurnstileError(
        "fire release is active: the lane is free in both directions and admissions are stopped",
        code="E_TURNSTILE_FIRE_RELEASE",
        remedy="admissions resume by themselves once the fire-alarm loop is closed again (alarm reset)",
    )


def turnstile_closed() -> TurnstileError:
    return TurnstileError(
        "the turnstile driver is closed", code="E_TURNSTILE_CLOSED", remedy="restart the examgate service"
    )


def no_relay(direction: str) -> TurnstileError:
    return TurnstileError(
        f"no relay is wired for the {direction} direction",
        code="E_TURNSTILE_NO_RELAY",
        remedy=f"set turnstile.{direction}_relay_pin in the config, or do not release {direction}",
    )
