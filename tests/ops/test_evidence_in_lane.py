"""The vault as the lane's EvidenceSink: a failed face match keeps the chip and roster photos sealed; a pass keeps
nothing. Simulated devices, real store, real encryption."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lane_helpers import sim_gate, tap, write_card

from edge.privacy import EvidenceVault
from edge.privacy.keys import key_id_of
from edge.store import RosterRow
from edge.wiring import Gate
from firmware_bridge.sim.score_verifier import ScoreTableVerifier

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[tuple[Gate, EvidenceVault]]:
    (tmp_path / "cards").mkdir()
    shutil.copyfile(FACES / "obama2.jpg", tmp_path / "cards" / "an.jpg")
    write_card(tmp_path / "cards", "an", "001099012345", "An", "an.jpg")
    for scene in ("high", "low"):
        (tmp_path / "camera" / scene).mkdir(parents=True)
        shutil.copyfile(FACES / "obama.jpg", tmp_path / "camera" / scene / f"{scene}.jpg")
    built = sim_gate(tmp_path, ScoreTableVerifier({"high": 0.9, "low": 0.1}))
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


def test_fail_keeps_sealed_photos_pass_keeps_nothing(gate: tuple[Gate, EvidenceVault]) -> None:
    built, vault = gate
    failed = tap(built, "an", "low")
    assert failed.outcome == "fail" and failed.face_score == pytest.approx(0.1)
    chip = vault.load(failed.attempt_id, "chip")
    roster = vault.load(failed.attempt_id, "roster")
    assert chip is not None and chip.startswith(b"\xff\xd8")
    assert roster is not None and roster.startswith(b"\xff\xd8")
    assert vault.failures == 0
    passed = tap(built, "an", "high")  # the same candidate again, now matching: admitted, nothing kept
    assert passed.outcome == "pass"
    assert all(vault.load(passed.attempt_id, k) is None for k in ("live", "chip", "roster"))  # type: ignore[arg-type]
    assert built.store.verify_audit().ok
