"""The outbox: events written in the same transaction as what caused them, published later, at least once.

``OutboxLog`` satisfies the publisher's ``Outbox`` protocol (``edge.mqtt.publisher``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from edge.clock import iso_ms, parse_iso_ms
from edge.events.models import Event, event_to_json, event_type_of
from edge.store import audit as audit_chain
from edge.store.db import Database, store_error, transaction
from edge.store.models import OutboxRow


def enqueue(conn: sqlite3.Connection, event: Event) -> None:
    """Queue one event inside the caller's transaction."""
    conn.execute(
        "INSERT INTO outbox (event_id, event_type, payload, created_at) VALUES (?,?,?,?)",
        (event.event_id, event_type_of(event), event_to_json(event), iso_ms()),
    )


class OutboxLog:
    db: Database

    def append_event(self, event: Event, actor: str = "lane") -> None:
        """Queue an event for publishing, with its audit row, in one transaction."""
        with self.db.write() as c:
            audit_chain.append(c, iso_ms(), actor, event_type_of(event), {"event_id": event.event_id})
            enqueue(c, event)

    def outbox_pending(self, limit: int) -> list[OutboxRow]:
        rows = self.db.read(
            "SELECT seq, event_id, event_type, payload, created_at FROM outbox WHERE sent_at IS NULL "
            "ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [OutboxRow(int(str(s)), str(e), str(t), str(p), str(c)) for s, e, t, p, c in rows]

    def outbox_all(self, after_seq: int = 0, limit: int = 100_000) -> list[OutboxRow]:
        """Every queued event, published or not, in order (for replays and the demo's JSON output)."""
        rows = self.db.read(
            "SELECT seq, event_id, event_type, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [OutboxRow(int(str(s)), str(e), str(t), str(p), str(c)) for s, e, t, p, c in rows]

    def outbox_mark_sent(self, seqs: Sequence[int]) -> None:
        """Mark events acknowledged by the broker. This commit skips the fsync even under synchronous=FULL: losing it
        in a power cut only means those events are sent again, and receivers deduplicate by event_id."""
        if not seqs:
            return
        with self.db.lock:
            try:
                self.db.conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise store_error(exc, self.db.path) from exc
            try:
                with transaction(self.db.conn, self.db.path) as c:
                    stamp = iso_ms()
                    c.executemany(
                        "UPDATE outbox SET sent_at = ? WHERE seq = ? AND sent_at IS NULL", [(stamp, s) for s in seqs]
                    )
            finally:
                try:
                    self.db.conn.execute(f"PRAGMA synchronous = {self.db.synchronous}")
                except sqlite3.Error as exc:
                    raise store_error(exc, self.db.path) from exc

    def outbox_record_failure(self, seq: int, error: str) -> None:
        with self.db.write() as c:
            c.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?", (error[:500], seq))

    def outbox_backlog(self) -> int:
        return int(str(self.db.read("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")[0][0]))

    def outbox_oldest_pending_age_s(self) -> float | None:
        rows = self.db.read("SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL")
        if not rows or rows[0][0] is None:
            return None
        created = parse_iso_ms(str(rows[0][0]))
        return max(0.0, (dt.datetime.now(dt.UTC) - created).total_seconds())

    def purge_sent_outbox(self, older_than_days: int) -> int:
        """Delete published events older than the retention period; the audit chain keeps their ids."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
        with self.db.write() as c:
            cur = c.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (iso_ms(cutoff),))
            return cur.rowcount
