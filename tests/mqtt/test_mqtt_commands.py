"""Commands over a real broker: replies with correlation data, idempotency, refusals that change nothing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from mqtt_broker import Mosquitto
from mqtt_helpers import SITE, Collector, StoreTarget
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.mqtt.commands import sign
from edge.mqtt.link import GateLink
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import command_topic, reply_prefix
from edge.store import Store

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
HMAC_KEY = b"k" * 32


class Gate:
    def __init__(self, broker: Mosquitto, folder: Path, gate_id: str, **extra: Any) -> None:
        self.gate_id = gate_id
        self.store = Store.open(folder / f"{gate_id}.db", synchronous="NORMAL")
        self.target = StoreTarget(self.store)
        settings = MqttSettings(broker_url=broker.url, client_id=f"cmd-{gate_id}", command_max_bytes=64_000, **extra)
        self.link = GateLink(settings, self.store, self.target, site_id=SITE, gate_id=gate_id)
        self.link.start()
        assert self.link.connection.wait_ready(10)
        self.replies = Collector("127.0.0.1", broker.port, reply_prefix(SITE, gate_id) + "#")
        self.sender = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.sender.connect("127.0.0.1", broker.port)
        self.sender.loop_start()

    def send(
        self,
        name: str,
        payload: bytes | dict[str, Any],
        *,
        reply_to: str | None = None,
        sig: str | None = None,
    ) -> dict[str, Any]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        correlation = uuid.uuid4().bytes
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_to or reply_prefix(SITE, self.gate_id) + "ops"
        props.CorrelationData = correlation
        if sig is not None:
            props.UserProperty = [("sig", sig)]
        self.sender.publish(command_topic(SITE, self.gate_id, name), body, qos=1, properties=props).wait_for_publish(5)
        matching = lambda ms: [m for m in ms if m.properties.CorrelationData == correlation]  # noqa: E731
        if reply_to is not None and not reply_to.startswith(reply_prefix(SITE, self.gate_id)):
            assert self.replies.wait_for(lambda ms: any(m.topic.endswith("/reply/" + name) for m in ms), 10)
            return json.loads([m for m in self.replies.snapshot() if m.topic.endswith("/reply/" + name)][-1].payload)
        assert self.replies.wait_for(lambda ms: bool(matching(ms)), 10), f"no reply to {name}"
        return json.loads(matching(self.replies.snapshot())[0].payload)

    def close(self) -> None:
        self.sender.disconnect()
        self.sender.loop_stop()
        self.replies.close()
        self.link.stop()
        self.store.close()


@pytest.fixture(scope="module")
def gate(broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    g = Gate(
        broker,
        tmp_path_factory.mktemp("cmd"),
        "gate-c",
        commands_enabled=("roster.replace", "roster.upsert", "thresholds.set", "gate.lock", "gate.unlock", "ping"),
    )
    yield g
    g.close()


def roster(command_id: str, rows: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "command_id": command_id,
        "issued_by": "ops-1",
        "session_id": "S1",
        "rows": [
            {
                "candidate_id": f"C{i:04d}",
                "personal_id": f"0010990{i:05d}",
                "full_name": f"Nguyễn Văn {i}",
                "birth_date": "2004-05-06",
                "photo_b64": base64.b64encode(JPEG).decode(),
            }
            for i in range(rows)
        ],
        **extra,
    }


def test_roster_replace_replies_with_count_and_digest(gate: Gate) -> None:
    reply = gate.send("roster.replace", roster("cmd-roster-0001", rows=3))
    assert reply["status"] == "ok", reply
    digest = gate.store.roster_digest("S1")
    assert reply["result"]["count"] == 3 == digest.count
    assert reply["result"]["sha256"] == digest.sha256
    found = gate.store.find_candidate("S1", "001099000001")
    assert found is not None
    assert found.photo == JPEG
    assert reply["duplicate"] is False


def test_same_command_id_is_not_applied_twice(gate: Gate) -> None:
    first = gate.send("roster.upsert", roster("cmd-upsert-0001", rows=4))
    assert first["status"] == "ok"
    before = gate.store.roster_digest("S1")
    again = gate.send("roster.upsert", roster("cmd-upsert-0001", rows=9))  # different body, same id
    assert again["duplicate"] is True
    assert again["result"] == first["result"]
    assert gate.store.roster_digest("S1") == before


@pytest.mark.parametrize(
    ("name", "payload", "code"),
    [
        ("roster.replace", b"{not json", "E_CMD_INVALID"),
        ("roster.replace", b"\xff\xfe", "E_CMD_INVALID"),
        (
            "thresholds.set",
            {
                "command_id": "cmd-thr-0001",
                "issued_by": "ops",
                "thresholds": {"version": "v2", "match": 0.5, "review": 0.7},
            },
            "E_CMD_INVALID",
        ),
        ("gate.lock", {"command_id": "cmd-lock-0001", "issued_by": "ops", "reason": "x", "extra": 1}, "E_CMD_INVALID"),
        ("gate.lock", {"command_id": "short", "issued_by": "ops", "reason": "x"}, "E_CMD_INVALID"),
        ("self.destruct", {"command_id": "cmd-bad-00001", "issued_by": "ops"}, "E_CMD_UNKNOWN"),
        ("diagnostics", {"command_id": "cmd-diag-0001", "issued_by": "ops"}, "E_CMD_UNAUTHORISED"),
    ],
)
def test_bad_commands_get_an_error_reply_and_change_nothing(
    gate: Gate, name: str, payload: bytes | dict[str, Any], code: str
) -> None:
    before = (gate.store.roster_digest("S1"), gate.target.locked, gate.target.thresholds, gate.store.audit_head()[0])
    reply = gate.send(name, payload)
    assert reply["status"] == "error"
    assert reply["errors"][0]["code"] == code
    assert reply["errors"][0]["remedy"]
    after = (gate.store.roster_digest("S1"), gate.target.locked, gate.target.thresholds)
    assert after == before[:3]
    assert gate.store.audit_head()[0] == before[3] + 1  # the refusal itself is in the audit chain
    assert gate.store.verify_audit().ok


def test_invalid_roster_row_is_refused_without_echoing_the_id(gate: Gate) -> None:
    before = gate.store.roster_digest("S1")
    bad = roster("cmd-roster-bad1", rows=2)
    bad["rows"][1]["personal_id"] = "00109900000"  # 11 digits
    reply = gate.send("roster.replace", bad)
    assert reply["status"] == "error"
    assert reply["command_id"] == "cmd-roster-bad1"
    assert any(e["loc"] == "rows.1.personal_id" for e in reply["errors"])
    assert "00109900000" not in json.dumps(reply)
    assert gate.store.roster_digest("S1") == before


def test_oversized_command_is_refused(gate: Gate) -> None:
    before = gate.store.roster_digest("S1")
    reply = gate.send("roster.replace", roster("cmd-roster-big1", rows=400))
    assert reply["errors"][0]["code"] == "E_CMD_TOO_LARGE"
    assert gate.store.roster_digest("S1") == before


def test_reply_topic_outside_the_gate_prefix_is_refused(gate: Gate) -> None:
    reply = gate.send(
        "gate.lock",
        {"command_id": "cmd-lock-0002", "issued_by": "ops", "reason": "x"},
        reply_to="examgate/v1/site-1/other-gate/reply/steal",
    )
    assert reply["errors"][0]["code"] == "E_CMD_REPLY_TOPIC"
    assert gate.target.locked is False


def test_lock_unlock_thresholds_and_ping(gate: Gate) -> None:
    assert gate.send("gate.lock", {"command_id": "cmd-lock-1001", "issued_by": "ops", "reason": "drill"})["result"] == {
        "locked": True
    }
    assert gate.target.locked is True
    gate.send("gate.unlock", {"command_id": "cmd-unlock-1001", "issued_by": "ops", "reason": "drill over"})
    assert gate.target.locked is False
    reply = gate.send(
        "thresholds.set",
        {
            "command_id": "cmd-thr-1001",
            "issued_by": "ops",
            "thresholds": {"version": "v7", "match": 0.62, "review": 0.5},
        },
    )
    assert reply["status"] == "ok"
    assert gate.target.thresholds is not None
    assert gate.target.thresholds.version == "v7"
    assert gate.send("ping", {"command_id": "cmd-ping-1001", "issued_by": "ops"})["result"] == {"pong": True}


def test_signed_commands_when_a_key_is_configured(broker: Mosquitto, tmp_path: Path) -> None:
    key_file = tmp_path / "cmd.key"
    key_file.write_bytes(HMAC_KEY)
    g = Gate(broker, tmp_path, "gate-h", command_hmac_key_file=key_file)
    try:
        body = json.dumps({"command_id": "cmd-lock-h001", "issued_by": "ops", "reason": "x"}).encode()
        topic = command_topic(SITE, "gate-h", "gate.lock")
        unsigned = g.send("gate.lock", body)
        assert unsigned["errors"][0]["code"] == "E_CMD_UNAUTHORISED"
        forged = g.send("gate.lock", body, sig=sign(b"x" * 32, topic, body))
        assert forged["errors"][0]["code"] == "E_CMD_UNAUTHORISED"
        assert g.target.locked is False
        signed = g.send("gate.lock", body, sig=sign(HMAC_KEY, topic, body))
        assert signed["status"] == "ok"
        assert g.target.locked is True
    finally:
        g.close()
