"""Read-only questions the screens ask the store: roster details of a candidate, per-session reports, counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edge.store.db import Database

CREDENTIALS: tuple[str, ...] = ("chip", "vneid_level2", "manual_no_card", "manual_lost_card", "manual_old_cmnd")


@dataclass(frozen=True)
class RosterDetails:
    """What a proctor may see of a candidate from the roster (never parents' names or religion: not stored)."""

    candidate_id: str
    full_name: str
    birth_date: str | None
    photo: bytes | None


@dataclass
class CredentialCounts:
    admitted: int = 0
    rejected: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.admitted + self.rejected + self.pending


@dataclass
class SessionReport:
    session_id: str
    name: str
    exam_date: str | None
    roster_size: int = 0
    admitted: int = 0
    rejected: int = 0
    pending_review: int = 0
    reviewed: int = 0
    review_approved: int = 0
    review_denied: int = 0
    by_credential: dict[str, CredentialCounts] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def officer_assisted(self) -> int:
        return sum(c.total for k, c in self.by_credential.items() if k != "chip")


class Queries:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Database.open(path, read_only=True)

    def close(self) -> None:
        self._db.close()

    def ping(self) -> None:
        self._db.read("SELECT 1")

    def roster_details(self, session_id: str, candidate_id: str) -> RosterDetails | None:
        rows = self._db.read(
            "SELECT candidate_id, full_name, birth_date, photo FROM roster WHERE session_id = ? AND candidate_id = ?",
            (session_id, candidate_id),
        )
        if not rows:
            return None
        cid, name, birth, photo = rows[0]
        return RosterDetails(
            str(cid), str(name), None if birth is None else str(birth), photo if isinstance(photo, bytes) else None
        )

    def sessions(self) -> list[tuple[str, str, str | None, str]]:
        """(session_id, name, exam_date, status), newest first."""
        rows = self._db.read("SELECT session_id, name, exam_date, status FROM exam_sessions ORDER BY created_at DESC")
        return [(str(s), str(n), None if d is None else str(d), str(st)) for s, n, d, st in rows]

    def session_report(self, session_id: str) -> SessionReport | None:
        head = self._db.read("SELECT name, exam_date FROM exam_sessions WHERE session_id = ?", (session_id,))
        if not head:
            return None
        report = SessionReport(session_id, str(head[0][0]), None if head[0][1] is None else str(head[0][1]))
        report.roster_size = int(
            str(self._db.read("SELECT COUNT(*) FROM roster WHERE session_id = ?", (session_id,))[0][0])
        )
        report.by_credential = {c: CredentialCounts() for c in CREDENTIALS}
        rows = self._db.read(
            "SELECT d.outcome, r.status, a.credential, COUNT(*) FROM decisions d JOIN attempts a USING (attempt_id) "
            "LEFT JOIN reviews r USING (attempt_id) WHERE a.session_id = ? GROUP BY 1, 2, 3",
            (session_id,),
        )
        for outcome, status, credential, count in rows:
            n = int(str(count))
            counts = report.by_credential.setdefault(str(credential), CredentialCounts())
            if outcome == "review":
                report.reviewed += n
            if outcome == "pass" or status == "approved":
                report.admitted += n
                counts.admitted += n
            elif outcome == "fail" or status == "denied":
                report.rejected += n
                counts.rejected += n
            else:
                report.pending_review += n
                counts.pending += n
            if status == "approved":
                report.review_approved += n
            elif status == "denied":
                report.review_denied += n
        reasons = self._db.read(
            "SELECT j.value, COUNT(*) FROM decisions d JOIN attempts a USING (attempt_id), json_each(d.reason_codes) j "
            "WHERE a.session_id = ? GROUP BY 1 ORDER BY 2 DESC, 1",
            (session_id,),
        )
        report.by_reason = {str(r): int(str(n)) for r, n in reasons}
        return report

    def decision_reasons(self, session_id: str) -> list[tuple[str, str, int]]:
        """(outcome, reason, count) for the metrics ("none" when a decision had no reason)."""
        return self._counts(
            "SELECT d.outcome, COALESCE(j.value, 'none'), COUNT(*) FROM decisions d JOIN attempts a USING (attempt_id) "
            "LEFT JOIN json_each(d.reason_codes) j WHERE a.session_id = ? GROUP BY 1, 2",
            (session_id,),
        )

    def device_faults(self) -> list[tuple[str, str, int]]:
        """(device, code, count) of the device faults still in the outbox."""
        return self._counts(
            "SELECT json_extract(payload, '$.device'), json_extract(payload, '$.code'), COUNT(*) FROM outbox "
            "WHERE event_type = 'device.fault' GROUP BY 1, 2"
        )

    def decision_outcomes(self, session_id: str) -> list[tuple[str, str, int]]:
        """(outcome, credential, count) of the session's decisions."""
        return self._counts(
            "SELECT d.outcome, a.credential, COUNT(*) FROM decisions d JOIN attempts a USING (attempt_id) "
            "WHERE a.session_id = ? GROUP BY 1, 2",
            (session_id,),
        )

    def _counts(self, sql: str, params: tuple[str, ...] = ()) -> list[tuple[str, str, int]]:
        """The rows of a two-key ``GROUP BY`` query ending in ``COUNT(*)``, typed."""
        return [(str(a), str(b), int(str(n))) for a, b, n in self._db.read(sql, params)]
