"""One MQTT message → one ``events`` row or one ``rejected`` row, with the reason (pure: no I/O).

Checks, in order: size cap, topic of our tree, JSON, schema MAJOR version, the event schema (an event of a newer
MINOR version may carry fields this centre does not know: they are ignored for validation and kept in the stored
payload; for this centre's own version or older, unknown fields are refused), a UUID ``event_id``,
topic site/gate equal to the payload's, no NUL (PostgreSQL text and jsonb refuse it), clock skew (an ``occurred_at``
too far in the future of the centre's clock; late events are normal, an outbox may drain days later).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from edge.events.models import SCHEMA_VERSION, AnyEvent, parse_event
from edge.mqtt.topics import parse_topic

EXCERPT_BYTES = 4096
SUPPORTED_MAJOR = SCHEMA_VERSION.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 65536
    max_future_skew_s: float = 86400.0
    max_past_age_s: float = 400 * 86400.0


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: uuid.UUID
    event_type: str
    site_id: str
    gate_id: str
    session_id: str | None
    occurred_at: dt.datetime
    payload: str


@dataclass(frozen=True, slots=True)
class Rejection:
    topic: str
    reason: str
    payload_bytes: int
    excerpt: bytes
    payload_sha256: bytes  # of the whole payload: one ``rejected`` row per distinct message


def rejection(topic: str, reason: str, payload: bytes) -> Rejection:
    return Rejection(
        topic=topic[:300],
        reason=reason,
        payload_bytes=len(payload),
        excerpt=payload[:EXCERPT_BYTES],
        payload_sha256=hashlib.sha256(payload).digest(),
    )


def _minor(version: str) -> int:
    _, _, minor = version.partition(".")
    return int(minor) if minor.isdigit() else 0


def _without(data: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    """Delete the key at pydantic's error location ``loc`` (whose first item may be the union's tag) from ``data``."""
    path = list(loc[1:] if loc and loc[0] not in data else loc)
    node: Any = data
    for key in path[:-1]:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _parse(data: dict[str, Any], version: str) -> AnyEvent:
    """The event; a newer MINOR version's unknown fields are left out of the check (receivers ignore them)."""
    try:
        return parse_event(data)
    except ValidationError as exc:
        errors = exc.errors()
        if _minor(version) <= _minor(SCHEMA_VERSION) or any(e["type"] != "extra_forbidden" for e in errors):
            raise
        known = copy.deepcopy(data)
        for error in errors:
            _without(known, tuple(error["loc"]))
        return parse_event(known)


def classify(topic: str, payload: bytes, now: dt.datetime, limits: Limits = Limits()) -> EventRow | Rejection:
    """Validate one message on an events topic; ``now`` is the centre's UTC clock."""
    if len(payload) > limits.max_payload_bytes:
        return rejection(topic, f"E_PAYLOAD_TOO_LARGE: {len(payload)} bytes > {limits.max_payload_bytes}", payload)
    parts = parse_topic(topic)
    if parts is None or parts.kind != "events":
        return rejection(topic, "E_TOPIC: not an examgate/v1/{site}/{gate}/events/{type} topic", payload)
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        return rejection(topic, f"E_NOT_JSON: {type(exc).__name__}", payload)
    if not isinstance(data, dict):
        return rejection(topic, "E_NOT_JSON: not a JSON object", payload)
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, str) or version.split(".", 1)[0] != SUPPORTED_MAJOR:
        return rejection(topic, f"E_SCHEMA_VERSION: {str(version)[:20]!r} is not {SUPPORTED_MAJOR}.x", payload)
    try:
        event = _parse(data, version)
    except ValidationError as exc:
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        return rejection(topic, f"E_EVENT_INVALID: {exc.error_count()} error(s) at {where}", payload)
    try:
        event_id = uuid.UUID(event.event_id)
    except ValueError:
        return rejection(topic, "E_EVENT_INVALID: event_id is not a UUID", payload)
    if (parts.site_id, parts.gate_id) != (event.site_id, event.gate_id) or parts.name != event.event_type:
        return rejection(topic, "E_TOPIC_MISMATCH: topic site/gate/type differ from the event's", payload)
    text = payload.decode("utf-8")
    if "\\u0000" in text or "\x00" in text:
        return rejection(topic, "E_EVENT_INVALID: NUL character in a string", payload)
    skew_s = (event.occurred_at - now).total_seconds()
    if skew_s > limits.max_future_skew_s:
        return rejection(topic, f"E_CLOCK_SKEW: occurred_at {skew_s:.0f} s ahead of the centre's clock", payload)
    if -skew_s > limits.max_past_age_s:
        return rejection(topic, f"E_CLOCK_SKEW: occurred_at {-skew_s / 86400:.0f} days in the past", payload)
    return EventRow(
        event_id=event_id,
        event_type=event.event_type,
        site_id=event.site_id,
        gate_id=event.gate_id,
        session_id=event.session_id,
        occurred_at=event.occurred_at,
        payload=text,
    )
