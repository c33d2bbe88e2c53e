"""What keeps a lane admitting safely when things go wrong: a crash in one candidate, locks, shutdown mid-review."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from lane_helpers import run_until, write_card

from edge.config import sample_config
from edge.devices import FaceResult, Frame, ReferenceImage
from edge.errors import ExamGateError
from edge.gate_commands import GateCommands
from edge.lane import AssistedRequest
from edge.store import RosterRow
from edge.wiring import Gate, build_gate
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile

FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"


class ExplodingVerifier:
    """A face verifier with a bug: it raises something that is not an ExamGateError."""

    model_version = "exploding"

    def verify(self, live: Sequence[Frame], references: Sequence[ReferenceImage]) -> FaceResult:
        raise ZeroDivisionError("bug")


def make_gate(tmp: Path, verifier: object | None = None) -> Gate:
    cards = tmp / "cards"
    cards.mkdir(exist_ok=True)
    write_card(cards, "an", "001099012345", "An", FACES / "person01" / "img4.jpg")
    camera = tmp / "camera"
    camera.mkdir(exist_ok=True)
    shutil.copyfile(FACES / "person01" / "img5.jpg", camera / "grey.jpg")
    gate = build_gate(
        sample_config(tmp),
        session_id="S",
        verifier=verifier or ScoreTableVerifier({"grey": 0.55}),  # type: ignore[arg-type]
        turnstile=VirtualTurnstile(pulse_ms=10, passage_after_s=0.01),
    )
    gate.store.replace_roster("S", [RosterRow("SBD-1", "001099012345", "An")])
    gate.lane.settings = dataclasses.replace(
        gate.lane.settings, frames_per_attempt=1, capture_window_s=0.0, review_timeout_s=60.0
    )
    return gate


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    built = make_gate(tmp_path)
    yield built
    built.close()


def test_a_bug_in_one_candidate_does_not_stop_the_lane(tmp_path: Path) -> None:
    gate = make_gate(tmp_path, ExplodingVerifier())
    try:
        reader = gate.reader
        assert isinstance(reader, FixtureCardReader)

        async def go() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(gate.lane.run(stop))
            reader.tap("an")
            reader.tap("an")
            for _ in range(100):
                faults = [r for r in gate.store.outbox_all() if r.event_type == "device.fault"]
                if len(faults) >= 2:
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.wait_for(task, timeout=20)

        asyncio.run(go())
        faults = [json.loads(r.payload) for r in gate.store.outbox_all() if r.event_type == "device.fault"]
        assert [f["code"] for f in faults] == ["E_LANE_CANDIDATE_FAILED", "E_LANE_CANDIDATE_FAILED"]
        turnstile = gate.turnstile
        assert isinstance(turnstile, VirtualTurnstile) and turnstile.pulses == ()
    finally:
        gate.close()


def test_shutdown_during_a_review_denies_it_at_once(gate: Gate) -> None:
    reports = run_until(gate, taps=1, stop_after_reports=1, on_review_stop=True)
    assert reports[0].reviewed_by == "system"
    assert gate.store.pending_reviews() == []
    turnstile = gate.turnstile
    assert isinstance(turnstile, VirtualTurnstile) and turnstile.pulses == ()


def test_centre_lock_survives_fire_alarm_and_restart(tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    try:
        GateCommands(gate.lane, gate.store, "d").lock_gate("exam postponed", "centre-ops")
        turnstile = gate.turnstile
        assert isinstance(turnstile, VirtualTurnstile)
        turnstile.set_fire_release(True)

        async def cycle() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(gate.lane.run(stop))
            await asyncio.sleep(0.8)
            assert gate.lane.locked_reason == "fire_release"
            turnstile.set_fire_release(False)
            await asyncio.sleep(0.8)
            stop.set()
            await asyncio.wait_for(task, timeout=10)

        asyncio.run(cycle())
        assert gate.lane.locked_reason == "centre: exam postponed"
        with pytest.raises(ExamGateError) as info:
            asyncio.run(gate.lane.process_assisted(AssistedRequest("001099012345", "vneid_level2", "officer1")))
        assert info.value.code == "E_GATE_LOCKED"
    finally:
        gate.close()
    again = make_gate(tmp_path)  # a restart keeps the centre's lock
    try:
        assert again.lane.locked_reason == "centre: exam postponed"
        GateCommands(again.lane, again.store, "d").unlock_gate("rescheduled", "centre-ops")
        assert again.lane.locked_reason is None
    finally:
        again.close()
    assert not (tmp_path / "gate.locked").exists()
