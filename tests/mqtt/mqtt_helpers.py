"""Test helpers: a raw paho subscriber that records what the broker delivers, a target over the store, events."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config import Thresholds
from edge.events.models import CandidateAdmitted, DeviceStatus, Subject
from edge.store import RosterDigest, RosterRow, Store

SITE = "site-1"


def status_event(i: int, gate_id: str = "gate-a", site_id: str = SITE, **kw: Any) -> DeviceStatus:
    return DeviceStatus(site_id=site_id, gate_id=gate_id, state="ready", details={"i": str(i)}, **kw)


def admitted_event(
    candidate_id: str, gate_id: str, session_id: str, site_id: str = SITE, **fields: Any
) -> CandidateAdmitted:
    """An admission of ``candidate_id`` at ``gate_id`` (face score 0.9 unless ``fields`` say otherwise)."""
    shared: dict[str, Any] = {
        "attempt_id": f"att-{gate_id}-{candidate_id}",
        "subject": Subject(candidate_id=candidate_id, id_masked="0010******45"),
        "face_score": 0.9,
        "thresholds_version": "t1",
        "match_threshold": 0.6,
        "review_threshold": 0.5,
    }
    return CandidateAdmitted(site_id=site_id, gate_id=gate_id, session_id=session_id, **{**shared, **fields})


def admit_locally(store: Store, candidate_id: str, gate_id: str, session_id: str) -> CandidateAdmitted:
    """The lane's decision path: attempt + decision + admission + outbox in the store."""
    event = admitted_event(candidate_id, gate_id, session_id)
    store.record_decision(event)
    return event


class Collector:
    """A raw paho MQTT 5 client subscribed to one filter; records every message (duplicates included)."""

    def __init__(
        self,
        url_host: str,
        port: int,
        topic_filter: str,
        *,
        client_id: str = "",
        persistent: bool = False,
        tls: tuple[Path, Path, Path] | None = None,
        userpass: tuple[str, str] | None = None,
        ca: Path | None = None,
    ) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.topic_filter = topic_filter
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        if tls is not None or ca is not None:
            ctx = ssl.create_default_context(cafile=str(tls[0] if tls else ca))
            if tls is not None:
                ctx.load_cert_chain(str(tls[1]), str(tls[2]))
            self.client.tls_set_context(ctx)
        if userpass is not None:
            self.client.username_pw_set(*userpass)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(1, 1)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 600 if persistent else 0
        self.client.connect(url_host, port, keepalive=10, clean_start=not persistent, properties=props)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError("collector did not subscribe")

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            client.subscribe(self.topic_filter, qos=1)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, _codes: Any, _p: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(message)

    def snapshot(self) -> list[mqtt.MQTTMessage]:
        with self.lock:
            return list(self.messages)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in self.snapshot()]

    def wait_for(self, predicate: Callable[[list[mqtt.MQTTMessage]], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return True
            time.sleep(0.02)
        return predicate(self.snapshot())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class StoreTarget:
    """The command target the wiring provides, reduced to the store plus in-memory gate state."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.locked = False
        self.thresholds: Thresholds | None = None

    def replace_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str) -> RosterDigest:
        return self.store.replace_roster(session_id, rows, actor=actor)

    def upsert_roster(self, session_id: str, rows: Sequence[RosterRow], actor: str) -> RosterDigest:
        return self.store.upsert_roster(session_id, rows, actor=actor)

    def set_thresholds(self, thresholds: Thresholds, actor: str) -> None:
        self.thresholds = thresholds
        self.store.audit(actor, "thresholds.set", {"version": thresholds.version})

    def lock_gate(self, reason: str, actor: str) -> None:
        self.locked = True
        self.store.audit(actor, "gate.lock", {"reason": reason})

    def unlock_gate(self, reason: str, actor: str) -> None:
        self.locked = False
        self.store.audit(actor, "gate.unlock", {"reason": reason})

    def diagnostics(self) -> dict[str, object]:
        return {"locked": self.locked, "backlog": self.store.outbox_backlog()}


def utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)
