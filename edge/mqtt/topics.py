"""The topic tree (stable; a MAJOR schema bump changes the ``v1`` prefix). Documented in docs/mqtt.md."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "examgate/v1"
_FORBIDDEN = frozenset("/+#\x00")


def _segment(value: str, what: str) -> str:
    if not value or any(ch in _FORBIDDEN for ch in value):
        raise ValueError(f"{what} {value!r} cannot be an MQTT topic segment (empty or contains / + # NUL)")
    return value


def event_topic(site_id: str, gate_id: str, event_type: str) -> str:
    """``examgate/v1/{site}/{gate}/events/{event_type}`` (QoS 1)."""
    return f"{PREFIX}/{_segment(site_id, 'site_id')}/{_segment(gate_id, 'gate_id')}/events/{event_type}"


def status_topic(site_id: str, gate_id: str) -> str:
    """``examgate/v1/{site}/{gate}/status`` (retained: online / offline / stopped)."""
    return f"{PREFIX}/{_segment(site_id, 'site_id')}/{_segment(gate_id, 'gate_id')}/status"


def command_topic(site_id: str, gate_id: str, name: str) -> str:
    """``examgate/v1/{site}/{gate}/cmd/{name}``."""
    return f"{PREFIX}/{_segment(site_id, 'site_id')}/{_segment(gate_id, 'gate_id')}/cmd/{name}"


def command_filter(site_id: str, gate_id: str) -> str:
    return f"{PREFIX}/{_segment(site_id, 'site_id')}/{_segment(gate_id, 'gate_id')}/cmd/+"


def reply_prefix(site_id: str, gate_id: str) -> str:
    """Replies go to the request's MQTT 5 response topic, which must live under this prefix (broker ACL)."""
    return f"{PREFIX}/{_segment(site_id, 'site_id')}/{_segment(gate_id, 'gate_id')}/reply/"


def default_reply_topic(site_id: str, gate_id: str, name: str) -> str:
    return reply_prefix(site_id, gate_id) + name


def admissions_filter(site_id: str) -> str:
    """Every gate's admissions at one site (anti-passback)."""
    return f"{PREFIX}/{_segment(site_id, 'site_id')}/+/events/candidate.admitted"


def events_filter(site_id: str | None = None) -> str:
    return f"{PREFIX}/{_segment(site_id, 'site_id') if site_id else '+'}/+/events/#"


def shared_events_filter(group: str) -> str:
    """MQTT 5 shared subscription spreading all sites' events over the consumers of ``group``."""
    return f"$share/{_segment(group, 'group')}/{events_filter()}"


@dataclass(frozen=True, slots=True)
class TopicParts:
    site_id: str
    gate_id: str
    kind: str  # "events" | "status" | "cmd" | "reply"
    name: str | None  # event type / command name / reply name


def parse_topic(topic: str) -> TopicParts | None:
    """Split a topic of this tree; None when it is not one of ours."""
    parts = topic.split("/")
    if len(parts) < 5 or f"{parts[0]}/{parts[1]}" != PREFIX:
        return None
    site_id, gate_id, kind = parts[2], parts[3], parts[4]
    if kind == "status" and len(parts) == 5:
        return TopicParts(site_id, gate_id, kind, None)
    if kind in ("events", "cmd", "reply") and len(parts) == 6 and parts[5]:
        return TopicParts(site_id, gate_id, kind, parts[5])
    return None
