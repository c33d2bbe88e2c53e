"""PostgreSQL ingest on a real mosquitto and a real PostgreSQL: migrations, batching, dedup, share group, rejects."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import psycopg
import pytest
from central_helpers import (
    SITE,
    admitted,
    close,
    publish,
    publish_raw,
    publisher,
    rows,
    scalar,
    status_event,
    wait_until,
    worker,
)
from mqtt_broker import Mosquitto

from edge.central import db
from edge.central.errors import CentralDbError, CentralSchemaError
from edge.events import SCHEMA_VERSION
from edge.mqtt.topics import event_topic


def test_migrate_creates_versioned_partitioned_schema_and_is_rerunnable(pg_dsn: str) -> None:
    assert db.migrate(pg_dsn) == (0, db.LATEST)
    assert db.migrate(pg_dsn) == (db.LATEST, db.LATEST)
    assert scalar(pg_dsn, "SELECT count(*) FROM schema_version") == db.LATEST
    kind = scalar(pg_dsn, "SELECT relkind FROM pg_class WHERE relname = 'events'")
    assert kind == "p"  # partitioned
    key = scalar(pg_dsn, "SELECT pg_get_partkeydef('events'::regclass)")
    assert key == "RANGE (occurred_at)"
    indexes = {r[0] for r in rows(pg_dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'events'")}
    assert {"events_site_time", "events_session", "events_gate_time"} <= indexes


def test_migration_2_merges_the_repeats_a_version_1_database_kept(pg_dsn: str) -> None:
    version, description, sql = db.MIGRATIONS[0]
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(sql)
        conn.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)", (version, description))
        insert = (
            "INSERT INTO rejected (topic, reason, payload_bytes, payload_excerpt) VALUES ('t', 'E_NOT_JSON', %s, %s)"
        )
        for excerpt in (b"bad", b"bad", b"bad", b"other"):
            conn.execute(insert, (len(excerpt), excerpt))
    assert db.migrate(pg_dsn) == (1, db.LATEST)
    got = rows(pg_dsn, "SELECT payload_excerpt, deliveries FROM rejected ORDER BY id")
    assert [(bytes(e), n) for e, n in got] == [(b"bad", 3), (b"other", 1)]


def test_newer_schema_in_the_database_is_refused(pg_dsn: str) -> None:
    db.migrate(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("INSERT INTO schema_version (version, description) VALUES (%s, 'future')", (db.LATEST + 1,))
    with pytest.raises(CentralSchemaError) as err:
        db.migrate(pg_dsn)
    assert err.value.code == "E_CENTRAL_SCHEMA"


def test_bad_dsn_is_a_typed_error() -> None:
    with pytest.raises(CentralDbError) as err:
        db.migrate("host=127.0.0.1 port=1 user=nobody dbname=none connect_timeout=2")
    assert err.value.code == "E_CENTRAL_DB"
    assert "cannot connect" in err.value.message


def test_share_group_splits_batches_deduplicates_and_rejects(broker: Mosquitto, pg_dsn: str) -> None:
    db.migrate(pg_dsn)
    workers = [worker(broker, pg_dsn, f"w{n}", batch=7) for n in range(2)]
    pub = publisher(broker.port)
    events = [status_event(i) for i in range(60)]
    try:
        for ev in events:
            publish(pub, ev)
        publish(pub, events[0])  # a redelivery: same event_id
        assert wait_until(lambda: sum(w.counters.snapshot()["acked"] for w in workers) >= 61, 15)
    finally:
        close(pub)
        for w in workers:
            w.stop()
    assert scalar(pg_dsn, "SELECT count(*) FROM events") == 60
    assert scalar(pg_dsn, "SELECT count(DISTINCT event_id) FROM events") == 60
    totals = [w.counters.snapshot() for w in workers]
    assert sum(t["stored"] for t in totals) == 60
    assert sum(t["duplicates"] for t in totals) == 1
    assert all(t["stored"] > 0 for t in totals)  # the group really shared the load
    assert max(t["batches"] for t in totals) > 1
    month = db.partition_name(db.month_start(events[0].occurred_at))
    assert scalar(pg_dsn, f"SELECT count(*) FROM {month}") == 60  # routed to the month's partition
    assert scalar(pg_dsn, "SELECT count(*) FROM events_default") == 0
    payload = scalar(pg_dsn, "SELECT payload FROM events WHERE event_id = %s", uuid.UUID(events[5].event_id))
    assert payload["details"] == {"i": "5"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json at all \xff", "E_NOT_JSON"),
        (b"[1, 2]", "E_NOT_JSON"),
        (json.dumps({"schema_version": "2.0", "event_type": "device.status"}).encode(), "E_SCHEMA_VERSION"),
        (b'{"event_type": "device.status", "nope": 1}', "E_EVENT_INVALID"),
        (b"x" * (1024 * 1024), "E_PAYLOAD_TOO_LARGE"),
    ],
    ids=["not-json", "json-array", "schema-v2", "invalid-fields", "1MB"],
)
def test_bad_payload_lands_in_rejected_with_reason(broker: Mosquitto, pg_dsn: str, payload: bytes, reason: str) -> None:
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "rej", group=f"g-{uuid.uuid4().hex[:6]}")
    pub = publisher(broker.port)
    good = status_event(1)
    try:
        publish_raw(pub, event_topic(SITE, "gate-a", "device.status"), payload)
        publish(pub, good)  # the worker goes on after a bad message
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 2, 10)
    finally:
        close(pub)
        ing.stop()
    got = rows(pg_dsn, "SELECT reason, payload_bytes, length(payload_excerpt) FROM rejected")
    assert len(got) == 1
    assert got[0][0].startswith(reason), got
    assert got[0][1] == len(payload)
    assert got[0][2] == min(len(payload), 4096)
    assert scalar(pg_dsn, "SELECT count(*) FROM events") == 1


def test_newer_minor_version_fields_are_ignored_and_kept(broker: Mosquitto, pg_dsn: str) -> None:
    """A gate one MINOR version ahead adds an optional field: stored with it; the same field in this centre's own
    version (or a wrong value in a known field of the newer one) is refused."""
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "minor", group=f"g-{uuid.uuid4().hex[:6]}")
    pub = publisher(broker.port)
    major, minor = SCHEMA_VERSION.split(".")
    newer = f"{major}.{int(minor) + 1}"
    sent = []
    for version, extra in ((newer, {"future_field": 1}), (SCHEMA_VERSION, {"future_field": 1}), (newer, {"state": 5})):
        data = {**json.loads(status_event(len(sent)).model_dump_json()), "schema_version": version, **extra}
        sent.append(data)
    try:
        for data in sent:
            publish_raw(pub, event_topic(SITE, "gate-a", "device.status"), json.dumps(data).encode())
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 3, 10)
    finally:
        close(pub)
        ing.stop()
    stored = rows(pg_dsn, "SELECT event_id::text, payload->>'future_field', payload->>'schema_version' FROM events")
    assert stored == [(sent[0]["event_id"], "1", newer)]
    reasons = sorted(r[0] for r in rows(pg_dsn, "SELECT reason FROM rejected"))
    assert len(reasons) == 2 and all(r.startswith("E_EVENT_INVALID") for r in reasons)


def test_rejected_keeps_one_row_per_distinct_message(broker: Mosquitto, pg_dsn: str) -> None:
    """The same bad message twice is one row with deliveries 2; two big ones alike in their first 4 KiB are two."""
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "rej1", group=f"g-{uuid.uuid4().hex[:6]}")
    pub = publisher(broker.port)
    topic = event_topic(SITE, "gate-a", "device.status")
    head = b"x" * 70_000
    try:
        for payload in (b"not json", b"not json", head + b"A", head + b"B"):
            publish_raw(pub, topic, payload)
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 4, 10)
    finally:
        close(pub)
        ing.stop()
    got = rows(pg_dsn, "SELECT payload_bytes, deliveries, last_received_at >= received_at FROM rejected ORDER BY id")
    assert got == [(8, 2, True), (70_001, 1, None), (70_001, 1, None)]


def test_topic_must_match_the_event(broker: Mosquitto, pg_dsn: str) -> None:
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "mm", group=f"g-{uuid.uuid4().hex[:6]}")
    pub = publisher(broker.port)
    try:
        publish(pub, status_event(1, gate_id="gate-b"), topic=event_topic(SITE, "gate-a", "device.status"))
        publish(pub, status_event(2), topic=event_topic(SITE, "gate-a", "gate.opened"))
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 2, 10)
    finally:
        close(pub)
        ing.stop()
    reasons = [r[0] for r in rows(pg_dsn, "SELECT reason FROM rejected ORDER BY id")]
    assert len(reasons) == 2
    assert all(r.startswith("E_TOPIC_MISMATCH") for r in reasons)
    assert scalar(pg_dsn, "SELECT count(*) FROM events") == 0


def test_clock_skew_between_gates(broker: Mosquitto, pg_dsn: str) -> None:
    """Gates minutes apart are stored as they said; a month-old outbox drains into its own partition; a clock
    days ahead of the centre's is rejected with its payload kept."""
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "skew", group=f"g-{uuid.uuid4().hex[:6]}")
    pub = publisher(broker.port)
    now = dt.datetime.now(dt.UTC)
    ahead = status_event(1, gate_id="gate-a", occurred_at=now + dt.timedelta(minutes=7))
    behind = status_event(2, gate_id="gate-b", occurred_at=now - dt.timedelta(minutes=9))
    old = status_event(3, gate_id="gate-c", occurred_at=now - dt.timedelta(days=45))
    future = status_event(4, gate_id="gate-d", occurred_at=now + dt.timedelta(days=3))
    try:
        for ev in (ahead, behind, old, future):
            publish(pub, ev)
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 4, 10)
    finally:
        close(pub)
        ing.stop()
    stored = {r[0]: r[1] for r in rows(pg_dsn, "SELECT gate_id, occurred_at FROM events")}
    assert set(stored) == {"gate-a", "gate-b", "gate-c"}
    assert stored["gate-a"] == ahead.occurred_at
    assert stored["gate-b"] == behind.occurred_at
    old_part = db.partition_name(db.month_start(old.occurred_at))
    assert scalar(pg_dsn, f"SELECT count(*) FROM {old_part}") == 1
    reason = scalar(pg_dsn, "SELECT reason FROM rejected")
    assert reason.startswith("E_CLOCK_SKEW")
    excerpt = bytes(scalar(pg_dsn, "SELECT payload_excerpt FROM rejected"))
    assert json.loads(excerpt)["event_id"] == future.event_id


def test_unknown_gate_is_stored_and_listed_as_unknown(broker: Mosquitto, pg_dsn: str) -> None:
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "unk", group=f"g-{uuid.uuid4().hex[:6]}")
    pub = publisher(broker.port)
    try:
        publish(pub, admitted("C1", gate_id="gate-new"))
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 1, 10)
    finally:
        close(pub)
        ing.stop()
    assert scalar(pg_dsn, "SELECT count(*) FROM events WHERE gate_id = 'gate-new'") == 1
    assert rows(pg_dsn, "SELECT state, status_at FROM gates WHERE gate_id = 'gate-new'") == [("unknown", None)]


def test_a_row_postgres_refuses_is_rejected_without_losing_the_batch(broker: Mosquitto, pg_dsn: str) -> None:
    """A NUL escape passes JSON parsing but jsonb refuses it: the worker rejects it before it can poison a batch."""
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "nul", group=f"g-{uuid.uuid4().hex[:6]}", batch=50, linger_s=0.5)
    pub = publisher(broker.port)
    bad = status_event(1).model_dump_json().replace('"i":"1"', '"i":"a\\u0000b"').encode()
    try:
        publish(pub, status_event(0))
        publish_raw(pub, event_topic(SITE, "gate-a", "device.status"), bad)
        publish(pub, status_event(2))
        assert wait_until(lambda: ing.counters.snapshot()["acked"] >= 3, 10)
    finally:
        close(pub)
        ing.stop()
    assert scalar(pg_dsn, "SELECT count(*) FROM events") == 2
    assert scalar(pg_dsn, "SELECT reason FROM rejected").startswith("E_EVENT_INVALID")
