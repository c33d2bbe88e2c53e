"""The versioned event schema: the one source for MQTT payloads, SQLite rows, the API and the JSON Schema."""

from edge.events.models import (
    SCHEMA_VERSION,
    AnyEvent,
    Event,
    Subject,
    event_to_json,
    parse_event,
)

__all__ = ["SCHEMA_VERSION", "AnyEvent", "Event", "Subject", "event_to_json", "parse_event"]
