"""The rule both turnstile drivers (GPIO and simulated) apply before a release."""

from __future__ import annotations

from firmware_bridge.turnstile.errors import fire_release_active, turnstile_closed


def check_release_allowed(*, closed: bool, fire_release: bool) -> None:
    """Refuse a release on a closed driver (``E_TURNSTILE_CLOSED``) or while fire release holds the lane open
    (``E_TURNSTILE_FIRE_RELEASE``)."""
    if closed:
        raise turnstile_closed()
    if fire_release:
        raise fire_release_active()
