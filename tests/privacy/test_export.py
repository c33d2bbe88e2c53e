"""`examgate privacy export`: everything held about one person, readable, audited; an unknown person is refused."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from edge.cli.main import main
from edge.masking import mask_id


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def person_with_images(db: Path) -> tuple[str, int, int]:
    """(personal_id, attempts, images) of someone whose face images are held."""
    personal_id, attempts = query(
        db,
        "SELECT r.personal_id, count(DISTINCT a.attempt_id) FROM roster r JOIN attempts a USING (session_id, "
        "candidate_id) WHERE a.attempt_id IN (SELECT attempt_id FROM face_evidence) GROUP BY r.personal_id LIMIT 1",
    )[0]
    (images,) = query(
        db,
        "SELECT count(*) FROM face_evidence WHERE attempt_id IN (SELECT a.attempt_id FROM attempts a JOIN roster r "
        f"USING (session_id, candidate_id) WHERE r.personal_id = '{personal_id}')",
    )[0]
    return str(personal_id), int(str(attempts)), int(str(images))


def test_export_holds_the_roster_row_attempts_and_decrypted_images(
    gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gate.db"
    personal_id, attempts, images = person_with_images(db)
    out = tmp_path / "export.zip"
    argv = ["privacy", "export", "--candidate", personal_id, "--out", str(out), "--operator", "dpo:lan"]
    assert main([*argv, "--json", "--config", str(gate)]) == 0
    printed = capsys.readouterr().out
    assert personal_id not in printed  # the terminal and the log see the masked ID only
    result = json.loads(printed)
    assert out.stat().st_mode & 0o077 == 0
    with zipfile.ZipFile(out) as archive:
        document = json.loads(archive.read("data.json"))
        jpegs = [n for n in archive.namelist() if n.endswith(".jpg")]
        assert all(archive.read(n).startswith(b"\xff\xd8") for n in jpegs)
    assert document["personal_id"] == personal_id
    assert document["roster"][0]["full_name"]
    assert len(document["attempts"]) == attempts
    assert all(a["decision"] is not None for a in document["attempts"])
    assert any(a["events"] for a in document["attempts"])
    held = sum(len(a["face_images"]) for a in document["attempts"])
    assert held == images and document["images_sealed"] == []
    assert result["images"] == len(jpegs) >= images
    (actor, details) = query(db, "SELECT actor, details FROM audit_log WHERE action = 'privacy.export'")[0]
    assert actor == "dpo:lan"
    assert mask_id(personal_id) in str(details) and personal_id not in str(details)
    assert main(["audit", "verify", "--config", str(gate)]) == 0


def test_export_without_the_key_lists_images_as_sealed(gate: Path, tmp_path: Path) -> None:
    personal_id, _attempts, images = person_with_images(tmp_path / "gate.db")
    out = tmp_path / "export.zip"
    assert (
        main(["privacy", "export", "--candidate", personal_id, "--out", str(out), "--no-images", "--config", str(gate)])
        == 0
    )
    with zipfile.ZipFile(out) as archive:
        document = json.loads(archive.read("data.json"))
    assert len(document["images_sealed"]) == images


def test_export_of_an_unknown_person_is_refused(gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    known = {str(r[0]) for r in query(tmp_path / "gate.db", "SELECT personal_id FROM roster")}
    unknown = next(f"0{n:011d}" for n in range(10**6) if f"0{n:011d}" not in known)
    out = tmp_path / "nobody.zip"
    assert main(["privacy", "export", "--candidate", unknown, "--out", str(out), "--config", str(gate)]) == 3
    assert "E_PRIVACY_UNKNOWN_CANDIDATE" in capsys.readouterr().err
    assert not out.exists()
    assert query(tmp_path / "gate.db", "SELECT count(*) FROM audit_log WHERE action = 'privacy.export'")[0][0] == 0


def test_export_refuses_a_malformed_id(gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["privacy", "export", "--candidate", "12AB", "--out", str(tmp_path / "x.zip"), "--config", str(gate)]) == 3
    )
    assert "E_PRIVACY_ID_INVALID" in capsys.readouterr().err
