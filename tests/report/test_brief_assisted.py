"""Question 3 of the brief: admissions without a chip card, per credential and officer, from real store rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edge.events.models import Credential, DecisionFields, Stamp, Subject, decision_event
from edge.report.brief import build_brief
from edge.report.cost import DEFAULT_INPUTS
from edge.report.queries import Period
from edge.store import Store

REPO = Path(__file__).resolve().parents[2]
SESSION = "SES-Q3"


@dataclass(frozen=True)
class Assisted:
    officer: str
    commitment_signed: bool
    note: str = ""


def admit(store: Store, n: int, credential: Credential, assisted: Assisted | None) -> None:
    fields = DecisionFields(
        attempt_id=f"A{n}",
        subject=Subject(candidate_id=f"SBD-{n}", id_masked="0010******45"),
        credential=credential,
        reason_codes=("FACE_MATCH",) if assisted is None else ("FACE_MATCH", f"ASSISTED_{credential.upper()}"),
        face_score=0.97,
        thresholds_version="cal-20260101-00000000",
        match_threshold=0.93,
        review_threshold=0.9,
        notice_version="vi-2026-01",
        legal_basis="pdpl-91-2025-legal-duty",
    )
    event = decision_event("pass", Stamp("site", "lane-1", SESSION), fields)
    store.record_decision(event, assisted=assisted)


def test_assisted_admissions_per_credential_and_officer(tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    store = Store.open(db)
    try:
        store.ensure_session(SESSION, name="Q3")
        plan: list[tuple[Credential, Assisted | None]] = [
            ("chip", None),
            ("chip", None),
            ("chip", None),
            ("vneid_level2", Assisted("canbo:lan", True)),
            ("vneid_level2", Assisted("canbo:minh", True)),
            ("manual_old_cmnd", Assisted("canbo:lan", False)),
        ]
        for n, (credential, assisted) in enumerate(plan):
            admit(store, n, credential, assisted)
    finally:
        store.close()
    html = build_brief(
        db, tmp_path / "out", Period(session_id=SESSION), REPO / "models" / "thresholds.toml", DEFAULT_INPUTS, "en"
    ).read_text("utf-8")
    credentials = re.search(r'<table id="credentials">(.*?)</table>', html, re.S)
    assert credentials
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"n\">(\d+)</td><td class=\"n\">([^<]+)</td></tr>", credentials.group(1)
    )
    assert ("Chip ID card (chip read)", "3", "50.0 %") in rows
    assert ("VNeID level 2", "2", "33.3 %") in rows
    assert ("Old CMND", "1", "16.7 %") in rows
    assert "Assisted admissions: 3 of 6 candidates (50.0 %); 2 signed commitments." in html
    officers = re.search(r'<table id="officers">(.*?)</table>', html, re.S)
    assert officers
    assert '<td>VNeID level 2</td><td>canbo:lan</td><td class="n">1</td>' in officers.group(1)
    assert '<td>Old CMND</td><td>canbo:lan</td><td class="n">1</td>' in officers.group(1)
    assert "<td>vi-2026-01</td>" in html.replace("<code>", "").replace("</code>", "")
