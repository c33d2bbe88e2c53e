"""Backlog alarm: broker unreachable, events pile up → exactly one device.fault per crossing; nothing dropped."""

from __future__ import annotations

import json
from pathlib import Path

from mqtt_broker import free_port
from mqtt_helpers import SITE, status_event, wait_until

from edge.mqtt.connection import MqttConnection
from edge.mqtt.publisher import OutboxPublisher
from edge.mqtt.settings import MqttSettings
from edge.store import Store


def faults(store: Store) -> list[dict[str, object]]:
    return [json.loads(r.payload) for r in store.outbox_pending(10_000) if r.event_type == "device.fault"]


def test_backlog_alarm_is_raised_once_per_crossing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "g.db", synchronous="NORMAL")
    settings = MqttSettings(broker_url=f"mqtt://127.0.0.1:{free_port()}", backlog_alarm_events=20)
    connection = MqttConnection(settings, "dead-end")  # nothing listens there
    publisher = OutboxPublisher(
        store, connection, settings, site_id=SITE, gate_id="gate-a", store_path=store.path, check_every_s=0.05
    )
    for i in range(15):
        store.append_event(status_event(i))
    connection.start()
    publisher.start()
    try:
        assert wait_until(lambda: publisher.metrics().backlog == 15, 5)
        assert faults(store) == []
        for i in range(15, 40):
            store.append_event(status_event(i))
        assert wait_until(lambda: publisher.metrics().backlog_alarm, 5)
        for i in range(40, 60):
            store.append_event(status_event(i))
        assert wait_until(lambda: publisher.metrics().backlog >= 60, 5)
    finally:
        publisher.stop()
        connection.stop()
    backlog_faults = [f for f in faults(store) if f["code"] == "E_OUTBOX_BACKLOG"]
    assert len(backlog_faults) == 1
    assert backlog_faults[0]["device"] == "outbox"
    assert publisher.metrics().connected is False
    assert store.outbox_backlog() >= 60  # every event still queued
    store.close()


def test_disk_budget_alarm(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "g.db", synchronous="NORMAL")
    settings = MqttSettings(broker_url=f"mqtt://127.0.0.1:{free_port()}", disk_budget_mb=1)
    connection = MqttConnection(settings, "dead-end-2")
    publisher = OutboxPublisher(
        store, connection, settings, site_id=SITE, gate_id="gate-a", store_path=store.path, check_every_s=0.05
    )
    big = "x" * 2000
    for i in range(600):  # ~1.2 MB of payloads
        store.append_event(status_event(i).model_copy(update={"details": {"i": str(i), "pad": big}}))
    publisher.start()
    try:
        assert wait_until(lambda: publisher.metrics().disk_alarm, 5)
    finally:
        publisher.stop()
    assert [f["code"] for f in faults(store)] == ["E_OUTBOX_DISK"]
    store.close()
