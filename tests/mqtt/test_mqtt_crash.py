"""A publisher process killed with SIGKILL mid-stream: nothing lost after restart; its Last Will is published."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from mqtt_broker import Mosquitto
from mqtt_helpers import SITE, Collector, status_event, wait_until

from edge.mqtt.topics import status_topic
from edge.store import Store

HERE = Path(__file__).resolve().parent


def spawn_gate(db: Path, url: str, gate: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "mqtt_gate_proc.py"), "--db", str(db), "--url", url, "--gate", gate],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"started"
    return proc


def test_kill9_mid_stream_loses_nothing(broker: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    store = Store.open(db, synchronous="NORMAL")
    collector = Collector("127.0.0.1", broker.port, f"examgate/v1/{SITE}/gate-k/events/#")
    total = 1000
    produced = threading.Event()

    def produce() -> None:
        for i in range(total):
            store.append_event(status_event(i, gate_id="gate-k"))
            if i % 20 == 19:
                time.sleep(0.02)
        produced.set()

    first = spawn_gate(db, broker.url, "gate-k")
    producer = threading.Thread(target=produce)
    producer.start()
    try:
        assert collector.wait_for(lambda m: len(m) >= 250, 20)
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        killed_at = len(collector.snapshot())
        producer.join()
        assert produced.is_set()
        backlog_after_kill = store.outbox_backlog()
        assert backlog_after_kill > 0  # it really died mid-stream
        second = spawn_gate(db, broker.url, "gate-k")
        try:
            assert wait_until(lambda: store.outbox_backlog() == 0, 30)
            assert collector.wait_for(lambda m: len({json.loads(x.payload)["event_id"] for x in m}) == total, 10)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        collector.close()
        store.close()
    received = [int(json.loads(m.payload)["details"]["i"]) for m in collector.snapshot()]
    assert set(received) == set(range(total))
    duplicates = len(received) - total
    print(f"kill -9 after {killed_at} deliveries, backlog {backlog_after_kill}: {duplicates} duplicate(s)")
    # Sent twice at most: the in-flight window (max_inflight = 10 in mqtt_gate_proc) plus the acks received but not yet
    # marked in SQLite (marked in batches of max_inflight // 2 = 5), so 10 + 5.
    assert duplicates <= 15


def test_last_will_offline_on_abrupt_disconnect(broker: Mosquitto, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "gate.db", synchronous="NORMAL")
    store.close()
    watcher = Collector("127.0.0.1", broker.port, status_topic(SITE, "gate-w"))
    proc = spawn_gate(tmp_path / "gate.db", broker.url, "gate-w")
    try:
        assert watcher.wait_for(lambda m: any(json.loads(x.payload)["state"] == "online" for x in m), 10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        assert watcher.wait_for(lambda m: json.loads(m[-1].payload)["state"] == "offline", 15)
    finally:
        if proc.poll() is None:
            proc.kill()
        watcher.close()
    late = Collector("127.0.0.1", broker.port, status_topic(SITE, "gate-w"))
    try:
        assert late.wait_for(lambda m: len(m) >= 1, 5)
        assert late.snapshot()[0].retain
        assert json.loads(late.snapshot()[0].payload)["state"] == "offline"
    finally:
        late.close()
