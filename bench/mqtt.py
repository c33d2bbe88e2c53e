"""MQTT delivery bench: decision → SQLite outbox → PUBACK vs a bare paho QoS 1 loop, in the same run.

    python bench/mqtt.py [--events 20000] [--drain 100000] [--sync FULL] [--max-inflight 50] [--broker mqtt://…]

Without ``--broker`` a private mosquitto is started on a free loopback port (persistence on, like the central one).
Figures:
  1. baseline: a bare paho 2.x MQTT 5 QoS 1 publish loop (same payloads, same in-flight window), acked msg/s;
  2. outbox: a lane thread records decisions (attempt + decision + audit + outbox, the store's durability setting)
     while the publisher drains the outbox; events/s from the first decision to the last PUBACK, ratio to 1.;
     a subscriber checks every event_id arrived (zero loss);
  3. drain: a backlog of N events already in the outbox (gate was offline) → time until all acked.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.events.models import CandidateAdmitted, Subject
from edge.mqtt.connection import publish_properties
from edge.mqtt.link import GateLink
from edge.mqtt.settings import MqttSettings, parse_broker_url
from edge.store import RosterDigest, RosterRow, Store

SITE, GATE, SESSION = "bench-site", "bench-gate", "S-bench"


class NullTarget:
    def replace_roster(self, session_id: str, rows: Any, actor: str) -> RosterDigest:
        raise NotImplementedError

    def upsert_roster(self, session_id: str, rows: list[RosterRow], actor: str) -> RosterDigest:
        raise NotImplementedError

    def set_thresholds(self, thresholds: Any, actor: str) -> None: ...
    def lock_gate(self, reason: str, actor: str) -> None: ...
    def unlock_gate(self, reason: str, actor: str) -> None: ...

    def diagnostics(self) -> dict[str, object]:
        return {}


def start_mosquitto() -> tuple[subprocess.Popen[bytes], str, Path]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    folder = Path(tempfile.mkdtemp(prefix="bench-mosq-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "m.conf").write_text(
        f"persistence true\npersistence_location {folder}/\nlog_dest none\nmax_queued_messages 1000000\n"
        f"max_inflight_messages 100\nset_tcp_nodelay true\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
    )
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("mosquitto")
            for p in (folder, folder / "m.conf"):
                os.chown(p, entry.pw_uid, entry.pw_gid)
        except KeyError:
            pass
    proc = subprocess.Popen([binary, "-c", str(folder / "m.conf")])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"mqtt://127.0.0.1:{port}", folder


def admitted(i: int) -> CandidateAdmitted:
    return CandidateAdmitted(
        site_id=SITE,
        gate_id=GATE,
        session_id=SESSION,
        attempt_id=f"att-{i:07d}",
        subject=Subject(candidate_id=f"C{i:07d}", id_masked="0010******45"),
        face_score=0.87,
        thresholds_version="2026-01",
        match_threshold=0.6,
        review_threshold=0.5,
        model_version="facenet-tflite-1",
        passive_auth="valid",
        access_protocol="PACE",
        face_attempts=1,
        timings_ms={"chip": 1400.0, "face": 380.0},
    )


class Counter:
    """Subscriber counting distinct event ids (loss check)."""

    def __init__(self, url: str) -> None:
        address = parse_broker_url(url)
        self.ids: set[str] = set()
        self.first_seen: dict[str, float] = {}
        self.messages = 0
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_connect = lambda c, *_a: c.subscribe(f"examgate/v1/{SITE}/+/events/#", qos=1)
        self.client.on_subscribe = lambda *_a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        self.ready.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        if not message.topic.endswith("/candidate.admitted"):
            return  # e.g. the backlog alarm raised while draining
        event_id = dict(message.properties.UserProperty).get("event_id", "")
        now = time.perf_counter()
        with self.lock:
            self.ids.add(event_id)
            self.first_seen.setdefault(event_id, now)
            self.messages += 1

    def wait_for(self, n: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.ids) >= n:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def bare_paho(url: str, n: int, max_inflight: int, payload: bytes) -> float:
    """Acked messages/s of a plain publish loop with the same in-flight bound (no store)."""
    address = parse_broker_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(max_inflight)
    acked = threading.Semaphore(0)
    window = threading.Semaphore(max_inflight)

    def on_publish(*_a: Any) -> None:
        window.release()
        acked.release()

    client.on_publish = on_publish
    client.connect(address.host, address.port)
    client.loop_start()
    topic = f"examgate/v1/{SITE}/bare/events/candidate.admitted"
    start = time.perf_counter()
    for _ in range(n):
        window.acquire()
        client.publish(topic, payload, qos=1, properties=publish_properties(user={"event_id": "bare"}))
    for _ in range(n):
        acked.acquire()
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return n / elapsed


def outbox_stream(url: str, db: Path, n: int, sync: str, max_inflight: int) -> dict[str, float]:
    store = Store.open(db, synchronous=sync)  # type: ignore[arg-type]
    store.ensure_session(SESSION)
    counter = Counter(url)
    settings = MqttSettings(broker_url=url, client_id=f"bench-{time.monotonic_ns()}", max_inflight=max_inflight)
    link = GateLink(settings, store, NullTarget(), site_id=SITE, gate_id=GATE)
    link.start()
    link.connection.wait_connected(10)
    counter.ready.wait(5)
    start = time.perf_counter()
    decided_at = 0.0
    committed: dict[str, float] = {}
    for i in range(n):
        ev = admitted(i)
        store.record_decision(ev)
        committed[ev.event_id] = time.perf_counter()
        link.wake()
    decided_at = time.perf_counter() - start
    while store.outbox_backlog() > 0:
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    complete = counter.wait_for(n, 30)
    with counter.lock:
        distinct, messages = len(counter.ids), counter.messages
        latencies = sorted(counter.first_seen[k] - t for k, t in committed.items() if k in counter.first_seen)
    link.stop()
    counter.close()
    store.close()
    return {
        "events": n,
        "decisions_per_s": n / decided_at,
        "decision_to_puback_per_s": n / elapsed,
        "seconds": elapsed,
        "distinct_received": distinct,
        "duplicates": messages - distinct,
        "lost": n - distinct,
        "complete": float(complete),
        "latency_p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else -1.0,
        "latency_p95_ms": latencies[int(len(latencies) * 0.95)] * 1000 if latencies else -1.0,
        "latency_max_ms": latencies[-1] * 1000 if latencies else -1.0,
    }


def drain(url: str, db: Path, n: int, sync: str, max_inflight: int) -> dict[str, float]:
    fill = Store.open(db, synchronous="NORMAL")
    t0 = time.perf_counter()
    for i in range(n):
        fill.append_event(admitted(1_000_000 + i))
    fill_s = time.perf_counter() - t0
    fill.close()
    store = Store.open(db, synchronous=sync)  # type: ignore[arg-type]
    counter = Counter(url)
    settings = MqttSettings(broker_url=url, client_id=f"drain-{time.monotonic_ns()}", max_inflight=max_inflight)
    link = GateLink(settings, store, NullTarget(), site_id=SITE, gate_id=GATE)
    start = time.perf_counter()
    link.start()
    while store.outbox_backlog() > 0:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    complete = counter.wait_for(n, 60)
    with counter.lock:
        distinct = len(counter.ids)
    link.stop()
    counter.close()
    store.close()
    return {
        "backlog": n,
        "fill_s": fill_s,
        "drain_s": elapsed,
        "per_s": n / elapsed,
        "lost": n - distinct,
        "complete": float(complete),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--drain", type=int, default=100_000)
    parser.add_argument("--sync", choices=("FULL", "NORMAL"), default="FULL")
    parser.add_argument("--max-inflight", type=int, default=50)
    parser.add_argument("--broker", help="use this broker instead of a private mosquitto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    proc = None
    folder = None
    url = args.broker
    if url is None:
        proc, url, folder = start_mosquitto()
    work = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
    try:
        payload = admitted(0).model_dump_json().encode()
        baseline = bare_paho(url, args.events, args.max_inflight, payload)
        stream = outbox_stream(url, work / "stream.db", args.events, args.sync, args.max_inflight)
        drained = drain(url, work / "drain.db", args.drain, args.sync, args.max_inflight) if args.drain else {}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    result = {
        "payload_bytes": len(payload),
        "sync": args.sync,
        "max_inflight": args.max_inflight,
        "baseline_bare_paho_per_s": round(baseline),
        "outbox": {k: round(v, 2) for k, v in stream.items()},
        "ratio_outbox_to_bare": round(stream["decision_to_puback_per_s"] / baseline, 3),
        "drain": {k: round(v, 2) for k, v in drained.items()},
        "ratio_drain_to_bare": round(drained["per_s"] / baseline, 3) if drained else None,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"payload {len(payload)} B, store synchronous={args.sync}, in-flight window {args.max_inflight}")
    print(f"bare paho QoS 1 loop (baseline):           {baseline:8.0f} acked msg/s")
    print(
        f"decision → outbox → PUBACK:                {stream['decision_to_puback_per_s']:8.0f} events/s "
        f"(ratio {result['ratio_outbox_to_bare']}; lane alone {stream['decisions_per_s']:.0f} decisions/s)"
    )
    print(
        f"  received {stream['distinct_received']:.0f}/{args.events} distinct, lost {stream['lost']:.0f}, "
        f"duplicates {stream['duplicates']:.0f}"
    )
    print(
        f"  decision commit → subscriber: p50 {stream['latency_p50_ms']:.1f} ms, "
        f"p95 {stream['latency_p95_ms']:.1f} ms, max {stream['latency_max_ms']:.1f} ms"
    )
    if drained:
        print(
            f"drain a {args.drain}-event backlog:            {drained['drain_s']:8.1f} s "
            f"({drained['per_s']:.0f} events/s, lost {drained['lost']:.0f}; filled in {drained['fill_s']:.1f} s)"
        )
        print(f"publisher alone (drain) vs bare paho:       ratio {result['ratio_drain_to_bare']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
