"""Event models (pydantic v2). Every event published, stored or served is one of these.

Versioning: ``schema_version`` is MAJOR.MINOR. A MINOR bump only adds optional fields; receivers must ignore unknown
fields. A MAJOR bump changes the topic prefix (``examgate/v2/…``). Receivers deduplicate by ``event_id``: delivery is
at least once.

1.1 (issue 12): decisions carry ``pad_signals`` and ``pad_thresholds_version``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_serializer, field_validator

from edge.clock import iso_ms, utc_now_ms
from edge.events.ids import new_event_id

SCHEMA_VERSION = "1.1"

Outcome = Literal["pass", "review", "fail"]
Verdict = Literal["accept", "review", "reject"]
Credential = Literal["chip", "vneid_level2", "manual_no_card", "manual_lost_card", "manual_old_cmnd"]


class StampFields(TypedDict):
    """The fields every event of one lane shares: ``GateOpened(**stamp.fields(), …)``."""

    site_id: str
    gate_id: str
    session_id: str | None


@dataclass(frozen=True)
class Stamp:
    """Where an event happens: the site, the gate and the exam session (if one is open)."""

    site_id: str
    gate_id: str
    session_id: str | None = None

    def fields(self) -> StampFields:
        return StampFields(site_id=self.site_id, gate_id=self.gate_id, session_id=self.session_id)


class Subject(BaseModel):
    """Who an event is about, without biometrics or the full ID number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidate_id: str | None = Field(default=None, description="exam registration number from the roster, when known")
    id_masked: str | None = Field(default=None, description="masked 12-digit ID, e.g. 0010******45")


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(default_factory=new_event_id, description="UUIDv7; receivers deduplicate on it")
    schema_version: str = SCHEMA_VERSION
    site_id: str
    gate_id: str
    session_id: str | None = Field(default=None, description="exam session the event belongs to")
    occurred_at: dt.datetime = Field(default_factory=utc_now_ms, description="UTC, millisecond precision")

    @field_validator("occurred_at")
    @classmethod
    def _utc_ms(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a timezone (UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(microsecond=(value.microsecond // 1000) * 1000)

    @field_serializer("occurred_at")
    def _ser_time(self, value: dt.datetime) -> str:
        return iso_ms(value)


class DecisionFields(BaseModel):
    """Fields shared by the three decision events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempt_id: str
    subject: Subject
    credential: Credential = "chip"
    reason_codes: tuple[str, ...] = ()
    face_score: float | None = None
    roster_score: float | None = None
    thresholds_version: str
    match_threshold: float
    review_threshold: float
    model_version: str | None = None
    passive_auth: str | None = None
    clone_check: str | None = None
    access_protocol: str | None = None
    face_attempts: int = 0
    timings_ms: dict[str, float] = Field(default_factory=dict)
    notice_version: str | None = Field(default=None, description="version of the personal-data notice shown")
    legal_basis: str | None = Field(default=None, description="legal basis of the processing (notice file)")
    pad_score: float | None = Field(
        default=None, description="lowest PAD bona fide score over the attempts, 0..1, higher = live; null: not scored"
    )
    pad_signals: dict[str, float] | None = Field(
        default=None,
        description="multi-frame PAD signals (nonrigid_motion, planar_residual, blink, …: higher = live) and the "
        "active challenge's result (challenge_passed 1/0); null: none computed",
    )
    pad_model: str | None = Field(default=None, description="PAD model name@sha; null: PAD off")
    pad_thresholds_version: str | None = Field(
        default=None, description="PAD operating point (models/thresholds_pad.toml version); null: PAD off"
    )
    pad_mode: str | None = Field(default=None, description="[pad] mode at the decision: signal or enforce")


class CandidateAdmitted(DecisionFields, Event):
    event_type: Literal["candidate.admitted"] = "candidate.admitted"
    approved_by: str | None = Field(default=None, description="proctor account when admitted after review")


class CandidateRejected(DecisionFields, Event):
    event_type: Literal["candidate.rejected"] = "candidate.rejected"


class CandidateReviewRequested(DecisionFields, Event):
    event_type: Literal["candidate.review_requested"] = "candidate.review_requested"


DecisionEvent = CandidateAdmitted | CandidateRejected | CandidateReviewRequested


def decision_event(outcome: Outcome, stamp: Stamp, decision: DecisionFields) -> DecisionEvent:
    """The decision event of one outcome, built by its constructor from the lane's stamp and the shared fields."""
    shared = dict(decision)  # shallow: the subject and the tuples stay as they are
    match outcome:
        case "pass":
            return CandidateAdmitted(**stamp.fields(), **shared)
        case "review":
            return CandidateReviewRequested(**stamp.fields(), **shared)
        case "fail":
            return CandidateRejected(**stamp.fields(), **shared)


class ReviewResolved(Event):
    event_type: Literal["review.resolved"] = "review.resolved"
    attempt_id: str
    subject: Subject
    approved: bool
    operator: str
    reason: str


class GateOpened(Event):
    event_type: Literal["gate.opened"] = "gate.opened"
    attempt_id: str | None = None
    direction: Literal["entry", "exit"] = "entry"
    pulse_ms: int
    cause: Literal["pass", "review_approved", "officer_assisted", "fire_release", "manual"]


class GatePassageConfirmed(Event):
    event_type: Literal["gate.passage_confirmed"] = "gate.passage_confirmed"
    attempt_id: str | None = None
    after_ms: float


class GatePassageTimeout(Event):
    event_type: Literal["gate.passage_timeout"] = "gate.passage_timeout"
    attempt_id: str | None = None
    timeout_s: float


class DeviceFault(Event):
    event_type: Literal["device.fault"] = "device.fault"
    device: Literal["reader", "camera", "turnstile", "store", "broker", "model", "clock", "outbox"]
    code: str
    message: str
    remedy: str


class DeviceStatus(Event):
    event_type: Literal["device.status"] = "device.status"
    state: Literal["starting", "ready", "degraded", "locked", "stopping"]
    details: dict[str, str] = Field(default_factory=dict)


class AdmissionConflict(Event):
    event_type: Literal["admission.conflict"] = "admission.conflict"
    subject: Subject
    first_gate_id: str
    first_event_id: str
    second_gate_id: str
    second_event_id: str


AnyEvent = Annotated[
    CandidateAdmitted
    | CandidateRejected
    | CandidateReviewRequested
    | ReviewResolved
    | GateOpened
    | GatePassageConfirmed
    | GatePassageTimeout
    | DeviceFault
    | DeviceStatus
    | AdmissionConflict,
    Field(discriminator="event_type"),
]

_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

EVENT_TYPES: tuple[str, ...] = (
    "candidate.admitted",
    "candidate.rejected",
    "candidate.review_requested",
    "review.resolved",
    "gate.opened",
    "gate.passage_confirmed",
    "gate.passage_timeout",
    "device.fault",
    "device.status",
    "admission.conflict",
)


def parse_event(data: str | bytes | dict[str, object]) -> AnyEvent:
    """Validate an event from JSON text or a dict. Raises pydantic.ValidationError."""
    if isinstance(data, dict):
        return _ADAPTER.validate_python(data)
    return _ADAPTER.validate_json(data)


def event_to_json(event: Event) -> str:
    return event.model_dump_json()


def event_type_of(event: Event) -> str:
    value = getattr(event, "event_type", None)
    if not isinstance(value, str):
        raise TypeError(f"{type(event).__name__} has no event_type")
    return value


def json_schema() -> dict[str, object]:
    """JSON Schema (draft 2020-12) of every event, as serialised on the wire."""
    schema = _ADAPTER.json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:examgate:events:{SCHEMA_VERSION}"
    schema["title"] = "ExamGate events"
    return schema
