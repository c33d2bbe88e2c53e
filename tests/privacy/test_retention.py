"""Retention per category: roster rows and attempt records go after their own periods; the audit chain survives."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from privacy_helpers import write_config

from edge.cli.main import main
from edge.config import load_config
from edge.errors import ConfigError
from edge.privacy.retention import purge_expired_records


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_nothing_recent_is_deleted(gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "gate.db"
    before = {t: count(db, t) for t in ("roster", "attempts", "decisions", "reviews")}
    assert main(["privacy", "purge-expired", "--json", "--config", str(gate)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["roster_rows"] == 0 and result["attempts"] == 0
    assert {t: count(db, t) for t in before} == before


def test_each_category_goes_after_its_own_period(gate: Path, tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    attempts = count(db, "attempts")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=100)
    # 100 days on: past the roster period (90), within the attempts period (365)
    first = purge_expired_records(db, later, roster_days=90, attempt_days=365)
    assert first["roster_rows"] > 0 and count(db, "roster") == 0
    assert first["attempts"] == 0 and count(db, "attempts") == attempts
    much_later = later + dt.timedelta(days=300)
    second = purge_expired_records(db, much_later, roster_days=90, attempt_days=365)
    assert second["attempts"] == attempts and second["decisions"] > 0
    for table in ("attempts", "decisions", "reviews", "assisted_admissions", "admissions", "face_evidence"):
        assert count(db, table) == 0, table
    # the chain keeps only masked IDs and hashes: it still verifies after its records are gone
    assert main(["audit", "verify", "--config", str(gate)]) == 0
    conn = sqlite3.connect(db)
    actions = [a for (a,) in conn.execute("SELECT action FROM audit_log WHERE action LIKE 'privacy.%'")]
    conn.close()
    assert actions.count("privacy.purge_expired_records") == 2


def test_periods_are_configurable_and_checked(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, "roster_retention_days = 30\nattempt_retention_days = 180\nevents_retention_days = 7"
    )
    privacy = load_config(config).privacy
    assert (privacy.roster_retention_days, privacy.attempt_retention_days, privacy.events_days) == (30, 180, 7)
    with pytest.raises(ConfigError):
        load_config(write_config(tmp_path, "roster_retention_days = 0"))
