"""A gate whose devices are missing at start still starts, says so, keeps candidates safe, and recovers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from lane_helpers import run_until, write_card

from edge.config import sample_config
from edge.degraded import Reopening, ReopeningTurnstile
from edge.errors import DeviceError
from edge.lane import CandidateReport
from edge.store import RosterRow
from edge.wiring import build_gate
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile

FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"


def make_cards(tmp: Path) -> Path:
    cards = tmp / "cards"
    cards.mkdir()
    write_card(cards, "an", "001099012345", "An", FACES / "person01" / "img4.jpg")
    return cards


def test_missing_camera_starts_degraded_and_sends_candidates_to_review(tmp_path: Path) -> None:
    make_cards(tmp_path)
    cfg = sample_config(tmp_path)  # camera folder tmp_path/camera does not exist
    gate = build_gate(cfg, session_id="S", verifier=ScoreTableVerifier({"x": 0.9}))
    try:
        assert [name for name, _ in gate.lane.startup_faults] == ["camera"]
        assert gate.lane.startup_faults[0][1].code == "E_CAMERA_FOLDER_MISSING"
        gate.store.replace_roster("S", [RosterRow("SBD-1", "001099012345", "An")])
        gate.lane.settings = dataclasses.replace(
            gate.lane.settings, frames_per_attempt=1, capture_window_s=0.0, review_timeout_s=0.5
        )
        reports = run_until(gate, taps=1, stop_after_reports=1)
        events = [json.loads(r.payload) for r in gate.store.outbox_all()]
        assert events[0]["event_type"] == "device.fault" and events[0]["code"] == "E_CAMERA_FOLDER_MISSING"
        assert events[1]["event_type"] == "device.status" and events[1]["state"] == "degraded"
        assert reports[0].reasons[0] == "E_FACE_CAPTURE_FAILED"
        assert "E_CAMERA_FOLDER_MISSING" in reports[0].reasons
        turnstile = gate.turnstile
        assert isinstance(turnstile, VirtualTurnstile) and turnstile.pulses == ()
    finally:
        gate.close()


def test_a_device_that_comes_back_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    calls: list[int] = []

    def factory() -> Path:
        calls.append(1)
        if not folder.is_dir():
            raise DeviceError("camera folder missing", code="E_CAMERA_FOLDER_MISSING")
        return folder

    slot = Reopening("camera", factory, DeviceError("missing", code="E_CAMERA_FOLDER_MISSING"), retry_s=0.0)
    with pytest.raises(DeviceError) as info:
        slot.get()
    assert info.value.code == "E_CAMERA_FOLDER_MISSING"
    folder.mkdir()
    assert slot.get() == folder
    assert slot.opened() == folder and slot.error is None
    assert len(calls) == 2


def test_turnstile_missing_keeps_the_decision_and_reports_the_fault(tmp_path: Path) -> None:
    make_cards(tmp_path)
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copyfile(FACES / "person01" / "img5.jpg", camera / "high.jpg")
    err = DeviceError("GPIO not available", code="E_TURNSTILE_GPIO_UNAVAILABLE")

    def no_gpio() -> VirtualTurnstile:
        raise err

    broken = ReopeningTurnstile(Reopening("turnstile", no_gpio, err, retry_s=3600))
    gate = build_gate(
        sample_config(tmp_path), session_id="S", turnstile=broken, verifier=ScoreTableVerifier({"high": 0.95})
    )
    try:
        gate.store.replace_roster("S", [RosterRow("SBD-1", "001099012345", "An")])
        reader = gate.reader
        assert isinstance(reader, FixtureCardReader)

        async def go() -> CandidateReport:
            reader.tap("an")
            tap = await asyncio.to_thread(reader.poll, 1.0)
            assert tap is not None
            return await gate.lane.process(tap)

        report = asyncio.run(go())
        assert report.outcome == "pass" and report.passed is False
        types = [r.event_type for r in gate.store.outbox_all()]
        assert types == ["candidate.admitted", "device.fault", "gate.passage_timeout"]
        assert gate.turnstile.status().fault == "E_TURNSTILE_GPIO_UNAVAILABLE"
    finally:
        gate.close()
