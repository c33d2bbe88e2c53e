"""A gate whose face model is not the listed file starts degraded, says why, and never passes anyone unchecked."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from lane_helpers import run_until, write_card

from edge.config import sample_config
from edge.store import RosterRow
from edge.vision.models import SUMS_FILE_NAME, repo_models_dir
from edge.vision.pad.settings import PadSettings
from edge.vision.settings import VisionSettings
from edge.wiring import build_gate
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile

FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"


def test_replaced_embedder_starts_degraded_and_sends_candidates_to_review(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    vision = VisionSettings()
    for name in (vision.detector_file_name, vision.embedder_file_name, "thresholds.toml", SUMS_FILE_NAME):
        shutil.copy(repo_models_dir() / name, models / name)
    embedder = models / vision.embedder_file_name
    data = bytearray(embedder.read_bytes())
    data[-100] ^= 0xFF  # replaced or damaged in transit: same size, other bytes
    embedder.write_bytes(bytes(data))
    (tmp_path / "cards").mkdir()
    write_card(tmp_path / "cards", "an", "001099012345", "An", FACES / "person01" / "img4.jpg")
    (tmp_path / "camera").mkdir()
    shutil.copy(FACES / "person01" / "img5.jpg", tmp_path / "camera" / "live.jpg")  # the honest candidate
    cfg = sample_config(tmp_path)
    cfg = cfg.model_copy(update={"vision": cfg.vision.model_copy(update={"models_dir": models})})
    gate = build_gate(cfg, session_id="S")
    try:
        assert [(name, err.code) for name, err in gate.lane.startup_faults] == [("model", "E_MODEL_HASH")]
        gate.store.replace_roster("S", [RosterRow("SBD-1", "001099012345", "An")])
        gate.lane.settings = dataclasses.replace(
            gate.lane.settings, frames_per_attempt=1, capture_window_s=0.0, review_timeout_s=0.5
        )
        reports = run_until(gate, taps=1, stop_after_reports=1)
        events = [json.loads(r.payload) for r in gate.store.outbox_all()]
        faults = [e for e in events if e["event_type"] == "device.fault"]
        assert faults and {(e["device"], e["code"]) for e in faults} == {("model", "E_MODEL_HASH")}
        assert reports[0].outcome != "pass"
        assert "E_MODEL_HASH" in reports[0].reasons
        turnstile = gate.turnstile
        assert isinstance(turnstile, VirtualTurnstile) and turnstile.pulses == ()
    finally:
        gate.close()


def test_pad_that_cannot_run_is_reported_at_start(tmp_path: Path) -> None:
    """PAD thresholds set for other PAD models: the gate says so at start (device.fault, status degraded)."""
    thresholds = tmp_path / "thresholds_pad.toml"
    shipped = (repo_models_dir() / "thresholds_pad.toml").read_text()
    thresholds.write_text(shipped.replace('model_version = "', 'model_version = "other-'))
    (tmp_path / "camera").mkdir()
    cfg = sample_config(tmp_path)
    cfg = cfg.model_copy(update={"pad": PadSettings(mode="enforce", thresholds_file=thresholds)})
    gate = build_gate(cfg, session_id="S", verifier=ScoreTableVerifier({"x": 0.9}))
    try:
        faults = [(name, err.code) for name, err in gate.lane.startup_faults]
        assert ("model", "E_THRESHOLDS_MODEL_MISMATCH") in faults  # (the empty fixture folders are faults too)
    finally:
        gate.close()
