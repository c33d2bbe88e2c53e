"""Attempts, decisions, admissions and reviews: each decision is one transaction with its audit row and its events.

The columns of a decision row are read from its typed event."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence

from edge.clock import iso_ms
from edge.events.models import CandidateAdmitted, CandidateReviewRequested, DecisionEvent, Event, Outcome
from edge.store import audit as audit_chain
from edge.store.db import Database
from edge.store.models import AssistedFacts, ReviewRow
from edge.store.outbox import enqueue


def outcome_of(decision: DecisionEvent) -> Outcome:
    """pass / review / fail, from the decision event's type."""
    if isinstance(decision, CandidateAdmitted):
        return "pass"
    if isinstance(decision, CandidateReviewRequested):
        return "review"
    return "fail"


def policy_reasons(decision: DecisionEvent, assisted: AssistedFacts | None) -> tuple[str, ...]:
    """The reasons stored with the decision: the policy's. The lane appends ``ASSISTED_<CREDENTIAL>`` to the event of
    an officer-assisted admission; the store records that fact in ``assisted_admissions`` instead."""
    reasons = tuple(decision.reason_codes)
    marker = f"ASSISTED_{decision.credential.upper()}"
    if assisted is not None and reasons and reasons[-1] == marker:
        return reasons[:-1]
    return reasons


class Decisions:
    """Satisfies the lane's decision writes and the MQTT ``AdmissionLedger``."""

    db: Database

    def is_admitted(self, session_id: str, candidate_id: str) -> bool:
        return bool(
            self.db.read(
                "SELECT 1 FROM admissions WHERE session_id = ? AND candidate_id = ?", (session_id, candidate_id)
            )
        )

    def record_remote_admission(
        self, session_id: str, candidate_id: str, gate_id: str, event_id: str, occurred_at: dt.datetime
    ) -> bool:
        """Remember an admission made at another gate of the site. Returns False when one was already known."""
        with self.db.write() as c:
            cur = c.execute(
                "INSERT INTO admissions (session_id, candidate_id, gate_id, event_id, admitted_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(session_id, candidate_id) DO NOTHING",
                (session_id, candidate_id, gate_id, event_id, iso_ms(occurred_at)),
            )
            return cur.rowcount == 1

    def admission_of(self, session_id: str, candidate_id: str) -> tuple[str, str] | None:
        """(gate_id, event_id) of the admission on record, if any."""
        rows = self.db.read(
            "SELECT gate_id, event_id FROM admissions WHERE session_id = ? AND candidate_id = ?",
            (session_id, candidate_id),
        )
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    # ----------------------------------------------------------- decisions
    def record_attempt(
        self, attempt_id: str, session_id: str | None, candidate_id: str | None, id_masked: str | None, credential: str
    ) -> None:
        """Record an attempt on its own (``record_decision`` records it too, in the decision's transaction)."""
        with self.db.write() as c:
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
        with self.db.write() as c:
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
                enqueue(c, event)

    def resolve_review(self, attempt_id: str, approved: bool, operator: str, reason: str, event: Event) -> bool:
        """Resolve a pending review exactly once. Returns False (and changes nothing) when it was not pending."""
        with self.db.write() as c:
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
            enqueue(c, event)
            return True

    def pending_reviews(self) -> list[ReviewRow]:
        rows = self.db.read(
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
        return {str(o): int(str(n)) for o, n in self.db.read(sql + " GROUP BY d.outcome", params)}
