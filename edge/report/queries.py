"""Read-only queries behind the brief. Every figure comes from one of ``SOURCE_TABLES``; nothing is written.

The period is either one exam session (``attempts.session_id``) or a range of UTC dates on ``decisions.decided_at``
(inclusive). Times per candidate and face-capture counts come from the decision events kept in ``outbox``
(``timings_ms.decision_ms``, ``face_attempts``); published events are purged after the retention period, so the brief
says how many decisions still have them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from edge.report.errors import bad_period, db_missing, empty_db, no_decisions, unknown_session
from edge.store import audit as audit_chain
from edge.store.db import connect

SOURCE_TABLES = ("decisions", "attempts", "reviews", "assisted_admissions", "outbox", "audit_log", "audit_head")
DECISION_EVENTS = ("candidate.admitted", "candidate.rejected", "candidate.review_requested")
FAULT_STATES = ("degraded", "locked")
ASSISTED_CREDENTIALS = ("vneid_level2", "manual_lost_card", "manual_old_cmnd", "manual_no_card")


@dataclass(frozen=True)
class Period:
    session_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def parse(cls, session_id: str | None, date_from: str | None, date_to: str | None) -> Period:
        try:
            start = dt.date.fromisoformat(date_from) if date_from else None
            end = dt.date.fromisoformat(date_to) if date_to else None
        except ValueError as exc:
            raise bad_period(f"bad date: {exc}") from None
        if start and end and start > end:
            raise bad_period(f"--from {start} is after --to {end}")
        return cls(session_id, start, end)

    def label(self) -> str:
        if self.session_id:
            return self.session_id
        if self.date_from is None and self.date_to is None:
            return "*"
        return f"{self.date_from or '…'} – {self.date_to or '…'}"


@dataclass
class ReviewFacts:
    by_status: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[tuple[str, str]] = field(default_factory=Counter)  # (status, reason)
    per_proctor: dict[str, Counter[str]] = field(default_factory=dict)
    wait_s: list[float] = field(default_factory=list)


@dataclass
class BriefData:
    db_path: Path
    period: Period
    sessions: list[str]
    first_decision: str
    last_decision: str
    outcomes: Counter[str]
    by_thresholds: Counter[tuple[str, str]]  # (thresholds_version, model_version)
    reasons: Counter[str]
    scores: list[tuple[float, str]]  # (face score, outcome)
    reviews: ReviewFacts
    captures: Counter[tuple[int, str]]  # (face_attempts, final outcome)
    credentials: Counter[str]
    assisted: Counter[tuple[str, str]]  # (credential, officer)
    assisted_signed: int
    times_ms: list[float]
    decisions_with_events: int
    notices: Counter[tuple[str, str]]  # (notice version, legal basis) recorded in the decision events
    device_faults: Counter[str]
    table_rows: dict[str, int]
    audit_head: tuple[int, str]
    audit_ok: bool
    audit_problems: list[str]

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def admitted(self) -> int:
        return self.outcomes["pass"] + self.reviews.by_status["approved"]


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _seconds_between(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise db_missing(f"database {path} does not exist")
    conn = connect(path, read_only=True)
    try:
        yield conn
    finally:
        conn.close()


def _where(period: Period) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if period.session_id is not None:
        clauses.append("a.session_id = ?")
        params.append(period.session_id)
    if period.date_from is not None:
        clauses.append("substr(d.decided_at, 1, 10) >= ?")
        params.append(period.date_from.isoformat())
    if period.date_to is not None:
        clauses.append("substr(d.decided_at, 1, 10) <= ?")
        params.append(period.date_to.isoformat())
    return (" AND ".join(clauses) or "1 = 1"), params


def _check_period(conn: sqlite3.Connection, path: Path, period: Period) -> None:
    tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"decisions", "attempts", "audit_log"} <= tables:
        raise empty_db(f"{path} is not an ExamGate database (no decisions table): nothing to report")
    span = conn.execute("SELECT count(*), min(decided_at), max(decided_at) FROM decisions").fetchone()
    if not span[0]:
        raise empty_db(f"{path} holds no decisions: nothing to report")
    if period.session_id is not None:
        known = conn.execute(
            "SELECT 1 FROM exam_sessions WHERE session_id = ? UNION SELECT 1 FROM attempts WHERE session_id = ?",
            (period.session_id, period.session_id),
        ).fetchone()
        if known is None:
            ids = [str(r[0]) for r in conn.execute("SELECT session_id FROM exam_sessions ORDER BY created_at")]
            raise unknown_session(f"no session {period.session_id!r} in {path.name}; known: {', '.join(ids) or '-'}")
    where, params = _where(period)
    count = conn.execute(
        f"SELECT count(*) FROM decisions d JOIN attempts a USING (attempt_id) WHERE {where}",  # noqa: S608
        params,
    ).fetchone()[0]
    if not count:
        raise no_decisions(
            f"no decisions in {period.label()}; this database has {span[0]} decision(s) "
            f"from {span[1][:10]} to {span[2][:10]} (UTC)"
        )


def _reviews(conn: sqlite3.Connection, where: str, params: list[object]) -> ReviewFacts:
    facts = ReviewFacts()
    rows = conn.execute(
        "SELECT r.status, r.resolved_by, r.resolved_reason, r.requested_at, r.resolved_at FROM reviews r "  # noqa: S608
        f"JOIN attempts a USING (attempt_id) JOIN decisions d USING (attempt_id) WHERE {where}",
        params,
    ).fetchall()
    for status, by, reason, requested_at, resolved_at in rows:
        facts.by_status[str(status)] += 1
        if status == "pending":
            continue
        facts.by_reason[(str(status), str(reason or "-"))] += 1
        facts.per_proctor.setdefault(str(by or "-"), Counter())[str(status)] += 1
        if requested_at and resolved_at:
            facts.wait_s.append(_seconds_between(str(requested_at), str(resolved_at)))
    return facts


def _events(
    conn: sqlite3.Connection, attempts: dict[str, str], notices: Counter[tuple[str, str]]
) -> tuple[list[float], Counter[tuple[int, str]], int]:
    """Times per candidate, face captures and notices shown, from the decision events still in the outbox."""
    times: list[float] = []
    captures: Counter[tuple[int, str]] = Counter()
    seen: set[str] = set()
    marks = ",".join("?" * len(DECISION_EVENTS))
    for (payload,) in conn.execute(
        f"SELECT payload FROM outbox WHERE event_type IN ({marks}) ORDER BY seq",  # noqa: S608
        DECISION_EVENTS,
    ):
        event = json.loads(payload)
        attempt_id = event.get("attempt_id")
        if attempt_id not in attempts or attempt_id in seen:
            continue
        seen.add(attempt_id)
        notices[(str(event.get("notice_version") or "-"), str(event.get("legal_basis") or "-"))] += 1
        timings = event.get("timings_ms") or {}
        timing = timings.get("total_ms", timings.get("decision_ms"))  # total when the event has it, else to decision
        if isinstance(timing, int | float):
            times.append(float(timing))
        tries = event.get("face_attempts")
        if isinstance(tries, int) and tries > 0:
            captures[(tries, attempts[attempt_id])] += 1
    return times, captures, len(seen)


def _device_faults(conn: sqlite3.Connection, period: Period, first: str, last: str) -> Counter[str]:
    faults: Counter[str] = Counter()
    for (payload,) in conn.execute(
        "SELECT payload FROM outbox WHERE event_type = 'device.status' AND created_at BETWEEN ? AND ?",
        (first[:10], last[:10] + "~"),
    ):
        event = json.loads(payload)
        if period.session_id is not None and event.get("session_id") not in (None, period.session_id):
            continue
        state = str(event.get("state", "?"))
        if state in FAULT_STATES:
            reasons = (event.get("details") or {}).get("reason") or (event.get("details") or {}).get("code") or "-"
            faults[f"{state}: {reasons}"] += 1
    return faults


def _final_outcomes(conn: sqlite3.Connection, where: str, params: list[object]) -> dict[str, str]:
    """attempt_id -> pass / fail / approved / denied / pending (a review's outcome is the proctor's)."""
    rows = conn.execute(
        "SELECT d.attempt_id, d.outcome, r.status FROM decisions d JOIN attempts a USING (attempt_id) "  # noqa: S608
        f"LEFT JOIN reviews r USING (attempt_id) WHERE {where}",
        params,
    ).fetchall()
    return {str(a): str(status) if outcome == "review" and status else str(outcome) for a, outcome, status in rows}


def collect(path: Path, period: Period) -> BriefData:
    """Everything the brief shows, from the database at ``path`` (opened read-only). Raises E_REPORT_…"""
    with _read_only(path) as conn:
        _check_period(conn, path, period)
        where, params = _where(period)
        base = f"FROM decisions d JOIN attempts a USING (attempt_id) WHERE {where}"
        rows = conn.execute(
            "SELECT d.outcome, d.reason_codes, d.face_score, d.thresholds_version, coalesce(d.model_version, '-'), "
            f"a.credential, d.decided_at, coalesce(a.session_id, '-') {base}",
            params,
        ).fetchall()
        outcomes: Counter[str] = Counter()
        by_thresholds: Counter[tuple[str, str]] = Counter()
        reasons: Counter[str] = Counter()
        credentials: Counter[str] = Counter()
        scores: list[tuple[float, str]] = []
        for outcome, codes, score, version, model, credential, _at, _sid in rows:
            outcomes[str(outcome)] += 1
            by_thresholds[(str(version), str(model))] += 1
            reasons.update(json.loads(codes))
            credentials[str(credential)] += 1
            if score is not None:
                scores.append((float(score), str(outcome)))
        decided = sorted(str(r[6]) for r in rows)
        assisted: Counter[tuple[str, str]] = Counter()
        signed = 0
        for credential, officer, commitment in conn.execute(
            f"SELECT s.credential, s.officer, s.commitment_signed FROM assisted_admissions s "  # noqa: S608
            f"JOIN attempts a USING (attempt_id) JOIN decisions d USING (attempt_id) WHERE {where}",
            params,
        ):
            assisted[(str(credential), str(officer))] += 1
            signed += int(commitment)
        final = _final_outcomes(conn, where, params)
        notices: Counter[tuple[str, str]] = Counter()
        times, captures, with_events = _events(conn, final, notices)
        table_rows = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in SOURCE_TABLES}  # noqa: S608
        head = conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
        report = audit_chain.verify(conn)
        return BriefData(
            db_path=path,
            period=period,
            sessions=sorted({str(r[7]) for r in rows}),
            first_decision=decided[0],
            last_decision=decided[-1],
            outcomes=outcomes,
            by_thresholds=by_thresholds,
            reasons=reasons,
            scores=scores,
            reviews=_reviews(conn, where, params),
            captures=captures,
            credentials=credentials,
            assisted=assisted,
            assisted_signed=signed,
            times_ms=times,
            decisions_with_events=with_events,
            notices=notices,
            device_faults=_device_faults(conn, period, decided[0], decided[-1]),
            table_rows=table_rows,
            audit_head=(int(head[0]), str(head[1])) if head else (0, audit_chain.GENESIS),
            audit_ok=report.ok,
            audit_problems=list(report.problems)[:5],
        )
