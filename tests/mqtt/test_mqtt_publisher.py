"""Outbox → broker against a real mosquitto: acks, order, broker restart, retained presence."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mqtt_broker import Mosquitto
from mqtt_helpers import SITE, Collector, StoreTarget, status_event, wait_until

from edge.config import sample_config
from edge.mqtt.link import GateLink, link_from_config
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import events_filter, status_topic
from edge.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "gate.db", synchronous="NORMAL")
    yield s
    s.close()


def make_link(store: Store, url: str, gate_id: str = "gate-a", **extra: object) -> GateLink:
    settings = MqttSettings(broker_url=url, client_id=f"t-{gate_id}-{time.monotonic_ns()}", **extra)  # type: ignore[arg-type]
    return GateLink(
        settings, store, StoreTarget(store), site_id=SITE, gate_id=gate_id, config_hash="cfg123", versions={"m": "1"}
    )


def indices(payloads: list[dict[str, object]]) -> list[int]:
    return [int(str(p["details"]["i"])) for p in payloads]  # type: ignore[index]


def test_events_are_published_in_order_and_marked_sent_on_puback(broker: Mosquitto, store: Store) -> None:
    collector = Collector("127.0.0.1", broker.port, events_filter(SITE))
    for i in range(50):
        store.append_event(status_event(i))
    link = make_link(store, broker.url)
    link.start()
    try:
        assert wait_until(lambda: store.outbox_backlog() == 0, 10), link.metrics()
        assert collector.wait_for(lambda m: len(m) >= 50, 5)
    finally:
        link.stop()
        collector.close()
    messages = collector.snapshot()
    payloads = [json.loads(m.payload) for m in messages]
    assert indices(payloads) == list(range(50))
    first = messages[0]
    assert first.topic == f"examgate/v1/{SITE}/gate-a/events/device.status"
    assert first.qos == 1
    assert first.properties.ContentType == "application/json"
    assert dict(first.properties.UserProperty)["event_id"] == payloads[0]["event_id"]
    metrics = link.metrics()
    assert metrics.acked == 50
    assert metrics.failed == 0
    assert store.outbox_pending(10) == []


def test_message_expiry_is_set_when_configured(broker: Mosquitto, store: Store) -> None:
    collector = Collector("127.0.0.1", broker.port, events_filter(SITE))
    store.append_event(status_event(1))
    link = make_link(store, broker.url, message_expiry_s=3600)
    link.start()
    try:
        assert collector.wait_for(lambda m: len(m) >= 1, 10)
    finally:
        link.stop()
        collector.close()
    expiry = collector.snapshot()[0].properties.MessageExpiryInterval
    assert 3590 <= expiry <= 3600


def test_broker_stopped_mid_stream_then_restarted_delivers_all_in_order(
    private_broker: Callable[[], Mosquitto], store: Store
) -> None:
    mosq = private_broker()
    collector = Collector("127.0.0.1", mosq.port, events_filter(SITE), client_id="central-1", persistent=True)
    link = make_link(store, mosq.url, backoff_min_s=1, backoff_max_s=2)
    link.start()
    total = 1000

    def produce() -> None:
        for i in range(total):
            store.append_event(status_event(i))
            if i % 50 == 49:
                time.sleep(0.03)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        assert collector.wait_for(lambda m: len(m) >= 200, 15)
        mosq.stop()
        time.sleep(1.0)  # the lane keeps appending while the broker is down
        mosq.start()
        producer.join()
        assert collector.wait_for(lambda m: len({json.loads(x.payload)["event_id"] for x in m}) >= total, 60), (
            link.metrics(),
            mosq.log_text()[-2000:],
        )
        assert wait_until(lambda: store.outbox_backlog() == 0, 10)
    finally:
        link.stop()
        collector.close()
    order: list[int] = []
    seen: set[int] = set()
    for i in indices(collector.payloads()):
        if i not in seen:
            seen.add(i)
            order.append(i)
    assert order == list(range(total))  # first arrivals in outbox order; redeliveries allowed
    assert link.metrics().acked >= total
    assert link.connection.connects >= 2  # it really lost the broker and came back


def test_retained_status_online_then_stopped(broker: Mosquitto, store: Store) -> None:
    link = make_link(store, broker.url, gate_id="gate-s")
    link.start()
    try:
        assert link.connection.wait_ready(10)
        online = Collector("127.0.0.1", broker.port, status_topic(SITE, "gate-s"))
        assert online.wait_for(lambda m: any(json.loads(x.payload)["state"] == "online" for x in m), 5)
        birth = json.loads(online.snapshot()[-1].payload)
        assert online.snapshot()[-1].retain
        assert birth["config_hash"] == "cfg123"
        assert birth["versions"]["m"] == "1"
        assert birth["versions"]["event_schema"] == "1.1"  # 1.1: pad_signals, pad_thresholds_version (issue 12)
        online.close()
    finally:
        link.stop()
    after = Collector("127.0.0.1", broker.port, status_topic(SITE, "gate-s"))
    try:
        assert after.wait_for(lambda m: len(m) >= 1, 5)
        message = after.snapshot()[0]
        assert message.retain
        assert json.loads(message.payload)["state"] == "stopped"
    finally:
        after.close()


def test_link_from_config(broker: Mosquitto, tmp_path: Path) -> None:
    cfg = sample_config(tmp_path)
    s = Store.open(tmp_path / "cfg.db", synchronous="NORMAL")
    try:
        assert link_from_config(cfg, s, StoreTarget(s)) is None  # no [mqtt] section: events just queue
        disabled = cfg.model_copy(update={"mqtt": MqttSettings(enabled=False)})
        assert link_from_config(disabled, s, StoreTarget(s)) is None
        enabled = cfg.model_copy(update={"mqtt": MqttSettings(broker_url=broker.url)})
        link = link_from_config(enabled, s, StoreTarget(s))
        assert link is not None
        assert (link.site_id, link.gate_id) == ("demo-site", "lane-1")
        assert link.config_hash == enabled.digest()
    finally:
        s.close()
