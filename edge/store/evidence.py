"""Encrypted face evidence of review/fail cases, its retention purge, and the data-subject deletion."""

from __future__ import annotations

import datetime as dt

from edge.clock import iso_ms
from edge.errors import StoreError
from edge.masking import mask_id
from edge.store import audit as audit_chain
from edge.store.db import Database


class Evidence:
    db: Database

    def save_evidence(
        self, attempt_id: str, kind: str, key_id: str, nonce: bytes, ciphertext: bytes, expires_at: dt.datetime
    ) -> None:
        """Store one encrypted face image of a review/fail case (encryption is the caller's: edge.privacy)."""
        with self.db.write() as c:
            c.execute(
                "INSERT INTO face_evidence (attempt_id, kind, key_id, nonce, ciphertext, created_at, expires_at) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(attempt_id, kind) DO UPDATE SET key_id = excluded.key_id, "
                "nonce = excluded.nonce, ciphertext = excluded.ciphertext, expires_at = excluded.expires_at",
                (attempt_id, kind, key_id, nonce, ciphertext, iso_ms(), iso_ms(expires_at)),
            )

    def load_evidence(self, attempt_id: str, kind: str) -> tuple[str, bytes, bytes] | None:
        """(key_id, nonce, ciphertext) or None."""
        rows = self.db.read(
            "SELECT key_id, nonce, ciphertext FROM face_evidence WHERE attempt_id = ? AND kind = ?", (attempt_id, kind)
        )
        if not rows:
            return None
        key_id, nonce, ciphertext = rows[0]
        if not isinstance(nonce, bytes) or not isinstance(ciphertext, bytes):
            raise StoreError(f"evidence of {attempt_id} is damaged", code="E_STORE_CORRUPT")
        return str(key_id), nonce, ciphertext

    def evidence_count(self) -> int:
        return int(str(self.db.read("SELECT COUNT(*) FROM face_evidence")[0][0]))

    def purge_expired_evidence(self, now: dt.datetime, actor: str = "retention") -> int:
        with self.db.write() as c:
            cur = c.execute("DELETE FROM face_evidence WHERE expires_at <= ?", (iso_ms(now),))
            if cur.rowcount:
                audit_chain.append(c, iso_ms(), actor, "privacy.purge_expired", {"images": cur.rowcount})
            return cur.rowcount

    def purge_candidate(self, personal_id: str, actor: str) -> dict[str, int]:
        """Data-subject deletion: face images, roster photos and roster rows of one person; the audit chain keeps
        that it happened (with the masked ID), not what was deleted."""
        with self.db.write() as c:
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
