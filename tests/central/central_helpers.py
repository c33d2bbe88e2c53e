"""Helpers for the centre tests: a raw MQTT 5 publisher, event factories, row counts and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.events.models import CandidateAdmitted, DeviceStatus, Event, Subject
from edge.mqtt.topics import event_topic

SITE = "site-1"


def publisher(port: int, client_id: str = "") -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def publish(client: mqtt.Client, event: Event, *, topic: str | None = None) -> None:
    name = getattr(event, "event_type")  # noqa: B009
    target = topic or event_topic(event.site_id, event.gate_id, name)
    client.publish(target, event.model_dump_json(), qos=1).wait_for_publish(5)


def publish_raw(client: mqtt.Client, topic: str, payload: bytes) -> None:
    client.publish(topic, payload, qos=1).wait_for_publish(5)


def status_event(i: int, gate_id: str = "gate-a", site_id: str = SITE, **kw: Any) -> DeviceStatus:
    return DeviceStatus(site_id=site_id, gate_id=gate_id, state="ready", details={"i": str(i)}, **kw)


def admitted(candidate_id: str, gate_id: str = "gate-a", session_id: str = "S1", **kw: Any) -> CandidateAdmitted:
    return CandidateAdmitted(
        site_id=SITE,
        gate_id=gate_id,
        session_id=session_id,
        attempt_id=f"att-{gate_id}-{candidate_id}",
        subject=Subject(candidate_id=candidate_id, id_masked="0010******45"),
        thresholds_version="t1",
        match_threshold=0.6,
        review_threshold=0.5,
        **kw,
    )


def scalar(dsn: str, sql: str, *params: Any) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


def rows(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(sql, params).fetchall())


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval_s)
    return check()
