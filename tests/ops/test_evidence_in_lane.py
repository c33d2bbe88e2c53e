"""The vault as the lane's EvidenceSink: a failed face match keeps the chip and roster photos sealed; a pass keeps
nothing. Simulated devices, real store, real encryption."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.config import sample_config
from edge.lane import CandidateReport
from edge.privacy import EvidenceVault
from edge.privacy.keys import key_id_of
from edge.store import RosterRow
from edge.wiring import Gate, build_gate
from firmware_bridge.camera.folder import FolderCamera
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[tuple[Gate, EvidenceVault]]:
    (tmp_path / "cards").mkdir()
    shutil.copyfile(FACES / "obama2.jpg", tmp_path / "cards" / "an.jpg")
    (tmp_path / "cards" / "an.json").write_text(
        json.dumps(
            {
                "format": "examgate-card-fixture/1",
                "personal_id": "001099012345",
                "full_name": "An",
                "birth_date": "1999-01-01",
                "face_image": "an.jpg",
            }
        )
    )
    for scene in ("high", "low"):
        (tmp_path / "camera" / scene).mkdir(parents=True)
        shutil.copyfile(FACES / "obama.jpg", tmp_path / "camera" / scene / f"{scene}.jpg")
    built = build_gate(
        sample_config(tmp_path),
        session_id="SES1",
        reader=FixtureCardReader(tmp_path / "cards"),
        camera=FolderCamera(tmp_path / "camera" / "high", fps=1000),
        turnstile=VirtualTurnstile(pulse_ms=10, passage_after_s=0.01),
        verifier=ScoreTableVerifier({"high": 0.9, "low": 0.1}),
    )
    built.store.replace_roster(
        "SES1", [RosterRow("SBD-1", "001099012345", "An", photo=(FACES / "obama2.jpg").read_bytes())]
    )
    built.lane.settings = dataclasses.replace(
        built.lane.settings, capture_window_s=0.0, frames_per_attempt=1, passage_timeout_s=0.5
    )
    key = os.urandom(32)
    vault = EvidenceVault(built.store, key, 30, key_id_of(key))
    built.lane.evidence = vault  # what build_gate does once wired (see the report)
    yield built, vault
    built.close()


def tap(gate: Gate, scene: str) -> CandidateReport:
    reader, camera = gate.reader, gate.camera
    assert isinstance(reader, FixtureCardReader) and isinstance(camera, FolderCamera)
    camera.set_folder(camera.folder.parent / scene)
    reader.tap("an")

    async def go() -> CandidateReport:
        gate.lane.reviews.bind(asyncio.get_running_loop())
        polled = await asyncio.to_thread(reader.poll, 1.0)
        assert polled is not None
        return await gate.lane.process(polled)

    return asyncio.run(go())


def test_fail_keeps_sealed_photos_pass_keeps_nothing(gate: tuple[Gate, EvidenceVault]) -> None:
    built, vault = gate
    failed = tap(built, "low")
    assert failed.outcome == "fail" and failed.face_score == pytest.approx(0.1)
    chip = vault.load(failed.attempt_id, "chip")
    roster = vault.load(failed.attempt_id, "roster")
    assert chip is not None and chip.startswith(b"\xff\xd8")
    assert roster is not None and roster.startswith(b"\xff\xd8")
    assert vault.failures == 0
    passed = tap(built, "high")  # the same candidate again, now matching: admitted, nothing kept
    assert passed.outcome == "pass"
    assert all(vault.load(passed.attempt_id, k) is None for k in ("live", "chip", "roster"))  # type: ignore[arg-type]
    assert built.store.verify_audit().ok
