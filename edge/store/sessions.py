"""Exam sessions: create, open/close (audited), list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from edge.clock import iso_ms
from edge.errors import StoreError
from edge.store import audit as audit_chain
from edge.store.db import Database

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


class Sessions:
    db: Database

    def ensure_session(self, session_id: str, name: str = "", exam_date: dt.date | None = None) -> None:
        check_session_id(session_id)
        with self.db.write() as c:
            c.execute(
                "INSERT INTO exam_sessions (session_id, name, exam_date, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(session_id) DO NOTHING",
                (session_id, name, exam_date.isoformat() if exam_date else None, iso_ms()),
            )

    def set_session_status(self, session_id: str, status: Literal["open", "closed"], actor: str) -> bool:
        """Open or close an exam session (audited). False when the session does not exist."""
        with self.db.write() as c:
            cur = c.execute("UPDATE exam_sessions SET status = ? WHERE session_id = ?", (status, session_id))
            if cur.rowcount != 1:
                return False
            audit_chain.append(c, iso_ms(), actor, f"session.{status}", {"session_id": session_id})
            return True

    def sessions(self) -> list[tuple[str, str, str, int]]:
        """(session_id, status, created_at, roster size) for every session, newest first."""
        rows = self.db.read(
            "SELECT s.session_id, s.status, s.created_at, (SELECT COUNT(*) FROM roster r WHERE r.session_id = "
            "s.session_id) FROM exam_sessions s ORDER BY s.created_at DESC"
        )
        return [(str(a), str(b), str(c), int(str(d))) for a, b, c, d in rows]

    def open_session_id(self) -> str | None:
        """The most recently created open session, if any."""
        rows = self.db.read(
            "SELECT session_id FROM exam_sessions WHERE status = 'open' ORDER BY created_at DESC LIMIT 1"
        )
        return str(rows[0][0]) if rows else None
