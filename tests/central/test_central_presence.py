"""The gates table from retained status + Last Will, events' health and faults, and silent gates marked offline."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
import psycopg
from central_helpers import SITE, close, publish, publisher, rows, wait_until, worker
from mqtt_broker import Mosquitto
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.central import db, presence
from edge.events.models import DeviceFault, DeviceStatus
from edge.mqtt.status import make_status
from edge.mqtt.topics import status_topic


def gate_client(broker: Mosquitto, gate_id: str) -> mqtt.Client:
    """A gate-like client: retained ``online`` birth, ``offline`` Last Will."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{gate_id}-{uuid.uuid4().hex[:4]}", protocol=MQTTProtocolVersion.MQTTv5
    )
    will = make_status("offline", SITE, gate_id, versions={"examgate": "0.1.0"})
    client.will_set(status_topic(SITE, gate_id), will.payload(), qos=1, retain=True)
    client.connect("127.0.0.1", broker.port, keepalive=5)
    client.loop_start()
    birth = make_status("online", SITE, gate_id, versions={"examgate": "0.1.0", "model": "mfn-2"}, config_hash="abc")
    client.publish(status_topic(SITE, gate_id), birth.payload(), qos=1, retain=True).wait_for_publish(5)
    return client


def gate_row(dsn: str, gate_id: str) -> tuple[object, ...] | None:
    got = rows(
        dsn, "SELECT state, health, versions, config_hash, faults, last_fault FROM gates WHERE gate_id = %s", gate_id
    )
    return got[0] if got else None


def test_presence_from_birth_will_events_and_silence(private_broker: Callable[[], Mosquitto], pg_dsn: str) -> None:
    broker: Mosquitto = private_broker()
    db.migrate(pg_dsn)
    gate_a = gate_client(broker, "gate-a")
    gate_b = gate_client(broker, "gate-b")
    ing = worker(broker, pg_dsn, "ing", "gp")  # started after the births: they arrive as retained messages
    pub = publisher(broker.port)
    try:
        assert wait_until(lambda: gate_row(pg_dsn, "gate-b") is not None and gate_row(pg_dsn, "gate-a") is not None, 10)
        state, _h, versions, config_hash, _f, _lf = gate_row(pg_dsn, "gate-a")  # type: ignore[misc]
        assert (state, versions["model"], config_hash) == ("online", "mfn-2", "abc")
        publish(pub, DeviceStatus(site_id=SITE, gate_id="gate-a", state="degraded", details={"outbox_backlog": "42"}))
        publish(
            pub, DeviceFault(site_id=SITE, gate_id="gate-a", device="camera", code="E_CAMERA", message="m", remedy="r")
        )
        assert wait_until(lambda: gate_row(pg_dsn, "gate-a")[4] == 1, 10)  # type: ignore[index]
        assert gate_row(pg_dsn, "gate-a")[1] == "degraded"  # type: ignore[index]
        assert gate_row(pg_dsn, "gate-a")[5] == "camera: E_CAMERA"  # type: ignore[index]
        assert rows(pg_dsn, "SELECT backlog FROM gates WHERE gate_id = 'gate-a'") == [(42,)]
        gate_b._sock.close()  # type: ignore[attr-defined]  # a dead link: the broker sends the Last Will
        gate_b.loop_stop()
        assert wait_until(lambda: gate_row(pg_dsn, "gate-b")[0] == "offline", 20)  # type: ignore[index]
    finally:
        close(pub)
        ing.stop()
        close(gate_a)
    # silence: a gate online but not seen for longer than the threshold is marked offline, its next event revives it
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("UPDATE gates SET last_seen = now() - interval '10 minutes' WHERE gate_id = 'gate-a'")
        conn.execute("UPDATE gates SET state = 'online' WHERE gate_id = 'gate-a'")
        conn.commit()
        assert presence.mark_silent(conn, offline_after_s=300) == 1
        assert presence.mark_silent(conn, offline_after_s=300) == 0
    assert rows(pg_dsn, "SELECT state, silent FROM gates WHERE gate_id = 'gate-a'") == [("offline", True)]


def test_a_last_will_older_than_the_birth_still_marks_the_gate_offline(pg_dsn: str) -> None:
    """The will's ``at`` is when it was registered (before the birth): statuses apply in delivery order."""
    db.migrate(pg_dsn)
    birth = make_status("online", SITE, "gate-a")
    will = birth.model_copy(update={"state": "offline", "at": "2020-01-01T00:00:00.000Z"})
    now = dt.datetime.now(dt.UTC)
    with psycopg.connect(pg_dsn) as conn, conn.cursor() as cur:
        presence.apply_statuses(cur, [birth], now)
        presence.apply_statuses(cur, [will], now)
        conn.commit()
    assert rows(pg_dsn, "SELECT state FROM gates") == [("offline",)]
