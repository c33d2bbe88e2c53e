"""The gate's presence heartbeat into the centre: a real GateLink refreshing its retained ``online`` status with the
outbox backlog, a real mosquitto, a real PostgreSQL ingest; an idle gate stays online and its backlog is known."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from central_helpers import SITE, close, publisher, rows, wait_until, worker
from mqtt_broker import Mosquitto
from mqtt_helpers import StoreTarget, status_event

from edge.central import db, presence
from edge.mqtt.link import GateLink
from edge.mqtt.settings import MqttSettings
from edge.mqtt.status import GateStatus, make_status
from edge.mqtt.topics import status_topic
from edge.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "gate.db", synchronous="NORMAL")
    yield s
    s.close()


def gate_link(store: Store, broker: Mosquitto, gate_id: str) -> GateLink:
    settings = MqttSettings(broker_url=broker.url, client_id=f"t-{gate_id}-{time.monotonic_ns()}", status_interval_s=1)
    return GateLink(settings, store, StoreTarget(store), site_id=SITE, gate_id=gate_id, config_hash="cfg1")


def gate(dsn: str, gate_id: str) -> tuple[str, dt.datetime, int | None]:
    got = rows(dsn, "SELECT state, last_seen, backlog FROM gates WHERE gate_id = %s", gate_id)
    return got[0] if got else None  # type: ignore[return-value]


def test_online_status_carries_the_outbox_backlog(store: Store, broker: Mosquitto) -> None:
    link = gate_link(store, broker, "gate-hb0")  # not started: nothing leaves the outbox
    for i in range(3):
        store.append_event(status_event(i, gate_id="gate-hb0"))
    status = GateStatus.model_validate_json(link.online_status())
    assert (status.state, status.outbox_backlog, status.config_hash) == ("online", 3, "cfg1")
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        make_status("online", SITE, "gate-hb0", outbox_backlog=-1)


def test_idle_gate_keeps_beating_and_the_centre_sees_it(store: Store, broker: Mosquitto, pg_dsn: str) -> None:
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "hb", group="ghb")
    link = gate_link(store, broker, "gate-hb")
    try:
        link.start()
        assert wait_until(lambda: gate(pg_dsn, "gate-hb") is not None, 10)
        state, first_seen, backlog = gate(pg_dsn, "gate-hb")
        assert (state, backlog) == ("online", 0)
        # no event at all: the heartbeat alone moves last_seen forward ...
        assert wait_until(lambda: gate(pg_dsn, "gate-hb")[1] > first_seen, 5)
        time.sleep(3.0)
        with db.connect(pg_dsn) as conn:  # ... so a sweep with a 2 s silence limit, 3 s after the birth, keeps it
            assert presence.mark_silent(conn, 2.0) == 0
        assert gate(pg_dsn, "gate-hb")[0] == "online"
        link.stop()
        assert wait_until(lambda: gate(pg_dsn, "gate-hb")[0] == "stopped", 10)  # and the heartbeat ends with it
        time.sleep(1.5)
        assert gate(pg_dsn, "gate-hb")[0] == "stopped"
    finally:
        link.stop()
        ing.stop()


def test_backlog_of_a_status_fills_the_gates_table(broker: Mosquitto, pg_dsn: str) -> None:
    db.migrate(pg_dsn)
    ing = worker(broker, pg_dsn, "hb2", group="ghb2")
    pub = publisher(broker.port)
    try:
        status = make_status("online", SITE, "gate-hb2", outbox_backlog=742)
        pub.publish(status_topic(SITE, "gate-hb2"), status.payload(), qos=1, retain=True).wait_for_publish(5)
        assert wait_until(lambda: gate(pg_dsn, "gate-hb2") is not None and gate(pg_dsn, "gate-hb2")[2] == 742, 10)
        later = make_status("online", SITE, "gate-hb2")  # a status without the field keeps the last known backlog
        pub.publish(status_topic(SITE, "gate-hb2"), later.payload(), qos=1, retain=True).wait_for_publish(5)
        time.sleep(0.5)
        assert gate(pg_dsn, "gate-hb2")[2] == 742
    finally:
        pub.publish(status_topic(SITE, "gate-hb2"), b"", qos=1, retain=True).wait_for_publish(5)
        close(pub)
        ing.stop()
