"""Police-system export: one record per candidate of a session, from the centre's events, signed (detached Ed25519).

Deterministic: the same events give the same bytes and, Ed25519 being deterministic, the same signature, so a re-run
is a no-op for the integrator (``as_of`` is the newest ``received_at`` included, not the time of the run). Fields are
documented one by one in docs/central.md; ``ExportDocument.model_json_schema()`` is the published JSON Schema
(edge/central/export.schema.json, drift-checked by the tests).

The candidate's identity number only ever appears masked as the gate published it (``0010******45``); no face data.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Literal

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from edge.central.errors import ExportError
from edge.clock import iso_ms

FORMAT: Literal["examgate.police-export"] = "examgate.police-export"
FORMAT_VERSION: Literal["1.0"] = "1.0"
SCHEMA_PATH = Path(__file__).with_name("export.schema.json")
_DECISIONS = ("candidate.admitted", "candidate.rejected", "candidate.review_requested")


class CandidateRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    candidate_id: str = Field(description="exam registration number from the roster (or attempt id when unknown)")
    id_masked: str | None = Field(description="citizen ID masked as the law allows: 4 first and 2 last digits")
    decision: Literal["admitted", "rejected", "pending_review"]
    reason_codes: list[str] = Field(description="ExamGate reason codes of the final decision (docs/architecture.md)")
    decided_at: str = Field(description="UTC time of the final decision, ISO 8601 with milliseconds")
    gate_id: str
    site_id: str
    credential: str = Field(description="chip | vneid_level2 | manual_no_card | manual_lost_card | manual_old_cmnd")
    operator: str | None = Field(description="proctor account that overrode or resolved a review; null otherwise")
    override: bool = Field(description="true when a person, not the automatic check, made the final decision")
    model_version: str | None
    thresholds_version: str
    match_threshold: float
    review_threshold: float
    attempts: int = Field(description="decision events seen for this candidate in the session")
    source_event_id: str = Field(description="event_id of the event the final decision comes from")


class ExportDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["examgate.police-export"] = FORMAT
    format_version: Literal["1.0"] = FORMAT_VERSION
    session_id: str
    as_of: str | None = Field(description="newest received_at of the events included (UTC); null if none")
    events_used: int
    records: list[CandidateRecord]


def export_schema() -> dict[str, Any]:
    schema = ExportDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:examgate:police-export:{FORMAT_VERSION}"
    return schema


def render_schema() -> str:
    return json.dumps(export_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _load(dsn: str, session_id: str) -> tuple[list[dict[str, Any]], str | None]:
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            got = conn.execute(
                "SELECT payload, received_at FROM events WHERE session_id = %s AND event_type = ANY(%s) "
                "ORDER BY occurred_at, event_id",
                (session_id, [*_DECISIONS, "review.resolved"]),
            ).fetchall()
    except psycopg.Error as exc:
        raise ExportError(f"cannot read the events of session {session_id!r}: {type(exc).__name__}") from None
    newest = max((r[1] for r in got), default=None)
    return [r[0] for r in got], iso_ms(newest) if newest is not None else None


def build(dsn: str, session_id: str) -> ExportDocument:
    events, as_of = _load(dsn, session_id)
    if not events:
        raise ExportError(f"session {session_id!r} has no decision events at the centre")
    resolved = {e["attempt_id"]: e for e in events if e["event_type"] == "review.resolved"}
    latest: dict[str, dict[str, Any]] = {}
    attempts: dict[str, int] = {}
    for e in events:
        if e["event_type"] not in _DECISIONS:
            continue
        key = e["subject"].get("candidate_id") or e["attempt_id"]
        latest[key] = e  # ordered by occurred_at: the last one wins
        attempts[key] = attempts.get(key, 0) + 1
    records = []
    for key in sorted(latest):
        e = latest[key]
        decision, operator, decided_at = _final(e, resolved.get(e["attempt_id"]))
        records.append(
            CandidateRecord(
                candidate_id=key,
                id_masked=e["subject"].get("id_masked"),
                decision=decision,
                reason_codes=list(e.get("reason_codes", [])),
                decided_at=decided_at,
                gate_id=e["gate_id"],
                site_id=e["site_id"],
                credential=e.get("credential", "chip"),
                operator=operator,
                override=operator is not None,
                model_version=e.get("model_version"),
                thresholds_version=e["thresholds_version"],
                match_threshold=e["match_threshold"],
                review_threshold=e["review_threshold"],
                attempts=attempts[key],
                source_event_id=(resolved.get(e["attempt_id"]) or e)["event_id"]
                if decision != "pending_review"
                else e["event_id"],
            )
        )
    return ExportDocument(session_id=session_id, as_of=as_of, events_used=len(events), records=records)


def _final(
    decision_event: dict[str, Any], review: dict[str, Any] | None
) -> tuple[Literal["admitted", "rejected", "pending_review"], str | None, str]:
    kind = decision_event["event_type"]
    if kind == "candidate.review_requested":
        if review is None:
            return "pending_review", None, decision_event["occurred_at"]
        return ("admitted" if review["approved"] else "rejected"), review["operator"], review["occurred_at"]
    approved_by = decision_event.get("approved_by") if kind == "candidate.admitted" else None
    return ("admitted" if kind == "candidate.admitted" else "rejected"), approved_by, decision_event["occurred_at"]


CSV_FIELDS = tuple(CandidateRecord.model_fields)


def render(doc: ExportDocument, fmt: Literal["json", "csv"]) -> bytes:
    if fmt == "json":
        return (json.dumps(doc.model_dump(mode="json"), indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([f"# {FORMAT} {FORMAT_VERSION} session={doc.session_id} as_of={doc.as_of}"])
    writer.writerow(CSV_FIELDS)
    for rec in doc.records:
        row = rec.model_dump(mode="json")
        row["reason_codes"] = ";".join(row["reason_codes"])
        writer.writerow(
            ["" if row[f] is None else str(row[f]).lower() if isinstance(row[f], bool) else row[f] for f in CSV_FIELDS]
        )
    return buf.getvalue().encode("utf-8")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ExportError(
            f"cannot read the centre key {path}: {type(exc).__name__}",
            remedy="pass --key with an unencrypted Ed25519 PKCS#8 PEM (examgate central keygen)",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ExportError(f"{path} is not an Ed25519 key", remedy="make one with `examgate central keygen`")
    return key


def keygen(out: Path) -> Path:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = out.with_suffix(out.suffix + ".pub")
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pub


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def export(dsn: str, session_id: str, fmt: Literal["json", "csv"], out: Path, key_path: Path) -> dict[str, Any]:
    """Write ``out`` and ``out.sig`` (base64 Ed25519 over the exact bytes of ``out``); returns a summary."""
    key = load_private_key(key_path)
    doc = build(dsn, session_id)
    data = render(doc, fmt)
    signature = base64.b64encode(key.sign(data)) + b"\n"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(out, data)
        _atomic_write(out.with_name(out.name + ".sig"), signature)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return {"session_id": session_id, "records": len(doc.records), "out": str(out), "signature": f"{out}.sig"}


def verify(path: Path, public_key_path: Path) -> bool:
    pub = serialization.load_pem_public_key(public_key_path.read_bytes())
    if not isinstance(pub, Ed25519PublicKey):
        raise ExportError(f"{public_key_path} is not an Ed25519 public key")
    sig = base64.b64decode(path.with_name(path.name + ".sig").read_bytes().strip())
    try:
        pub.verify(sig, path.read_bytes())
    except InvalidSignature:
        return False
    return True
