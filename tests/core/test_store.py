"""The SQLite store: one transaction per decision, a tamper-evident audit chain, typed errors when the disk fails."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from event_helpers import decision_event

from edge.errors import StoreError
from edge.events.models import (
    CandidateAdmitted,
    CandidateRejected,
    CandidateReviewRequested,
    DecisionEvent,
    DeviceStatus,
    ReviewResolved,
    Subject,
    parse_event,
)
from edge.store import RosterRow, Store
from edge.store.db import SCHEMA_VERSION, current_version

BASE = {"site_id": "S1", "gate_id": "lane-1", "session_id": "SES1"}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "gate.db")
    s.replace_roster("SES1", [RosterRow("C1", "001099012345", "Nguyễn Văn An")])
    return s


def decide(store: Store, attempt: str, kind: type[DecisionEvent] = CandidateAdmitted) -> DecisionEvent:
    """A decision of the event's kind (its outcome: pass, review or fail) through the store."""
    event = decision_event(kind, attempt)
    store.record_decision(event)
    return event


def test_pragmas_and_schema(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "gate.db")
    conn = sqlite3.connect(tmp_path / "gate.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert current_version(conn) == SCHEMA_VERSION
    s.close()
    again = Store.open(tmp_path / "gate.db")  # reopening migrates nothing and keeps data
    assert again.verify_audit().ok


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path / "gate.db").close()
    conn = sqlite3.connect(tmp_path / "gate.db")
    conn.execute("INSERT INTO schema_version VALUES (999, 'future')")
    conn.commit()
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "gate.db")
    assert info.value.code == "E_STORE_SCHEMA_NEWER"


def test_decision_writes_everything_in_one_transaction(store: Store) -> None:
    event = decide(store, "a1")
    assert store.is_admitted("SES1", "C1")
    rows = store.outbox_pending(10)
    assert [r.event_id for r in rows] == [event.event_id]
    assert parse_event(rows[0].payload) == event
    report = store.verify_audit()
    assert report.ok and report.rows == 2  # roster import + decision


def test_second_pass_keeps_the_first_admission(store: Store) -> None:
    first = decide(store, "a1")
    decide(store, "a2")  # anti-passback off, or a remote admission raced in: recorded, never a crash
    assert store.admission_of("SES1", "C1") == ("lane-1", first.event_id)
    assert store.outbox_backlog() == 2
    assert store.verify_audit().ok


def test_a_failed_decision_leaves_nothing(store: Store) -> None:
    decide(store, "a1")
    before = (store.outbox_backlog(), store.verify_audit().rows)
    with pytest.raises(StoreError):
        decide(store, "a1")  # the same attempt decided twice: the decisions key refuses it, all rolled back
    assert (store.outbox_backlog(), store.verify_audit().rows) == before


def test_outbox_order_and_mark_sent(store: Store) -> None:
    events = [DeviceStatus.model_validate({**BASE, "state": "ready"}) for _ in range(5)]
    for e in events:
        store.append_event(e)
    pending = store.outbox_pending(3)
    assert [r.event_id for r in pending] == [e.event_id for e in events[:3]]
    store.outbox_mark_sent([pending[0].seq, pending[1].seq])
    assert [r.event_id for r in store.outbox_pending(10)] == [e.event_id for e in events[2:]]
    assert store.outbox_backlog() == 3
    age = store.outbox_oldest_pending_age_s()
    assert age is not None and age >= 0


def tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("UPDATE audit_log SET details = '{\"x\": 1}' WHERE seq = 2", "edited"),
        ("DELETE FROM audit_log WHERE seq = 2", "deleted"),
        ("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)", "tail deleted"),
        ("UPDATE audit_log SET actor = 'someone' WHERE seq = 1", "edited"),
    ],
)
def test_audit_verify_detects_tampering(store: Store, sql: str, words: str) -> None:
    for i in range(3):
        decide(store, f"a{i}", kind=CandidateRejected) if i == 0 else store.audit("t", "x", {"i": i})
    assert store.verify_audit().ok
    tamper(store.path, sql)
    report = store.verify_audit()
    assert not report.ok
    assert any(words in p for p in report.problems), report.problems


def test_disk_full_is_typed_and_atomic(store: Store) -> None:
    # Cap the file at its current size: the next write finds the "disk" full, as on a full partition.
    pages = store.db.conn.execute("PRAGMA page_count").fetchone()[0]
    store.db.conn.execute(f"PRAGMA max_page_count = {pages}")
    before = (store.outbox_backlog(), store.verify_audit().rows)

    def fill() -> None:
        for i in range(200):
            store.append_event(
                DeviceStatus.model_validate({**BASE, "state": "ready", "details": {"pad": "x" * 2000, "i": str(i)}})
            )

    with pytest.raises(StoreError) as info:
        fill()
    assert info.value.code == "E_STORE_DISK_FULL"
    assert "free space" in info.value.remedy
    after = (store.outbox_backlog(), store.verify_audit().rows)
    assert after[0] == after[1] - before[1] + before[0]  # every event that got in has its audit row: none half-written
    assert store.verify_audit().ok


def test_read_only_database_is_typed(tmp_path: Path) -> None:
    Store.open(tmp_path / "gate.db").close()
    ro = Store.open(tmp_path / "gate.db", read_only=True)
    with pytest.raises(StoreError) as info:
        ro.audit("t", "x", {})
    assert info.value.code == "E_STORE_READ_ONLY"


def test_missing_data_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "absent" / "gate.db")
    assert info.value.code == "E_STORE_OPEN_FAILED"


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "gate.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "gate.db")
    assert info.value.code == "E_STORE_OPEN_FAILED"


def test_review_resolves_exactly_once_under_contention(store: Store) -> None:
    decide(store, "r1", kind=CandidateReviewRequested)
    assert [r.attempt_id for r in store.pending_reviews()] == ["r1"]
    results: list[bool] = []

    def approve(name: str) -> None:
        event = ReviewResolved.model_validate(
            {**BASE, "attempt_id": "r1", "subject": Subject(), "approved": True, "operator": name, "reason": "ok"}
        )
        results.append(store.resolve_review("r1", True, name, "ok", event))

    threads = [threading.Thread(target=approve, args=(f"p{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.pending_reviews() == []
    assert store.is_admitted("SES1", "C1")


def test_roster_replace_upsert_and_digest(store: Store) -> None:
    d1 = store.upsert_roster("SES1", [RosterRow("C2", "001099000002", "B")])
    assert d1.count == 2
    d2 = store.replace_roster("SES1", [RosterRow("C2", "001099000002", "B")])
    assert d2.count == 1 and d2.sha256 != d1.sha256
    assert store.find_candidate("SES1", "001099012345") is None
    assert store.roster_digest("SES1") == d2


def test_remote_admission_and_commands(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    assert store.record_remote_admission("SES1", "C9", "lane-2", "e1", now)
    assert not store.record_remote_admission("SES1", "C9", "lane-3", "e2", now)
    assert store.admission_of("SES1", "C9") == ("lane-2", "e1")
    assert store.record_command("cmd-1", "ping", '{"status":"ok"}', "centre")
    assert not store.record_command("cmd-1", "ping", '{"status":"ok"}', "centre")
    assert store.command_reply("cmd-1") == '{"status":"ok"}'


def test_marking_sent_keeps_the_durability_setting_for_decisions(store: Store) -> None:
    store.append_event(DeviceStatus.model_validate({**BASE, "state": "ready"}))
    store.outbox_mark_sent([store.outbox_pending(1)[0].seq])
    assert store.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for the next decision
    assert store.outbox_backlog() == 0


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM audit_log; DELETE FROM audit_head",  # wiped to zero while decisions exist
        "DELETE FROM audit_log WHERE seq > 1; UPDATE audit_head SET last_seq = 1, "
        "last_hash = (SELECT row_hash FROM audit_log WHERE seq = 1)",  # rolled back to an earlier head
    ],
)
def test_audit_verify_detects_a_wiped_or_rolled_back_log(store: Store, sql: str) -> None:
    decide(store, "a1")
    assert store.verify_audit().ok
    conn = sqlite3.connect(store.path)
    conn.executescript(sql)
    conn.close()
    report = store.verify_audit()
    assert not report.ok
    assert any("decision" in p and "audit" in p for p in report.problems), report.problems


def test_audit_verify_detects_a_wiped_log_with_events_but_no_decisions(store: Store) -> None:
    """Issue 14 fault 3: a gate that has only published device status still anchors its log in the outbox."""
    store.append_event(DeviceStatus.model_validate({**BASE, "state": "ready"}))
    store.append_event(DeviceStatus.model_validate({**BASE, "state": "degraded"}))
    assert store.verify_audit().ok
    conn = sqlite3.connect(store.path)
    conn.executescript("DELETE FROM audit_log; DELETE FROM audit_head")
    conn.close()
    report = store.verify_audit()
    assert not report.ok
    assert report.rows == 0
    assert any("2 event(s) in the outbox have no audit row" in p for p in report.problems), report.problems
