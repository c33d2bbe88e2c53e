"""SQLite store: WAL, migrations, one transaction per decision with its audit row and outbox events."""

from edge.store.models import AuditReport, OutboxRow, ReviewRow, RosterDigest, RosterEntry, RosterRow
from edge.store.store import Store, open_store

__all__ = ["AuditReport", "OutboxRow", "ReviewRow", "RosterDigest", "RosterEntry", "RosterRow", "Store", "open_store"]
