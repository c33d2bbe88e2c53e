"""Police export from real PostgreSQL: one record per candidate, final decision after review, signed, idempotent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest
from central_helpers import SITE, admitted

from edge.central import db, export
from edge.central.errors import ExportError
from edge.events.models import CandidateRejected, CandidateReviewRequested, Event, ReviewResolved, Subject

REPO = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 6, 1, 7, 30, tzinfo=dt.UTC)


def _decision(kind: type[Event], cid: str, minute: int, **kw: object) -> Event:
    return kind(  # type: ignore[call-arg]
        site_id=SITE,
        gate_id="gate-a",
        session_id="S1",
        occurred_at=T0 + dt.timedelta(minutes=minute),
        attempt_id=f"att-{cid}-{minute}",
        subject=Subject(candidate_id=cid, id_masked="0010******45"),
        thresholds_version="t1",
        match_threshold=0.6,
        review_threshold=0.5,
        model_version="mfn-2",
        **kw,
    )


def session_events() -> list[Event]:
    review = _decision(CandidateReviewRequested, "C2", 2, reason_codes=("FACE_LOW",))
    return [
        admitted("C1", occurred_at=T0),
        review,
        ReviewResolved(
            site_id=SITE,
            gate_id="gate-a",
            session_id="S1",
            occurred_at=T0 + dt.timedelta(minutes=3),
            attempt_id=review.attempt_id,  # type: ignore[attr-defined]
            subject=review.subject,  # type: ignore[attr-defined]
            approved=True,
            operator="gv.lan",
            reason="photo old",
        ),
        _decision(CandidateRejected, "C3", 4, reason_codes=("CHIP_CLONE",)),
        _decision(CandidateReviewRequested, "C4", 5),
        _decision(CandidateRejected, "C5", 6, reason_codes=("FACE_MISMATCH",)),
        admitted("C5", occurred_at=T0 + dt.timedelta(minutes=7)),
        admitted("X9", session_id="S2", occurred_at=T0),  # another session
    ]


def store(dsn: str, events: list[Event]) -> None:
    db.migrate(dsn)
    with psycopg.connect(dsn) as conn:
        db.ensure_partitions(conn, {db.month_start(e.occurred_at) for e in events})
        for e in events:
            conn.execute(
                "INSERT INTO events (event_id, event_type, site_id, gate_id, session_id, occurred_at, payload) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    uuid.UUID(e.event_id),
                    e.event_type,
                    e.site_id,
                    e.gate_id,
                    e.session_id,
                    e.occurred_at,
                    e.model_dump_json(),
                ),  # type: ignore[attr-defined]
            )
        conn.commit()


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "centre.key"
    return path, export.keygen(path)


def test_json_export_one_record_per_candidate_with_final_decisions(
    pg_dsn: str, key: tuple[Path, Path], tmp_path: Path
) -> None:
    store(pg_dsn, session_events())
    out = tmp_path / "S1.json"
    summary = export.export(pg_dsn, "S1", "json", out, key[0])
    assert summary["records"] == 5
    doc = export.ExportDocument.model_validate_json(out.read_bytes())  # validates against the published schema
    by_id = {r.candidate_id: r for r in doc.records}
    assert sorted(by_id) == ["C1", "C2", "C3", "C4", "C5"]
    assert (by_id["C1"].decision, by_id["C1"].operator, by_id["C1"].override) == ("admitted", None, False)
    assert (by_id["C2"].decision, by_id["C2"].operator, by_id["C2"].override) == ("admitted", "gv.lan", True)
    assert by_id["C2"].decided_at == "2026-06-01T07:33:00.000Z"
    assert (by_id["C3"].decision, by_id["C3"].reason_codes) == ("rejected", ["CHIP_CLONE"])
    assert by_id["C4"].decision == "pending_review"
    assert (by_id["C5"].decision, by_id["C5"].attempts) == ("admitted", 2)
    assert by_id["C3"].model_version == "mfn-2"
    assert doc.events_used == 7
    text = out.read_text()
    assert not re.search(r"\d{12}", text)  # never a full identity number
    assert export.verify(out, key[1])


def test_rerun_is_byte_identical_and_tampering_breaks_the_signature(
    pg_dsn: str, key: tuple[Path, Path], tmp_path: Path
) -> None:
    store(pg_dsn, session_events())
    out = tmp_path / "S1.json"
    export.export(pg_dsn, "S1", "json", out, key[0])
    first, first_sig = out.read_bytes(), Path(f"{out}.sig").read_bytes()
    export.export(pg_dsn, "S1", "json", out, key[0])
    assert out.read_bytes() == first
    assert Path(f"{out}.sig").read_bytes() == first_sig
    out.write_bytes(first.replace(b'"rejected"', b'"admitted"', 1))
    assert not export.verify(out, key[1])


def test_csv_export(pg_dsn: str, key: tuple[Path, Path], tmp_path: Path) -> None:
    store(pg_dsn, session_events())
    out = tmp_path / "S1.csv"
    export.export(pg_dsn, "S1", "csv", out, key[0])
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert lines[0][0].startswith("# examgate.police-export 1.0 session=S1")
    assert tuple(lines[1]) == export.CSV_FIELDS
    body = [dict(zip(lines[1], row, strict=True)) for row in lines[2:]]
    assert [r["candidate_id"] for r in body] == ["C1", "C2", "C3", "C4", "C5"]
    assert body[1]["operator"] == "gv.lan"
    assert body[1]["override"] == "true"
    assert body[0]["operator"] == ""
    assert export.verify(out, key[1])


def test_unknown_session_and_bad_key_are_typed_errors(pg_dsn: str, key: tuple[Path, Path], tmp_path: Path) -> None:
    store(pg_dsn, session_events())
    with pytest.raises(ExportError) as err:
        export.export(pg_dsn, "NOPE", "json", tmp_path / "x.json", key[0])
    assert err.value.code == "E_CENTRAL_EXPORT"
    assert not (tmp_path / "x.json").exists()
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with pytest.raises(ExportError, match="cannot read the centre key"):
        export.export(pg_dsn, "S1", "json", tmp_path / "y.json", bad)


def test_published_schema_is_current_and_every_field_is_documented() -> None:
    assert export.SCHEMA_PATH.read_text(encoding="utf-8") == export.render_schema()
    schema = json.loads(export.render_schema())
    doc = (REPO / "docs" / "central.md").read_text(encoding="utf-8")
    fields = set(schema["properties"]) | set(schema["$defs"]["CandidateRecord"]["properties"])
    missing = sorted(f for f in fields if f"`{f}`" not in doc)
    assert missing == []
