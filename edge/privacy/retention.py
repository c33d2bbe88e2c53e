"""Retention of personal data other than face images: roster rows (with photos), and attempts with their decisions,
reviews, assisted admissions and admissions. One transaction per run, with one audit row of counts.

The audit chain itself is never touched: its rows hold attempt and event ids, masked ID numbers and hashes only, so
deleting the records they describe leaves the chain verifiable (``examgate audit verify``).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from edge.clock import iso_ms
from edge.store import audit as audit_chain
from edge.store.db import connect, transaction

log = logging.getLogger("examgate.privacy")

# children first: foreign keys point at attempts
_ATTEMPT_CHILDREN = ("face_evidence", "reviews", "assisted_admissions", "decisions")


def purge_expired_records(
    db: Path, now: dt.datetime, roster_days: int, attempt_days: int, actor: str = "retention"
) -> dict[str, int]:
    """Delete roster rows of sessions older than ``roster_days`` and attempt records older than ``attempt_days``."""
    roster_cutoff = iso_ms(now - dt.timedelta(days=roster_days))
    attempt_cutoff = iso_ms(now - dt.timedelta(days=attempt_days))
    conn = connect(db)
    try:
        with transaction(conn, db) as c:
            counts: dict[str, int] = {}
            counts["roster_rows"] = c.execute(
                "DELETE FROM roster WHERE session_id IN (SELECT session_id FROM exam_sessions "
                "WHERE coalesce(exam_date || 'T23:59:59.999Z', created_at) < ?)",
                (roster_cutoff,),
            ).rowcount
            old = "SELECT attempt_id FROM attempts WHERE started_at < ?"
            for table in _ATTEMPT_CHILDREN:
                counts[table] = c.execute(
                    f"DELETE FROM {table} WHERE attempt_id IN ({old})",  # noqa: S608 - fixed table names
                    (attempt_cutoff,),
                ).rowcount
            counts["attempts"] = c.execute("DELETE FROM attempts WHERE started_at < ?", (attempt_cutoff,)).rowcount
            counts["admissions"] = c.execute("DELETE FROM admissions WHERE admitted_at < ?", (attempt_cutoff,)).rowcount
            if any(counts.values()):
                audit_chain.append(
                    c,
                    iso_ms(),
                    actor,
                    "privacy.purge_expired_records",
                    {**counts, "roster_days": roster_days, "attempt_days": attempt_days},
                )
    finally:
        conn.close()
    log.info("retention purge records %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
