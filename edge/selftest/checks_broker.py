"""Broker check: TCP reach, MQTT 5 CONNACK, then one QoS 1 message published and received back on a test topic.

The test topic is ``examgate/v1/{site}/{gate}/selftest/{nonce}``: the broker's ACL must let the gate read and write
its own ``selftest/#`` (deploy/central/acl). The check uses its own client id (``…-selftest``) so the running daemon's
session is never taken over, and a session that expires at once so nothing lingers on the broker.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time

import paho.mqtt.client as mqtt

from edge.errors import ExamGateError
from edge.mqtt.connection import SUCCESS_LIMIT, MqttConnection, publish_properties
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import PREFIX
from edge.selftest.model import CheckResult, SelftestContext, failed, passed, skipped

ACL_REMEDY = (
    "the broker must let this gate read and write examgate/v1/<site>/<gate>/selftest/# "
    "(see deploy/central/acl) and accept its credentials"
)


def selftest_topic(site_id: str, gate_id: str) -> str:
    return f"{PREFIX}/{site_id}/{gate_id}/selftest/{secrets.token_hex(6)}"


def _tcp_reach(settings: MqttSettings, timeout_s: float) -> str | None:
    """None when a TCP connection opens; else why not."""
    address = settings.address
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout_s):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def check_broker(ctx: SelftestContext) -> CheckResult:
    settings = ctx.cfg.mqtt
    if settings is None:
        return skipped("broker", "not configured: no [mqtt] section (events queue in the store)")
    if not settings.enabled:
        return skipped("broker", "not configured: mqtt.enabled = false (events queue in the store)")
    address = settings.address
    where = f"{'mqtts' if address.tls else 'mqtt'}://{address.host}:{address.port}"
    timeout_s = min(settings.connect_timeout_s, ctx.broker_timeout_s)
    unreachable = _tcp_reach(settings, timeout_s)
    if unreachable is not None:
        return failed(
            "broker",
            f"{where} unreachable: {unreachable}",
            "check the network cable/Wi-Fi, the broker address in [mqtt] broker_url and that the broker runs; "
            "the gate keeps admitting and queues events meanwhile",
        )
    site, gate = ctx.cfg.site.site_id, ctx.cfg.site.gate_id
    topic = selftest_topic(site, gate)
    payload = secrets.token_bytes(16)
    received = threading.Event()
    acked: list[int] = []

    def on_message(message: mqtt.MQTTMessage) -> None:
        if message.topic == topic and message.payload == payload:
            received.set()

    client_id = f"{settings.effective_client_id(site, gate)}-selftest"
    conn = MqttConnection(
        settings.model_copy(update={"session_expiry_s": 0}), client_id, on_message=on_message, clean_start=True
    )
    started = time.perf_counter()
    try:
        conn.start()
        if not conn.wait_connected(timeout_s):
            reason = conn.last_connect_reason or "no CONNACK"
            return failed("broker", f"{where}: TCP open but MQTT connect failed ({reason})", ACL_REMEDY)
        conn.subscribe(topic, qos=1)  # sent before the PUBLISH on the same connection: the broker handles it first
        got_ack = threading.Event()

        def on_ack(code: int) -> None:
            acked.append(code)
            got_ack.set()

        conn.publish(
            topic, payload, qos=1, properties=publish_properties(content_type=None, expiry_s=60), on_ack=on_ack
        )
        if not got_ack.wait(timeout_s):
            return failed("broker", f"{where}: connected, but no PUBACK within {timeout_s:.0f} s", ACL_REMEDY)
        if acked[0] >= SUCCESS_LIMIT:
            return failed("broker", f"{where}: publish refused (reason 0x{acked[0]:02X})", ACL_REMEDY)
        if not received.wait(timeout_s):
            return failed("broker", f"{where}: published (PUBACK ok) but the message did not come back", ACL_REMEDY)
    except ExamGateError as err:
        return failed("broker", f"{where}: {err.message}", err.remedy)
    finally:
        conn.stop()
    rtt_ms = (time.perf_counter() - started) * 1000
    return passed("broker", f"{where}: MQTT 5 connect + QoS 1 publish/receive round trip in {rtt_ms:.0f} ms")
