"""Data-subject access: everything the gate holds about one person, as a ZIP with ``data.json`` and the images.

The person is found by ID number in the roster (every session); their attempts are those of their roster entries.
Face evidence is decrypted when the data key (or a previous key) is available, otherwise listed as sealed with its
key id. The export is recorded in the audit chain with the masked ID and the SHA-256 of the archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from edge.clock import iso_ms
from edge.masking import mask_id
from edge.privacy.errors import PrivacyError
from edge.store import Store
from edge.store.db import connect

if TYPE_CHECKING:
    from edge.privacy.evidence import EvidenceKind

FORMAT = "examgate-subject-export/1"
Opener = Callable[[str, "EvidenceKind"], bytes | None]  # (attempt_id, kind) -> JPEG; raises E_PRIVACY_DECRYPT


def unknown_candidate(masked: str) -> PrivacyError:
    return PrivacyError(
        f"no roster entry holds ID {masked}: nothing to export",
        code="E_PRIVACY_UNKNOWN_CANDIDATE",
        remedy="check the number on the card; a person purged before (`examgate privacy purge`) has no data left",
    )


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def collect(db: Path, personal_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(the JSON document, [(attempt_id, kind)] of the face images held). Raises E_PRIVACY_UNKNOWN_CANDIDATE."""
    conn = connect(db, read_only=True)
    try:
        roster = _rows(
            conn,
            "SELECT session_id, candidate_id, personal_id, full_name, birth_date, updated_at, "
            "photo IS NOT NULL AS has_photo FROM roster WHERE personal_id = ? ORDER BY session_id",
            (personal_id,),
        )
        if not roster:
            raise unknown_candidate(mask_id(personal_id))
        attempts: list[dict[str, Any]] = []
        images: list[tuple[str, str]] = []
        for entry in roster:
            key = (entry["session_id"], entry["candidate_id"])
            for attempt in _rows(
                conn,
                "SELECT * FROM attempts WHERE session_id = ? AND candidate_id = ? ORDER BY started_at",
                key,
            ):
                aid = (attempt["attempt_id"],)
                attempt["decision"] = next(iter(_rows(conn, "SELECT * FROM decisions WHERE attempt_id = ?", aid)), None)
                attempt["review"] = next(iter(_rows(conn, "SELECT * FROM reviews WHERE attempt_id = ?", aid)), None)
                attempt["assisted_admission"] = next(
                    iter(_rows(conn, "SELECT * FROM assisted_admissions WHERE attempt_id = ?", aid)), None
                )
                attempt["events"] = [
                    json.loads(r["payload"])
                    for r in _rows(
                        conn, "SELECT payload FROM outbox WHERE payload LIKE ? ORDER BY seq", (f"%{aid[0]}%",)
                    )
                ]
                evidence = _rows(
                    conn,
                    "SELECT kind, key_id, created_at, expires_at FROM face_evidence WHERE attempt_id = ?",
                    aid,
                )
                attempt["face_images"] = evidence
                images += [(aid[0], str(e["kind"])) for e in evidence]
                attempts.append(attempt)
            entry["admission"] = next(
                iter(_rows(conn, "SELECT * FROM admissions WHERE session_id = ? AND candidate_id = ?", key)), None
            )
    finally:
        conn.close()
    document = {
        "format": FORMAT,
        "exported_at": iso_ms(),
        "personal_id": personal_id,
        "roster": roster,
        "attempts": attempts,
        "notes": [
            "roster photos are in images/roster-<session>.jpg when held; face images of review/fail cases in "
            "images/<attempt>-<kind>.jpg (decrypted) or listed as sealed when no key was available",
            "the audit chain keeps only masked ID numbers and hashes; it is not personal data of this export",
        ],
    }
    return document, images


def _roster_photos(db: Path, personal_id: str) -> list[tuple[str, bytes]]:
    conn = connect(db, read_only=True)
    try:
        return [
            (str(s), bytes(p))
            for s, p in conn.execute(
                "SELECT session_id, photo FROM roster WHERE personal_id = ? AND photo IS NOT NULL", (personal_id,)
            )
        ]
    finally:
        conn.close()


def export_candidate(store: Store, personal_id: str, out: Path, opener: Opener | None, actor: str) -> dict[str, Any]:
    """Write the archive ``out`` (0600) and audit it. Returns counts for the CLI."""
    document, images = collect(store.path, personal_id)
    sealed: list[dict[str, str]] = []
    written = 0
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for session_id, photo in _roster_photos(store.path, personal_id):
            archive.writestr(f"images/roster-{session_id}.jpg", photo)
            written += 1
        for attempt_id, kind in images:
            jpeg = None
            error = "no data key available"
            if opener is not None:
                try:
                    jpeg = opener(attempt_id, cast("EvidenceKind", kind))
                except PrivacyError as err:
                    error = err.code
            if jpeg is None:
                sealed.append({"attempt_id": attempt_id, "kind": kind, "why": error})
                continue
            archive.writestr(f"images/{attempt_id}-{kind}.jpg", jpeg)
            written += 1
        document["images_sealed"] = sealed
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=2, default=str))
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    tmp.replace(out)
    masked = mask_id(personal_id)
    counts = {"attempts": len(document["attempts"]), "images": written, "images_sealed": len(sealed)}
    store.audit(actor, "privacy.export", {"id_masked": masked, **counts, "sha256": digest})
    return {"id_masked": masked, **counts, "sha256": digest, "at": dt.datetime.now(dt.UTC).isoformat()}
