"""Event identifiers: UUIDv7 (RFC 9562), time-ordered so ids sort in creation order."""

from __future__ import annotations

import uuid6


def new_event_id() -> str:
    return str(uuid6.uuid7())
