"""Plain records passed in and out of the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class RosterRow:
    candidate_id: str
    personal_id: str
    full_name: str
    birth_date: dt.date | None = None
    photo: bytes | None = None


@dataclass(frozen=True)
class RosterEntry:
    session_id: str
    candidate_id: str
    personal_id: str
    full_name: str
    birth_date: dt.date | None
    photo: bytes | None


@dataclass(frozen=True)
class RosterDigest:
    count: int
    sha256: str


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    event_id: str
    event_type: str
    payload: str
    created_at: str


@dataclass(frozen=True)
class ReviewRow:
    attempt_id: str
    status: str
    reasons: tuple[str, ...]
    requested_at: str
    resolved_by: str | None
    resolved_reason: str | None


@dataclass(frozen=True)
class AuditReport:
    rows: int
    ok: bool
    problems: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class AssistedFacts(Protocol):
    """What the store keeps of an officer-assisted admission (the lane's ``AssistedRequest`` has these)."""

    @property
    def officer(self) -> str: ...
    @property
    def commitment_signed(self) -> bool: ...
    @property
    def note(self) -> str: ...
