"""One-line, privacy-safe rendering of events for ``examgate events tail`` (IDs masked, no biometrics)."""

from __future__ import annotations

from pydantic import ValidationError

from edge.clock import iso_ms
from edge.events.models import (
    AdmissionConflict,
    CandidateAdmitted,
    CandidateRejected,
    CandidateReviewRequested,
    DeviceFault,
    DeviceStatus,
    GateOpened,
    ReviewResolved,
    Subject,
    parse_event,
)
from edge.masking import mask_id


def _subject(subject: Subject) -> str:
    parts = []
    if subject.candidate_id:
        parts.append(f"cand={mask_id(subject.candidate_id)}")
    if subject.id_masked:
        # already masked by the gate; mask again in case a foreign publisher sent a full number
        masked = subject.id_masked if "*" in subject.id_masked else mask_id(subject.id_masked)
        parts.append(f"id={masked}")
    return " ".join(parts)


def format_event(payload: bytes, topic: str = "") -> str:
    """``TIME SITE/GATE TYPE details``; unparseable payloads become a short warning line (never the raw bytes)."""
    try:
        event = parse_event(payload)
    except ValidationError as exc:
        return f"?? {topic} invalid event ({exc.error_count()} error(s), {len(payload)} bytes)"
    stamp = iso_ms(event.occurred_at)
    head = f"{stamp} {event.site_id}/{event.gate_id} {event.event_type}"
    detail = ""
    if isinstance(event, CandidateAdmitted | CandidateRejected | CandidateReviewRequested):
        score = f" face={event.face_score:.3f}" if event.face_score is not None else ""
        reasons = f" reasons={','.join(event.reason_codes)}" if event.reason_codes else ""
        detail = f"{_subject(event.subject)} via={event.credential}{score}{reasons}"
    elif isinstance(event, ReviewResolved):
        detail = f"{_subject(event.subject)} approved={event.approved} by={event.operator}"
    elif isinstance(event, GateOpened):
        detail = f"cause={event.cause} pulse_ms={event.pulse_ms}"
    elif isinstance(event, DeviceFault):
        detail = f"device={event.device} {event.code}: {event.message}"
    elif isinstance(event, DeviceStatus):
        detail = f"state={event.state}"
    elif isinstance(event, AdmissionConflict):
        detail = f"{_subject(event.subject)} gates={event.first_gate_id},{event.second_gate_id}"
    session = f" session={event.session_id}" if event.session_id else ""
    return f"{head}{session} {detail}".rstrip()
