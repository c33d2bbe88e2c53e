"""Store robustness over a gate's life: databases written by every earlier schema version open and keep their data;
a newer database is refused; SIGKILL at random moments (a power cut as the process sees it) loses no committed
decision and leaves the audit chain intact."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.clock import iso_ms
from edge.errors import StoreError
from edge.events.models import CandidateRejected, Subject
from edge.store import Store
from edge.store import audit as audit_chain
from edge.store.db import SCHEMA_VERSION, current_version
from edge.store.migrations import MIGRATIONS

HERE = Path(__file__).resolve().parent
PERSONAL_ID = "001099012345"


def build_old_database(path: Path, version: int) -> None:
    """A database as release ``version`` left it: migrations 1..version only, with a row in every table."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    current_version(conn)  # creates schema_version
    for number, script in MIGRATIONS:
        if number > version:
            break
        conn.execute("BEGIN")
        for statement in (s.strip() for s in script.split(";")):
            if statement:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (number, iso_ms()))
        conn.execute("COMMIT")
    stamp = iso_ms()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO exam_sessions (session_id, name, created_at) VALUES ('S-OLD', 'morning', ?)", (stamp,))
    conn.execute(
        "INSERT INTO roster (session_id, candidate_id, personal_id, full_name, birth_date, photo, updated_at) "
        "VALUES ('S-OLD', 'C1', ?, 'Nguyễn Văn An', '1999-01-01', ?, ?)",
        (PERSONAL_ID, b"\xff\xd8photo", stamp),
    )
    conn.execute(
        "INSERT INTO attempts (attempt_id, session_id, candidate_id, id_masked, credential, started_at) "
        "VALUES ('A-OLD', 'S-OLD', 'C1', '0010******45', 'chip', ?)",
        (stamp,),
    )
    conn.execute(
        "INSERT INTO decisions (attempt_id, outcome, reason_codes, face_score, thresholds_version, model_version, "
        "event_id, decided_at) VALUES ('A-OLD', 'review', '[\"FACE_GREY_ZONE\"]', 0.55, 't0', 'm0', 'E-OLD', ?)",
        (stamp,),
    )
    conn.execute(
        "INSERT INTO reviews (attempt_id, reasons, requested_at) VALUES ('A-OLD', '[\"FACE_GREY_ZONE\"]', ?)", (stamp,)
    )
    conn.execute(
        "INSERT INTO admissions (session_id, candidate_id, gate_id, event_id, admitted_at) "
        "VALUES ('S-OLD', 'C0', 'lane-9', 'E-REMOTE', ?)",
        (stamp,),
    )
    conn.execute(
        "INSERT INTO outbox (event_id, event_type, payload, created_at) VALUES ('E-OLD', 'candidate.review_requested', "
        "'{}', ?)",
        (stamp,),
    )
    conn.execute(
        "INSERT INTO processed_commands (command_id, name, reply, processed_at) VALUES ('K1', 'ping', '{}', ?)",
        (stamp,),
    )
    audit_chain.append(conn, stamp, "lane", "decision.review", {"attempt_id": "A-OLD"})
    if version >= 2:
        conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at, password_changed_at) "
            "VALUES ('lan', 'proctor', 'x', ?, ?)",
            (stamp, stamp),
        )
        conn.execute(
            "INSERT INTO assisted_admissions (attempt_id, officer, credential) VALUES ('A-OLD', 'lan', 'vneid_level2')"
        )
    if version >= 3:
        conn.execute(
            "INSERT INTO face_evidence (attempt_id, kind, key_id, nonce, ciphertext, created_at, expires_at) "
            "VALUES ('A-OLD', 'live', 'deadbeef', ?, ?, ?, '2099-01-01T00:00:00.000Z')",
            (b"n" * 12, b"c" * 40, stamp),
        )
    conn.execute("COMMIT")
    conn.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_database_from_every_schema_version_opens_and_keeps_data(tmp_path: Path, version: int) -> None:
    db = tmp_path / "gate.db"
    build_old_database(db, version)
    store = Store.open(db)
    try:
        conn = sqlite3.connect(db)
        assert current_version(conn) == SCHEMA_VERSION
        applied = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert applied == list(range(1, SCHEMA_VERSION + 1))
        entry = store.find_candidate("S-OLD", PERSONAL_ID)
        assert entry is not None and entry.full_name == "Nguyễn Văn An" and entry.photo == b"\xff\xd8photo"
        assert store.decision_counts("S-OLD") == {"review": 1}
        assert [r.attempt_id for r in store.pending_reviews()] == ["A-OLD"]
        assert store.admission_of("S-OLD", "C0") == ("lane-9", "E-REMOTE")
        assert [r.event_id for r in store.outbox_pending(10)] == ["E-OLD"]
        assert store.command_reply("K1") == "{}"
        report = store.verify_audit()
        assert report.ok and report.rows == 1, report.problems
        # the upgraded database takes the current release's writes
        store.save_evidence("A-OLD", "chip", "cafebabe", b"n" * 12, b"x" * 32, dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
        assert store.load_evidence("A-OLD", "chip") == ("cafebabe", b"n" * 12, b"x" * 32)
        store.audit("technician", "selftest", {"ok": True})
        assert store.verify_audit().rows == 2
    finally:
        store.close()
    again = Store.open(db)  # reopening migrates nothing
    assert current_version(sqlite3.connect(db)) == SCHEMA_VERSION
    again.close()


def test_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """What a rollback without restoring the backup meets: the older code will not touch the newer schema."""
    db = tmp_path / "gate.db"
    build_old_database(db, SCHEMA_VERSION)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION + 1, iso_ms()))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as err:
        Store.open(db)
    assert err.value.code == "E_STORE_SCHEMA_NEWER"
    assert "backup" in err.value.remedy
    # and nothing was changed by the refusal
    assert current_version(sqlite3.connect(db)) == SCHEMA_VERSION + 1


# ------------------------------------------------------------------ power cut
def committed_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line]


def test_sigkill_at_random_points_loses_no_committed_decision(tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    ids_file = tmp_path / "committed.txt"
    rng = random.Random(20261125)
    kills = 5
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")])}
    for round_no in range(kills):
        before = len(committed_ids(ids_file))
        child = subprocess.Popen(
            [sys.executable, str(HERE / "powercut_writer.py"), str(db), str(ids_file), f"R{round_no}"],
            env=env,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while len(committed_ids(ids_file)) <= before:  # wait until it is committing
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the writer never committed"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))  # then cut the power at a random moment
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
        if child.stderr is not None:
            child.stderr.close()
    returned = committed_ids(ids_file)
    assert len(returned) > kills
    print(f"{len(returned)} decisions returned over {kills} kills")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = Store.open(db)
    try:
        report = store.verify_audit()
        assert report.ok, report.problems
        rows = sqlite3.connect(db).execute("SELECT attempt_id FROM decisions").fetchall()
        stored = {a for (a,) in rows}
        missing = [a for a in returned if a not in stored]
        assert not missing, f"{len(missing)} committed decision(s) lost: {missing[:5]}"
        # at most one commit per kill can have landed without its id reaching the file
        assert len(stored) - len(returned) <= kills
        assert report.rows == len(stored)  # one audit row per decision, no partial transaction
        (outbox_rows,) = sqlite3.connect(db).execute("SELECT COUNT(*) FROM outbox").fetchone()
        assert outbox_rows == len(stored)  # one event per decision, in the same transaction
        # and the store still takes writes after the last cut
        store.record_decision(
            CandidateRejected(
                site_id="S1",
                gate_id="lane-1",
                session_id="SES-CUT",
                attempt_id="after",
                subject=Subject(candidate_id="Z"),
                thresholds_version="t1",
                match_threshold=0.6,
                review_threshold=0.5,
            )
        )
        assert store.verify_audit().ok
    finally:
        store.close()
