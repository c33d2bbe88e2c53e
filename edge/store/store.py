"""The gate's durable memory: sessions, roster, attempts, decisions, admissions, reviews, audit chain and outbox.

One connection guarded by a lock: the lane and the publisher thread share it. Every write that belongs together
(a decision, its audit row and its outbox events) is one transaction: all or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from edge.clock import iso_ms, parse_iso_ms
from edge.errors import StoreError
from edge.events.models import DecisionEvent, Event, event_to_json, event_type_of
from edge.masking import mask_id
from edge.store import audit as audit_chain
from edge.store.db import connect, store_error, transaction
from edge.store.decisions import outcome_of, policy_reasons
from edge.store.models import AssistedFacts, AuditReport, OutboxRow, ReviewRow, RosterDigest, RosterEntry, RosterRow

_SESSION_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_session_id(session_id: object) -> str:
    """A session id is 1-64 ASCII letters, digits, '.', '_' or '-' (it names files and MQTT topics)."""
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id) or session_id in (".", ".."):
        raise StoreError(
            f"session id {str(session_id)[:80]!r} is not valid",
            code="E_SESSION_ID",
            remedy="use 1-64 ASCII letters, digits, '.', '_' or '-' (for example 2026-06-THPT-A)",
        )
    return session_id


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path, synchronous: Literal["NORMAL", "FULL"] = "FULL") -> None:
        self._conn = conn
        self._path = path
        self._synchronous = synchronous
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path, *, synchronous: Literal["NORMAL", "FULL"] = "FULL", read_only: bool = False) -> Store:
        return cls(connect(path, synchronous=synchronous, read_only=read_only), path, synchronous)

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.close()
            except sqlite3.Error as exc:
                raise store_error(exc, self._path) from exc

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, tuple(params)).fetchall())
            except sqlite3.Error as exc:
                raise store_error(exc, self._path) from exc

    # ------------------------------------------------------------ sessions
    def ensure_session(self, session_id: str, name: str = "", exam_date: dt.date | None = None) -> None:
        check_session_id(session_id)
        with self._lock, transaction(self._conn, self._path) as c:
            c.execute(
                "INSERT INTO exam_sessions (session_id, name, exam_date, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(session_id) DO NOTHING",
                (session_id, name, exam_date.isoformat() if exam_date else None, iso_ms()),
            )

    def set_session_status(self, session_id: str, status: Literal["open", "closed"], actor: str) -> bool:
        """Open or close an exam session (audited). False when the session does not exist."""
        with self._lock, transaction(self._conn, self._path) as c:
            cur = c.execute("UPDATE exam_sessions SET status = ? WHERE session_id = ?", (status, session_id))
            if cur.rowcount != 1:
                return False
            audit_chain.append(c, iso_ms(), actor, f"session.{status}", {"session_id": session_id})
            return True

    def sessions(self) -> list[tuple[str, str, str, int]]:
        """(session_id, status, created_at, roster size) for every session, newest first."""
        rows = self._read(
            "SELECT s.session_id, s.status, s.created_at, (SELECT COUNT(*) FROM roster r WHERE r.session_id = "
            "s.session_id) FROM exam_sessions s ORDER BY s.created_at DESC"
        )
        return [(str(a), str(b), str(c), int(str(d))) for a, b, c, d in rows]

    def open_session_id(self) -> str | None:
        """The most recently created open session, if any."""
        rows = self._read("SELECT session_id FROM exam_sessions WHERE status = 'open' ORDER BY created_at DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    # -------------------------------------------------------------- roster
    def _write_roster(self, session_id: str, rows: Sequence[RosterRow], replace: bool, actor: str) -> RosterDigest:
        check_session_id(session_id)
        with self._lock, transaction(self._conn, self._path) as c:
            c.execute(
                "INSERT INTO exam_sessions (session_id, created_at) VALUES (?, ?) ON CONFLICT(session_id) DO NOTHING",
                (session_id, iso_ms()),
            )
            if replace:
                c.execute("DELETE FROM roster WHERE session_id = ?", (session_id,))
            stamp = iso_ms()
            for row in rows:
                c.execute(
                    "INSERT INTO roster (session_id, candidate_id, personal_id, full_name, birth_date, photo, "
                    "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(session_id, candidate_id) DO UPDATE SET "
                    "personal_id = excluded.personal_id, full_name = excluded.full_name, "
                    "birth_date = excluded.birth_date, photo = excluded.photo, updated_at = excluded.updated_at",
                    (
                        session_id,
                        row.candidate_id,
                        row.personal_id,
                        row.full_name,
                        row.birth_date.isoformat() if row.birth_date else None,
                        row.photo,
                        stamp,
                    ),
                )
            digest = self._roster_digest(c, session_id)
            audit_chain.append(
                c,
                stamp,
                actor,
                "roster.replace" if replace else "roster.upsert",
                {"session_id": session_id, "rows": len(rows), "count": digest.count, "sha256": digest.sha256},
            )
            return digest

    def replace_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str = "system") -> RosterDigest:
        return self._write_roster(session_id, rows, replace=True, actor=actor)

    def upsert_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str = "system") -> RosterDigest:
        return self._write_roster(session_id, rows, replace=False, actor=actor)

    @staticmethod
    def _roster_digest(conn: sqlite3.Connection, session_id: str) -> RosterDigest:
        digest = hashlib.sha256()
        count = 0
        for cid, pid, name, birth, photo in conn.execute(
            "SELECT candidate_id, personal_id, full_name, birth_date, photo FROM roster "
            "WHERE session_id = ? ORDER BY candidate_id",
            (session_id,),
        ):
            photo_hash = hashlib.sha256(photo).hexdigest() if photo else ""
            digest.update(json.dumps([cid, pid, name, birth, photo_hash], ensure_ascii=False).encode() + b"\n")
            count += 1
        return RosterDigest(count=count, sha256=digest.hexdigest())

    def roster_digest(self, session_id: str) -> RosterDigest:
        with self._lock:
            try:
                return self._roster_digest(self._conn, session_id)
            except sqlite3.Error as exc:
                raise store_error(exc, self._path) from exc

    def find_candidate(self, session_id: str, personal_id: str) -> RosterEntry | None:
        rows = self._read(
            "SELECT candidate_id, personal_id, full_name, birth_date, photo FROM roster "
            "WHERE session_id = ? AND personal_id = ?",
            (session_id, personal_id),
        )
        if not rows:
            return None
        cid, pid, name, birth, photo = rows[0]
        return RosterEntry(
            session_id=session_id,
            candidate_id=str(cid),
            personal_id=str(pid),
            full_name=str(name),
            birth_date=dt.date.fromisoformat(str(birth)) if birth else None,
            photo=bytes(photo) if isinstance(photo, bytes) else None,
        )

    # ---------------------------------------------------------- admissions
    def is_admitted(self, session_id: str, candidate_id: str) -> bool:
        return bool(
            self._read("SELECT 1 FROM admissions WHERE session_id = ? AND candidate_id = ?", (session_id, candidate_id))
        )

    def record_remote_admission(
        self, session_id: str, candidate_id: str, gate_id: str, event_id: str, occurred_at: dt.datetime
    ) -> bool:
        """Remember an admission made at another gate of the site. Returns False when one was already known."""
        with self._lock, transaction(self._conn, self._path) as c:
            cur = c.execute(
                "INSERT INTO admissions (session_id, candidate_id, gate_id, event_id, admitted_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(session_id, candidate_id) DO NOTHING",
                (session_id, candidate_id, gate_id, event_id, iso_ms(occurred_at)),
            )
            return cur.rowcount == 1

    def admission_of(self, session_id: str, candidate_id: str) -> tuple[str, str] | None:
        """(gate_id, event_id) of the admission on record, if any."""
        rows = self._read(
            "SELECT gate_id, event_id FROM admissions WHERE session_id = ? AND candidate_id = ?",
            (session_id, candidate_id),
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    # ----------------------------------------------------------- decisions
    def record_attempt(
        self, attempt_id: str, session_id: str | None, candidate_id: str | None, id_masked: str | None, credential: str
    ) -> None:
        """Record an attempt on its own (``record_decision`` records it too, in the decision's transaction)."""
        with self._lock, transaction(self._conn, self._path) as c:
            self._upsert_attempt(c, attempt_id, session_id, candidate_id, id_masked, credential)

    @staticmethod
    def _upsert_attempt(
        conn: sqlite3.Connection,
        attempt_id: str,
        session_id: str | None,
        candidate_id: str | None,
        id_masked: str | None,
        credential: str,
    ) -> None:
        conn.execute(
            "INSERT INTO attempts (attempt_id, session_id, candidate_id, id_masked, credential, started_at) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(attempt_id) DO UPDATE SET session_id = excluded.session_id, "
            "candidate_id = excluded.candidate_id, id_masked = excluded.id_masked",
            (attempt_id, session_id, candidate_id, id_masked, credential, iso_ms()),
        )

    def record_decision(
        self,
        decision: DecisionEvent,
        *,
        assisted: AssistedFacts | None = None,
        extra_events: Sequence[Event] = (),
    ) -> None:
        """Attempt + decision rows, admission (on pass) or review request (on review), audit row and outbox events:
        one transaction, all or nothing. Every column comes from the decision event; an officer-assisted admission
        also gets its ``assisted_admissions`` row (and its ``ASSISTED_<CREDENTIAL>`` code stays out of the stored
        reasons, which are the policy's)."""
        outcome = outcome_of(decision)
        attempt_id, session_id, gate_id = decision.attempt_id, decision.session_id, decision.gate_id
        candidate_id, id_masked = decision.subject.candidate_id, decision.subject.id_masked
        credential = decision.credential
        reason_codes = policy_reasons(decision, assisted)
        face_score, thresholds_version, model_version = (
            decision.face_score,
            decision.thresholds_version,
            decision.model_version,
        )
        stamp = iso_ms(decision.occurred_at)
        with self._lock, transaction(self._conn, self._path) as c:
            self._upsert_attempt(c, attempt_id, session_id, candidate_id, id_masked, credential)
            if assisted is not None:
                c.execute(
                    "INSERT INTO assisted_admissions (attempt_id, officer, credential, commitment_signed, note) "
                    "VALUES (?,?,?,?,?)",
                    (attempt_id, assisted.officer, credential, int(assisted.commitment_signed), assisted.note),
                )
            c.execute(
                "INSERT INTO decisions (attempt_id, outcome, reason_codes, face_score, thresholds_version, "
                "model_version, event_id, decided_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    attempt_id,
                    outcome,
                    json.dumps(list(reason_codes)),
                    face_score,
                    thresholds_version,
                    model_version,
                    decision.event_id,
                    stamp,
                ),
            )
            if outcome == "pass" and session_id and candidate_id:
                # an admission already on record (anti-passback off, or another gate's admission arriving over MQTT
                # between the lookup and this commit) keeps the first one; the decision itself is still recorded
                c.execute(
                    "INSERT INTO admissions (session_id, candidate_id, gate_id, event_id, admitted_at) "
                    "VALUES (?,?,?,?,?) ON CONFLICT(session_id, candidate_id) DO NOTHING",
                    (session_id, candidate_id, gate_id, decision.event_id, stamp),
                )
            if outcome == "review":
                c.execute(
                    "INSERT INTO reviews (attempt_id, reasons, requested_at) VALUES (?,?,?)",
                    (attempt_id, json.dumps(list(reason_codes)), stamp),
                )
            audit_chain.append(
                c,
                stamp,
                "lane",
                f"decision.{outcome}",
                {"attempt_id": attempt_id, "event_id": decision.event_id, "reasons": list(reason_codes)},
            )
            for event in (decision, *extra_events):
                self._enqueue(c, event)

    def resolve_review(self, attempt_id: str, approved: bool, operator: str, reason: str, event: Event) -> bool:
        """Resolve a pending review exactly once. Returns False (and changes nothing) when it was not pending."""
        with self._lock, transaction(self._conn, self._path) as c:
            cur = c.execute(
                "UPDATE reviews SET status = ?, resolved_by = ?, resolved_reason = ?, resolved_at = ? "
                "WHERE attempt_id = ? AND status = 'pending'",
                ("approved" if approved else "denied", operator, reason, iso_ms(), attempt_id),
            )
            if cur.rowcount != 1:
                return False
            if approved:
                row = c.execute("SELECT session_id, candidate_id FROM attempts WHERE attempt_id = ?", (attempt_id,))
                found = row.fetchone()
                if found and found[0] and found[1]:
                    c.execute(
                        "INSERT INTO admissions (session_id, candidate_id, gate_id, event_id, admitted_at) "
                        "VALUES (?,?,?,?,?) ON CONFLICT(session_id, candidate_id) DO NOTHING",
                        (found[0], found[1], getattr(event, "gate_id", ""), event.event_id, iso_ms()),
                    )
            audit_chain.append(
                c,
                iso_ms(),
                operator,
                "review.approved" if approved else "review.denied",
                {"attempt_id": attempt_id, "reason": reason, "event_id": event.event_id},
            )
            self._enqueue(c, event)
            return True

    def pending_reviews(self) -> list[ReviewRow]:
        rows = self._read(
            "SELECT attempt_id, status, reasons, requested_at, resolved_by, resolved_reason FROM reviews "
            "WHERE status = 'pending' ORDER BY requested_at"
        )
        return [
            ReviewRow(
                str(a),
                str(s),
                tuple(json.loads(str(r))),
                str(t),
                b if b is None else str(b),
                x if x is None else str(x),
            )
            for a, s, r, t, b, x in rows
        ]

    def decision_counts(self, session_id: str | None = None) -> dict[str, int]:
        sql = "SELECT d.outcome, COUNT(*) FROM decisions d JOIN attempts a USING (attempt_id)"
        params: tuple[object, ...] = ()
        if session_id is not None:
            sql += " WHERE a.session_id = ?"
            params = (session_id,)
        return {str(o): int(str(n)) for o, n in self._read(sql + " GROUP BY d.outcome", params)}

    # --------------------------------------------------------------- audit
    def audit(self, actor: str, action: str, details: dict[str, object]) -> None:
        with self._lock, transaction(self._conn, self._path) as c:
            audit_chain.append(c, iso_ms(), actor, action, details)

    def verify_audit(self) -> AuditReport:
        with self._lock:
            try:
                return audit_chain.verify(self._conn)
            except sqlite3.Error as exc:
                raise store_error(exc, self._path) from exc

    def audit_head(self) -> tuple[int, str]:
        rows = self._read("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
        return (int(str(rows[0][0])), str(rows[0][1])) if rows else (0, audit_chain.GENESIS)

    # -------------------------------------------------------------- outbox
    @staticmethod
    def _enqueue(conn: sqlite3.Connection, event: Event) -> None:
        conn.execute(
            "INSERT INTO outbox (event_id, event_type, payload, created_at) VALUES (?,?,?,?)",
            (event.event_id, event_type_of(event), event_to_json(event), iso_ms()),
        )

    def append_event(self, event: Event, actor: str = "lane") -> None:
        """Queue an event for publishing, with its audit row, in one transaction."""
        with self._lock, transaction(self._conn, self._path) as c:
            audit_chain.append(c, iso_ms(), actor, event_type_of(event), {"event_id": event.event_id})
            self._enqueue(c, event)

    def outbox_pending(self, limit: int) -> list[OutboxRow]:
        rows = self._read(
            "SELECT seq, event_id, event_type, payload, created_at FROM outbox WHERE sent_at IS NULL "
            "ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [OutboxRow(int(str(s)), str(e), str(t), str(p), str(c)) for s, e, t, p, c in rows]

    def outbox_all(self, after_seq: int = 0, limit: int = 100_000) -> list[OutboxRow]:
        """Every queued event, published or not, in order (for replays and the demo's JSON output)."""
        rows = self._read(
            "SELECT seq, event_id, event_type, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [OutboxRow(int(str(s)), str(e), str(t), str(p), str(c)) for s, e, t, p, c in rows]

    def outbox_mark_sent(self, seqs: Sequence[int]) -> None:
        """Mark events acknowledged by the broker. This commit skips the fsync even under synchronous=FULL: losing it
        in a power cut only means those events are sent again, and receivers deduplicate by event_id."""
        if not seqs:
            return
        with self._lock:
            try:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise store_error(exc, self._path) from exc
            try:
                with transaction(self._conn, self._path) as c:
                    stamp = iso_ms()
                    c.executemany(
                        "UPDATE outbox SET sent_at = ? WHERE seq = ? AND sent_at IS NULL", [(stamp, s) for s in seqs]
                    )
            finally:
                try:
                    self._conn.execute(f"PRAGMA synchronous = {self._synchronous}")
                except sqlite3.Error as exc:
                    raise store_error(exc, self._path) from exc

    def outbox_record_failure(self, seq: int, error: str) -> None:
        with self._lock, transaction(self._conn, self._path) as c:
            c.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?", (error[:500], seq))

    def outbox_backlog(self) -> int:
        return int(str(self._read("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")[0][0]))

    def outbox_oldest_pending_age_s(self) -> float | None:
        rows = self._read("SELECT MIN(created_at) FROM outbox WHERE sent_at IS NULL")
        if not rows or rows[0][0] is None:
            return None
        created = parse_iso_ms(str(rows[0][0]))
        return max(0.0, (dt.datetime.now(dt.UTC) - created).total_seconds())

    def purge_sent_outbox(self, older_than_days: int) -> int:
        """Delete published events older than the retention period; the audit chain keeps their ids."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
        with self._lock, transaction(self._conn, self._path) as c:
            cur = c.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?", (iso_ms(cutoff),))
            return cur.rowcount

    # ------------------------------------------------------------ evidence
    def save_evidence(
        self, attempt_id: str, kind: str, key_id: str, nonce: bytes, ciphertext: bytes, expires_at: dt.datetime
    ) -> None:
        """Store one encrypted face image of a review/fail case (encryption is the caller's: edge.privacy)."""
        with self._lock, transaction(self._conn, self._path) as c:
            c.execute(
                "INSERT INTO face_evidence (attempt_id, kind, key_id, nonce, ciphertext, created_at, expires_at) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(attempt_id, kind) DO UPDATE SET key_id = excluded.key_id, "
                "nonce = excluded.nonce, ciphertext = excluded.ciphertext, expires_at = excluded.expires_at",
                (attempt_id, kind, key_id, nonce, ciphertext, iso_ms(), iso_ms(expires_at)),
            )

    def load_evidence(self, attempt_id: str, kind: str) -> tuple[str, bytes, bytes] | None:
        """(key_id, nonce, ciphertext) or None."""
        rows = self._read(
            "SELECT key_id, nonce, ciphertext FROM face_evidence WHERE attempt_id = ? AND kind = ?", (attempt_id, kind)
        )
        if not rows:
            return None
        key_id, nonce, ciphertext = rows[0]
        if not isinstance(nonce, bytes) or not isinstance(ciphertext, bytes):
            raise StoreError(f"evidence of {attempt_id} is damaged", code="E_STORE_CORRUPT")
        return str(key_id), nonce, ciphertext

    def evidence_count(self) -> int:
        return int(str(self._read("SELECT COUNT(*) FROM face_evidence")[0][0]))

    def purge_expired_evidence(self, now: dt.datetime, actor: str = "retention") -> int:
        with self._lock, transaction(self._conn, self._path) as c:
            cur = c.execute("DELETE FROM face_evidence WHERE expires_at <= ?", (iso_ms(now),))
            if cur.rowcount:
                audit_chain.append(c, iso_ms(), actor, "privacy.purge_expired", {"images": cur.rowcount})
            return cur.rowcount

    def purge_candidate(self, personal_id: str, actor: str) -> dict[str, int]:
        """Data-subject deletion: face images, roster photos and roster rows of one person; the audit chain keeps
        that it happened (with the masked ID), not what was deleted."""
        with self._lock, transaction(self._conn, self._path) as c:
            candidates = [
                (str(a), str(b))
                for a, b in c.execute(
                    "SELECT session_id, candidate_id FROM roster WHERE personal_id = ?", (personal_id,)
                ).fetchall()
            ]
            images = 0
            for session_id, candidate_id in candidates:
                cur = c.execute(
                    "DELETE FROM face_evidence WHERE attempt_id IN "
                    "(SELECT attempt_id FROM attempts WHERE session_id = ? AND candidate_id = ?)",
                    (session_id, candidate_id),
                )
                images += cur.rowcount
            rows = c.execute("DELETE FROM roster WHERE personal_id = ?", (personal_id,)).rowcount
            masked = mask_id(personal_id)
            audit_chain.append(
                c,
                iso_ms(),
                actor,
                "privacy.purge_candidate",
                {"id_masked": masked, "images": images, "roster_rows": rows},
            )
            return {"images": images, "roster_rows": rows}

    # ------------------------------------------------------------ commands
    def command_reply(self, command_id: str) -> str | None:
        rows = self._read("SELECT reply FROM processed_commands WHERE command_id = ?", (command_id,))
        return str(rows[0][0]) if rows else None

    def record_command(self, command_id: str, name: str, reply: str, actor: str) -> bool:
        """Remember a processed command and its reply (idempotency). False if it was already recorded."""
        with self._lock, transaction(self._conn, self._path) as c:
            cur = c.execute(
                "INSERT INTO processed_commands (command_id, name, reply, processed_at) VALUES (?,?,?,?) "
                "ON CONFLICT(command_id) DO NOTHING",
                (command_id, name, reply, iso_ms()),
            )
            if cur.rowcount == 1:
                audit_chain.append(c, iso_ms(), actor, f"command.{name}", {"command_id": command_id})
            return cur.rowcount == 1


def open_store(path: Path, synchronous: Literal["NORMAL", "FULL"] = "FULL") -> Store:
    try:
        return Store.open(path, synchronous=synchronous)
    except StoreError:
        raise
    except OSError as exc:
        raise StoreError(f"cannot open {path}: {exc}", code="E_STORE_OPEN_FAILED") from exc
