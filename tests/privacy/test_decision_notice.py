"""Every decision event of a real lane run records the legal basis and the version of the notice shown."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from edge.events.models import DecisionFields
from edge.privacy.notice import load_notice

DECISIONS = ("candidate.admitted", "candidate.rejected", "candidate.review_requested")


def test_decision_events_carry_legal_basis_and_notice_version(demo_workdir: Path) -> None:
    notice = load_notice()
    conn = sqlite3.connect(demo_workdir / "examgate.db")
    try:
        payloads = [
            json.loads(p)
            for (p,) in conn.execute(
                f"SELECT payload FROM outbox WHERE event_type IN ({','.join('?' * len(DECISIONS))})", DECISIONS
            )
        ]
    finally:
        conn.close()
    assert payloads
    for event in payloads:
        assert event["notice_version"] == notice.version, event["event_type"]
        assert event["legal_basis"] == notice.legal_basis


def test_the_fields_are_optional_for_older_events() -> None:
    fields = DecisionFields.model_fields
    assert not fields["notice_version"].is_required() and not fields["legal_basis"].is_required()
