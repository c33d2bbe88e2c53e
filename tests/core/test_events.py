"""Event schema: round trips, time format, and the committed JSON Schema must match the models."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.events.models import EVENT_TYPES, CandidateAdmitted, DeviceFault, Subject, json_schema, parse_event
from edge.events.schema import committed_schema_path, render_schema


def test_committed_schema_matches_models(repo_root: Path) -> None:
    path = committed_schema_path(repo_root)
    assert path.read_text(encoding="utf-8") == render_schema(), "run `make schemas` and commit schemas/"


def test_schema_lists_every_event_type() -> None:
    text = json.dumps(json_schema())
    for name in EVENT_TYPES:
        assert f'"{name}"' in text


def test_round_trip_and_time_format() -> None:
    event = CandidateAdmitted(
        site_id="S",
        gate_id="g",
        session_id="X",
        occurred_at=dt.datetime(2026, 11, 25, 7, 30, 1, 123456, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        attempt_id="a",
        subject=Subject(candidate_id="C1", id_masked="0010******45"),
        thresholds_version="t",
        match_threshold=0.6,
        review_threshold=0.5,
    )
    data = json.loads(event.model_dump_json())
    assert data["occurred_at"] == "2026-11-25T00:30:01.123Z"
    assert data["event_type"] == "candidate.admitted"
    assert data["event_id"][14] == "7"  # UUID version 7
    assert parse_event(event.model_dump_json()) == event


def test_event_ids_are_time_ordered() -> None:
    ids = [
        DeviceFault(site_id="s", gate_id="g", device="reader", code="c", message="m", remedy="r").event_id
        for _ in range(50)
    ]
    assert ids == sorted(ids)


def test_unknown_fields_and_types_are_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_event({"event_type": "candidate.teleported", "site_id": "s", "gate_id": "g"})
    good = json.loads(
        DeviceFault(site_id="s", gate_id="g", device="reader", code="c", message="m", remedy="r").model_dump_json()
    )
    with pytest.raises(ValidationError):
        parse_event({**good, "face_embedding": [0.1, 0.2]})
    with pytest.raises(ValidationError):
        CandidateAdmitted.model_validate({**good, "occurred_at": "2026-01-01T00:00:00"})
