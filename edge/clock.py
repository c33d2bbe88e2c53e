"""Ground: the one UTC millisecond timestamp format used in events, rows and messages."""

from __future__ import annotations

import datetime as dt

ISO_MS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now_ms() -> dt.datetime:
    """Now, in UTC, truncated to whole milliseconds (the resolution events carry)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def iso_ms(value: dt.datetime | None = None) -> str:
    """``2026-06-01T07:30:00.123Z``: a UTC instant with milliseconds; ``None`` means now."""
    moment = dt.datetime.now(dt.UTC) if value is None else value.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_ms(text: str) -> dt.datetime:
    """The inverse of :func:`iso_ms`: an aware UTC datetime."""
    return dt.datetime.strptime(text, ISO_MS_FORMAT).replace(tzinfo=dt.UTC)
