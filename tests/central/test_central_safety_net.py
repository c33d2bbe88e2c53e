"""Broker restart while gates keep publishing: the window mosquitto 2.0 leaves, and the safety net that closes it.

mosquitto 2.0 restores plain persistent subscriptions after a restart but not shared ones. Until the share group's
workers reconnect (their backoff is 1 s), a gate's event finds no subscriber: the broker answers PUBACK 0x10 and drops
it. The first test shows that window with real processes; the second publishes into it with a safety net running and
checks PostgreSQL holds exactly the published set.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from central_helpers import REPO, RUNNER, close, publisher, rows, run_cli, scalar, status_event, wait_until
from mqtt_broker import Mosquitto

from edge.central import db
from edge.central.ingest import PgIngest
from edge.events.models import DeviceStatus
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import event_topic, events_filter

NO_MATCHING_SUBSCRIBERS = 0x10


class RecordingPublisher:
    """A gate-like QoS 1 publisher that keeps the broker's PUBACK reason code of every message."""

    def __init__(self, port: int) -> None:
        self.codes: dict[int, int] = {}
        self._lock = threading.Lock()
        self.client = publisher(port, client_id=f"gate-{uuid.uuid4().hex[:6]}")
        self.client.on_publish = self._on_publish

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: object, _p: object) -> None:
        with self._lock:
            self.codes[mid] = int(getattr(reason, "value", 0))

    def send(self, events: list[DeviceStatus]) -> list[int]:
        """Publish ``events`` and wait for each PUBACK; returns their reason codes in order."""
        infos = [
            self.client.publish(event_topic(e.site_id, e.gate_id, "device.status"), e.model_dump_json(), qos=1)
            for e in events
        ]
        for info in infos:
            info.wait_for_publish(10)
        with self._lock:
            return [self.codes[i.mid] for i in infos]

    def close(self) -> None:
        close(self.client)


def _worker(broker: Mosquitto, dsn: str, *, safety_net: bool = False) -> PgIngest:
    worker = PgIngest(
        MqttSettings(broker_url=broker.url),
        dsn,
        "gsn",
        client_id=f"ing-{'sn' if safety_net else 'sh'}-{uuid.uuid4().hex[:6]}",
        batch=40,
        safety_net=safety_net,
    )
    worker.start()
    assert worker.subscribed.wait(5)
    return worker


def _restart_and_publish(broker: Mosquitto, shared: PgIngest, events: list[DeviceStatus]) -> list[int]:
    """Restart the broker and publish ``events`` at once, before the share group has subscribed again."""
    shared.subscribed.clear()
    broker.restart()
    gate = RecordingPublisher(broker.port)
    try:
        codes = gate.send(events)
        in_window = not shared.subscribed.is_set()
    finally:
        gate.close()
    assert in_window, "the share group subscribed again before the events were published: no window to test"
    return codes


def test_without_safety_net_the_restart_window_drops_events(
    private_broker: Callable[[], Mosquitto], pg_dsn: str
) -> None:
    broker = private_broker()
    db.migrate(pg_dsn)
    shared = _worker(broker, pg_dsn)
    during = [status_event(i, gate_id="gate-w") for i in range(50)]
    try:
        codes = _restart_and_publish(broker, shared, during)
        assert shared.subscribed.wait(30)
    finally:
        shared.stop()
    assert codes == [NO_MATCHING_SUBSCRIBERS] * len(during)  # the gate is told, and the broker kept nothing
    assert scalar(pg_dsn, "SELECT count(*) FROM events WHERE gate_id = 'gate-w'") == 0


def test_safety_net_closes_the_broker_restart_window(private_broker: Callable[[], Mosquitto], pg_dsn: str) -> None:
    broker = private_broker()
    db.migrate(pg_dsn)
    shared = _worker(broker, pg_dsn)
    net = _worker(broker, pg_dsn, safety_net=True)
    before = [status_event(i, gate_id="gate-a") for i in range(300)]
    during = [status_event(i, gate_id="gate-w") for i in range(200)]
    after = [status_event(i, gate_id="gate-b") for i in range(300)]
    bad_topic = event_topic("site-1", "gate-a", "device.status")
    try:
        gate = RecordingPublisher(broker.port)
        assert set(gate.send(before)) == {0}
        gate.client.publish(bad_topic, b"not json", qos=1).wait_for_publish(10)
        gate.close()
        expected = len(before)
        assert wait_until(lambda: scalar(pg_dsn, "SELECT count(*) FROM events") >= expected, 30)
        codes = _restart_and_publish(broker, shared, during)
        assert set(codes) == {0}  # the safety net's restored subscription was there to take them
        assert shared.subscribed.wait(30)
        gate = RecordingPublisher(broker.port)
        assert set(gate.send(after)) == {0}
        gate.close()
        total = len(before) + len(during) + len(after)
        assert wait_until(lambda: scalar(pg_dsn, "SELECT count(*) FROM events") >= total, 40)
        assert wait_until(lambda: net.counters.snapshot()["acked"] >= total + 1, 20)
    finally:
        shared.stop()
        net.stop()
    stored = [str(r[0]) for r in rows(pg_dsn, "SELECT event_id FROM events")]
    assert len(stored) == total  # no duplicate rows
    assert set(stored) == {e.event_id for e in before + during + after}
    net_counts = net.counters.snapshot()
    # the safety net saw every event (those in flight at the restart twice: the broker redelivers them)
    assert net_counts["stored"] + net_counts["duplicates"] >= total
    assert net_counts["stored"] >= len(during)  # ... and stored at least the ones of the window
    assert scalar(pg_dsn, "SELECT count(*) FROM rejected") == 1  # rejected once, though two workers saw it


def test_cli_safety_net_subscribes_plainly_and_stores(broker: Mosquitto, pg_dsn: str) -> None:
    events = [status_event(i, gate_id="gate-cli") for i in range(30)]
    argv = ["ingest", "--broker", broker.url, "--postgres", pg_dsn, "--safety-net", "--client-id", "net-cli"]
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), *argv, "--count", str(len(events))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert wait_until(lambda: scalar(pg_dsn, "SELECT to_regclass('events') IS NOT NULL") is True, 15)
        time.sleep(1.0)  # subscribed
        gate = RecordingPublisher(broker.port)
        assert set(gate.send(events)) == {0}
        gate.close()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"subscribed to {events_filter()}" in err  # plain, not $share/…
    assert json.loads(out.strip().splitlines()[-1])["stored"] == len(events)
    assert scalar(pg_dsn, "SELECT count(*) FROM events WHERE gate_id = 'gate-cli'") == len(events)


def test_cli_safety_net_needs_postgres(tmp_path: Path) -> None:
    done = run_cli("ingest", "--broker", "mqtt://127.0.0.1:1", "--db", str(tmp_path / "x.db"), "--safety-net")
    assert done.returncode != 0
    assert "E_INGEST_USAGE" in done.stdout + done.stderr and "--postgres" in done.stdout + done.stderr
