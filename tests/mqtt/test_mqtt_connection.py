"""PUBACK tracking when paho acknowledges before ``publish()`` has returned (the loopback race)."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from mqtt_broker import Mosquitto
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from edge.mqtt.connection import MqttConnection
from edge.mqtt.settings import MqttSettings


def test_ack_arriving_before_publish_returns_is_delivered_once(broker: Mosquitto) -> None:
    conn = MqttConnection(MqttSettings(broker_url=broker.url), "race-test")
    conn.start()
    assert conn.wait_ready(10)
    real_publish = conn.client.publish
    forced: list[int] = []

    def publish_then_early_ack(*args: Any, **kwargs: Any) -> mqtt.MQTTMessageInfo:
        # Replay paho's race faithfully: the PUBACK is processed (on_publish runs) before publish() returns.
        conn.client.on_publish = None
        info = real_publish(*args, **kwargs)
        info.wait_for_publish(5)
        conn._handle_publish(conn.client, None, info.mid, ReasonCode(PacketTypes.PUBACK, identifier=0), None)  # type: ignore[arg-type]
        conn.client.on_publish = conn._handle_publish
        forced.append(info.mid)
        return info

    conn.client.publish = publish_then_early_ack  # type: ignore[method-assign]
    calls: list[int] = []
    done = threading.Event()

    def on_ack(reason: int) -> None:
        calls.append(reason)
        done.set()

    try:
        assert conn.publish("examgate/v1/s/g/events/x", b"{}", on_ack=on_ack)
        assert done.wait(5)
        conn.client.publish = real_publish  # type: ignore[method-assign]
        followers = threading.Event()
        assert conn.publish("examgate/v1/s/g/events/y", b"{}", on_ack=lambda _r: followers.set())
        assert followers.wait(5)
    finally:
        conn.stop()
    assert calls == [0]  # the replayed early ack (0), not the broker's later one (0x10, no subscribers)
    assert forced
    assert conn.in_flight() == 0


def test_refused_puback_reason_reaches_the_callback(broker: Mosquitto) -> None:
    """A publish the mTLS ACL denies is acknowledged with reason 0x87 (not authorised)."""
    cert, key = broker.pki.client("gate-a")
    settings = MqttSettings(broker_url=broker.tls_url, ca_file=broker.pki.ca, cert_file=cert, key_file=key)
    conn = MqttConnection(settings, "acl-reason")
    conn.start()
    assert conn.wait_ready(10)
    reasons: list[int] = []
    done = threading.Event()
    try:
        conn.publish(
            "examgate/v1/site-1/gate-b/events/device.status", b"{}", on_ack=lambda r: (reasons.append(r), done.set())
        )
        assert done.wait(5)
    finally:
        conn.stop()
    assert reasons == [0x87]
