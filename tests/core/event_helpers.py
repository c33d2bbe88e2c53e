"""Decision events for the store tests (imported as a plain module: tests/ is not a package; the power-cut writer of
tests/ops, run as a script, puts this folder on sys.path itself)."""

from __future__ import annotations

from typing import Any

from edge.events.models import DecisionEvent, Subject


def decision_event(kind: type[DecisionEvent], attempt: str, candidate_id: str = "C1", **fields: Any) -> DecisionEvent:
    """A decision of ``kind`` at lane-1 of site S1, session SES1, on a face match at 0.8 (``fields`` change any)."""
    shared: dict[str, Any] = {
        "site_id": "S1",
        "gate_id": "lane-1",
        "session_id": "SES1",
        "attempt_id": attempt,
        "subject": Subject(candidate_id=candidate_id, id_masked="0010******45"),
        "reason_codes": ("FACE_MATCH",),
        "face_score": 0.8,
        "thresholds_version": "t1",
        "match_threshold": 0.6,
        "review_threshold": 0.5,
        "model_version": "m1",
    }
    return kind(**{**shared, **fields})
