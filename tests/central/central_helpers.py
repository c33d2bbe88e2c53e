"""Helpers for the centre tests: a raw MQTT 5 publisher, event factories (tests/mqtt's, on sys.path via conftest), row
counts and polling."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from mqtt_broker import Mosquitto
from mqtt_helpers import SITE, admitted_event, status_event
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.central.ingest import PgIngest
from edge.events.models import CandidateAdmitted, Event
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import event_topic

__all__ = [
    "REPO",
    "RUNNER",
    "SITE",
    "admitted",
    "close",
    "publish",
    "publish_raw",
    "publisher",
    "rows",
    "run_cli",
    "scalar",
    "status_event",
    "wait_until",
    "worker",
]

RUNNER = Path(__file__).with_name("ingest_runner.py")  # `examgate ingest` / `central` without the other groups
REPO = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """``examgate ARGV`` through the ingest runner, to completion (60 s at most)."""
    return subprocess.run(
        [sys.executable, str(RUNNER), *argv], check=False, capture_output=True, text=True, cwd=REPO, timeout=60
    )


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


def admitted(candidate_id: str, gate_id: str = "gate-a", session_id: str = "S1", **kw: Any) -> CandidateAdmitted:
    """tests/mqtt's admission, without a face score unless ``kw`` gives one."""
    return admitted_event(candidate_id, gate_id, session_id, **{"face_score": None, **kw})


def worker(broker: Mosquitto, dsn: str, name: str, group: str = "g1", **kw: object) -> PgIngest:
    """An ingest worker of share group ``group`` (client id ``<name>-<random>``), started and subscribed."""
    ing = PgIngest(MqttSettings(broker_url=broker.url), dsn, group, client_id=f"{name}-{uuid.uuid4().hex[:6]}", **kw)  # type: ignore[arg-type]
    ing.start()
    assert ing.subscribed.wait(5)
    return ing


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
