"""Reference central subscriber: MQTT 5 shared subscription → SQLite, idempotent by ``event_id``.

Several ``examgate ingest`` processes with the same ``--group`` split the load (``$share/{group}/…``). Each message
is acknowledged (manual PUBACK) only after its row is committed, so a crash between receipt and commit makes the
broker deliver it again; the primary key on ``event_id`` turns the redelivery into a counted duplicate.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ValidationError

from edge.clock import iso_ms
from edge.events.models import parse_event
from edge.mqtt.connection import build_client, connect_in_background
from edge.mqtt.errors import MqttError
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import parse_topic, shared_events_filter

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    site_id TEXT NOT NULL,
    gate_id TEXT NOT NULL,
    session_id TEXT,
    occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_gate_time ON events(site_id, gate_id, occurred_at);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


class EventSink:
    """SQLite table of received events; ``add`` returns False for a duplicate."""

    def __init__(self, path: Path) -> None:
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise MqttError(
                f"cannot open the ingest database {path}: {exc}",
                code="E_INGEST_DB",
                remedy="check the --db path is writable and has free space",
            ) from exc
        self._lock = threading.Lock()
        self.stored = 0
        self.duplicates = 0
        self.rejected = 0

    def add(self, topic: str, payload: bytes) -> bool:
        try:
            event = parse_event(payload)
        except ValidationError as exc:
            self._reject(topic, f"invalid event: {exc.error_count()} error(s)")
            return False
        parts = parse_topic(topic)
        if parts is None or (parts.site_id, parts.gate_id) != (event.site_id, event.gate_id):
            self._reject(topic, "topic does not match the event's site_id/gate_id")
            return False
        data = json.loads(payload)
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO events (event_id, event_type, site_id, gate_id, session_id, occurred_at, payload, "
                "received_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(event_id) DO NOTHING",
                (
                    event.event_id,
                    event.event_type,
                    event.site_id,
                    event.gate_id,
                    event.session_id,
                    data["occurred_at"],
                    payload.decode("utf-8"),
                    iso_ms(),
                ),
            )
            if cur.rowcount == 1:
                self.stored += 1
                return True
            self.duplicates += 1
            return False

    def _reject(self, topic: str, reason: str) -> None:
        log.warning("ingest rejected a message on %s: %s", topic, reason)
        with self._lock:
            self._conn.execute(
                "INSERT INTO rejected (topic, reason, received_at) VALUES (?,?,?)", (topic[:300], reason, iso_ms())
            )
            self.rejected += 1

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class Ingestor:
    """A persistent-session MQTT 5 client on ``$share/{group}/examgate/v1/+/+/events/#`` feeding an EventSink."""

    def __init__(self, settings: MqttSettings, sink: EventSink, group: str, client_id: str | None = None) -> None:
        self.sink = sink
        self.topic_filter = shared_events_filter(group)
        self.settings = settings
        cid = client_id or settings.client_id or f"examgate-ingest-{group}-{socket.gethostname()}"
        self.client = build_client(settings, cid)
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.received = 0
        self.processed = threading.Condition()

    def start(self) -> None:
        connect_in_background(self.client, self.settings, clean_start=False)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.warning("ingest: connect refused: %s", reason)
            return
        client.subscribe(self.topic_filter, qos=1)

    def _on_message(self, client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self.sink.add(message.topic, bytes(message.payload))
        except sqlite3.Error:
            log.exception("ingest: database write failed; the message stays unacknowledged")
            return
        client.ack(message.mid, message.qos)
        with self.processed:
            self.received += 1
            self.processed.notify_all()
