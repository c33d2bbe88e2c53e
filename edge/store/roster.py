"""The session roster: import (replace or upsert, audited with its digest), lookup by personal id."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Sequence

from edge.clock import iso_ms
from edge.store import audit as audit_chain
from edge.store.db import Database
from edge.store.models import RosterDigest, RosterEntry, RosterRow
from edge.store.sessions import check_session_id


class Roster:
    db: Database

    def _write_roster(self, session_id: str, rows: Sequence[RosterRow], replace: bool, actor: str) -> RosterDigest:
        check_session_id(session_id)
        with self.db.write() as c:
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
        with self.db.locked() as conn:
            return self._roster_digest(conn, session_id)

    def find_candidate(self, session_id: str, personal_id: str) -> RosterEntry | None:
        rows = self.db.read(
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
