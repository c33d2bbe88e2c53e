"""The gate's durable memory: sessions, roster, attempts, decisions, admissions, reviews, audit chain, outbox,
evidence and processed commands — one ``Store`` made of one part per concern over one ``Database``.

One connection guarded by a lock: the lane and the publisher thread share it. Every write that belongs together
(a decision, its audit row and its outbox events) is one transaction: all or nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from edge.errors import StoreError
from edge.store.audit_log import AuditLog
from edge.store.commands import CommandLog
from edge.store.db import Database
from edge.store.decisions import Decisions
from edge.store.evidence import Evidence
from edge.store.outbox import OutboxLog
from edge.store.roster import Roster
from edge.store.sessions import Sessions, check_session_id

__all__ = ["Store", "check_session_id", "open_store"]


class Store(Sessions, Roster, Decisions, AuditLog, OutboxLog, Evidence, CommandLog):
    """Every part reads and writes through ``self.db``; callers use ``store.<method>`` of any part."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: Path, *, synchronous: Literal["NORMAL", "FULL"] = "FULL", read_only: bool = False) -> Store:
        return cls(Database.open(path, synchronous=synchronous, read_only=read_only))

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()


def open_store(path: Path, synchronous: Literal["NORMAL", "FULL"] = "FULL") -> Store:
    try:
        return Store.open(path, synchronous=synchronous)
    except StoreError:
        raise
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc}", code="E_STORE_OPEN_FAILED") from exc
