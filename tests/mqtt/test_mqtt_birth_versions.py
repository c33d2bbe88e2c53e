"""The gate's retained birth names its face model, thresholds and PAD model (the centre's gates table shows them)."""

from __future__ import annotations

import json
from pathlib import Path

from mqtt_broker import Mosquitto
from mqtt_helpers import Collector

from edge.config import sample_config
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import status_topic
from edge.vision.pad.settings import PadSettings
from edge.wiring import build_gate, build_link
from firmware_bridge.sim.score_verifier import ScoreTableVerifier


def test_birth_carries_model_thresholds_and_pad_versions(broker: Mosquitto, tmp_path: Path) -> None:
    (tmp_path / "camera").mkdir()
    cfg = sample_config(tmp_path).model_copy(
        update={"mqtt": MqttSettings(broker_url=broker.url, client_id="birth-t"), "pad": PadSettings(mode="signal")}
    )
    gate = build_gate(cfg, session_id="S", verifier=ScoreTableVerifier({"x": 0.9}))
    link = build_link(gate)
    assert link is not None
    status = Collector("127.0.0.1", broker.port, status_topic(cfg.site.site_id, cfg.site.gate_id))
    try:
        link.start()
        assert status.wait_for(lambda m: any(json.loads(x.payload)["state"] == "online" for x in m), 10)
        birth = json.loads(status.snapshot()[-1].payload)
    finally:
        status.close()
        link.stop()
        gate.close()
    assert birth["versions"]["model"] == "simulated-score-table"
    assert birth["versions"]["thresholds"] == "test"
    assert birth["versions"]["pad_model"].startswith("minifasnet_v2+minifasnet_v1se@")
    assert birth["outbox_backlog"] >= 0
