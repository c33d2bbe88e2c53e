"""Reference ingest (shared subscription, idempotent), `events tail`, `events asyncapi` and its drift check."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from mqtt_broker import Mosquitto
from mqtt_helpers import SITE, admitted_event, status_event, wait_until
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.cli.mqtt import register, register_events_commands
from edge.events.models import CandidateAdmitted, Subject
from edge.mqtt.asyncapi import asyncapi_document, committed_asyncapi_path, render_asyncapi
from edge.mqtt.errors import MqttConfigError
from edge.mqtt.ingest import EventSink, Ingestor
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import event_topic

REPO = Path(__file__).resolve().parents[2]


def raw_publisher(broker: Mosquitto) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def publish_event(client: mqtt.Client, event: Any, gate_id: str = "gate-a") -> None:
    topic = event_topic(SITE, gate_id, event.event_type)
    client.publish(topic, event.model_dump_json(), qos=1).wait_for_publish(5)


def test_shared_subscription_splits_and_deduplicates(broker: Mosquitto, tmp_path: Path) -> None:
    sink = EventSink(tmp_path / "central.db")
    settings = MqttSettings(broker_url=broker.url)
    workers = [Ingestor(settings, sink, "grp1", client_id=f"ing-{n}-{time.monotonic_ns()}") for n in range(2)]
    for w in workers:
        w.start()
    assert all(w.subscribed.wait(5) for w in workers)
    pub = raw_publisher(broker)
    events = [status_event(i) for i in range(40)]
    try:
        for ev in events:
            publish_event(pub, ev)
        publish_event(pub, events[0])  # redelivery of the same event_id
        pub.publish(event_topic(SITE, "gate-a", "device.status"), b'{"nope": 1}', qos=1).wait_for_publish(5)
        pub.publish(event_topic(SITE, "gate-z", "device.status"), events[1].model_dump_json(), qos=1)
        assert wait_until(lambda: sum(w.received for w in workers) >= 43, 10)
    finally:
        pub.disconnect()
        pub.loop_stop()
        for w in workers:
            w.stop()
    assert sink.count() == 40
    assert sink.stored == 40
    assert sink.duplicates == 1
    assert sink.rejected == 2  # invalid payload; topic gate differs from payload gate
    assert all(w.received > 0 for w in workers)  # the group really shared the load
    sink.close()


def run_cli(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("mqtt_cli_runner.py")), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def test_ingest_and_tail_commands(broker: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "ingest.db"
    ingest = run_cli(
        "ingest", "--broker", broker.url, "--db", str(db), "--group", "cli", "--count", "3", "--timeout-s", "20"
    )
    tail = run_cli("events", "tail", "--broker", broker.url, "--site", SITE, "--count", "3", "--timeout-s", "20")
    for proc in (ingest, tail):
        assert proc.stderr is not None
        assert proc.stderr.readline().startswith("subscribed to"), "CLI did not subscribe"
    pub = raw_publisher(broker)
    admitted = CandidateAdmitted.model_validate(
        {
            **admitted_event("SBD123456", "gate-a", "S1").model_dump(),
            "subject": Subject(candidate_id="SBD123456", id_masked="001099012345"),
            "face_score": 0.91,
        }
    )
    try:
        publish_event(pub, admitted)
        publish_event(pub, status_event(1))
        publish_event(pub, admitted)
        out, err = ingest.communicate(timeout=30)
        tail_out, tail_err = tail.communicate(timeout=30)
    finally:
        pub.disconnect()
        pub.loop_stop()
        for proc in (ingest, tail):
            if proc.poll() is None:
                proc.kill()
    assert ingest.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary == {"stored": 2, "duplicates": 1, "rejected": 0, "total_in_db": 2}
    lines = tail_out.strip().splitlines()
    assert tail.returncode == 0, tail_err
    assert len(lines) == 3
    assert "candidate.admitted" in lines[0]
    assert "0010******45" in lines[0]
    assert "001099012345" not in tail_out
    assert "SBD123456" not in tail_out
    assert "face=0.910" in lines[0]
    assert "state=ready" in lines[1]


def test_asyncapi_document_is_committed_and_consistent() -> None:
    path = committed_asyncapi_path(REPO)
    assert path.read_text(encoding="utf-8") == render_asyncapi(), "run `examgate events asyncapi --write`"
    doc = asyncapi_document()
    assert doc["asyncapi"] == "3.0.0"

    def resolve(ref: str) -> object:
        node: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)  # every $ref resolves inside the document
    events = doc["channels"]["events"]["parameters"]["event_type"]["enum"]
    assert "candidate.admitted" in events
    assert "admission.conflict" in events
    assert set(doc["channels"]["commands"]["parameters"]["name"]["enum"]) >= {"roster.replace", "ping"}


def test_cli_parser_hooks_and_bad_options() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    register(sub)
    events = sub.add_parser("events")
    register_events_commands(events.add_subparsers(dest="action"))
    args = parser.parse_args(["events", "tail", "--broker", "mqtt://10.1.1.1:1883"])
    with pytest.raises(MqttConfigError) as info:
        args.func(args)
    assert "plain mqtt://" in str(info.value)
    args = parser.parse_args(["events", "asyncapi", "--check"])
    assert args.func(args) == 0
