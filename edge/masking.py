"""Masking of ID numbers for logs, events and screens: never the full number outside the roster table."""

from __future__ import annotations

from typing import overload


@overload
def mask_id(value: str) -> str: ...
@overload
def mask_id(value: None) -> None: ...
def mask_id(value: str | None) -> str | None:
    """``001099012345`` → ``0010******45``; a 9-digit CMND → ``1*******9``; 1-2 characters → all stars."""
    if value is None:
        return None
    text = value.strip()
    if len(text) >= 10:
        return text[:4] + "*" * (len(text) - 6) + text[-2:]
    if len(text) >= 3:
        return text[0] + "*" * (len(text) - 2) + text[-1]
    return "*" * len(text)
