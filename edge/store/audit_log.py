"""The store's audit part: append one row, verify the chain, read its head (the chain itself: ``audit``)."""

from __future__ import annotations

from edge.clock import iso_ms
from edge.store import audit as audit_chain
from edge.store.db import Database
from edge.store.models import AuditReport


class AuditLog:
    db: Database

    def audit(self, actor: str, action: str, details: dict[str, object]) -> None:
        with self.db.write() as c:
            audit_chain.append(c, iso_ms(), actor, action, details)

    def verify_audit(self) -> AuditReport:
        with self.db.locked() as conn:
            return audit_chain.verify(conn)

    def audit_head(self) -> tuple[int, str]:
        rows = self.db.read("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
        return (int(str(rows[0][0])), str(rows[0][1])) if rows else (0, audit_chain.GENESIS)
