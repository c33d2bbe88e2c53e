"""PAD through the real lane (issue 12): a live photo, a simulated print and a simulated screen replay in front of
the camera, with [pad] off / signal / enforce. Real detector and PAD models; the face matcher is the score table
(every frame matches), so only PAD can change the outcome."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lane_helpers import sim_gate, tap, write_card

from edge.config import sample_config
from edge.policy import reasons as codes
from edge.reviews import ReviewAnswer
from edge.store import RosterRow
from edge.vision.models import repo_models_dir
from edge.vision.pad.settings import PadSettings
from edge.vision.pad.thresholds import PAD_THRESHOLDS_FILE_NAME, load_pad_thresholds
from edge.wiring import Gate
from firmware_bridge.sim.score_verifier import ScoreTableVerifier

DATA = Path(__file__).resolve().parents[1] / "data"
DENY = ReviewAnswer(False, "proctor-1", "test")  # a review the attempt opens: we only look at the decision
SCENES = {  # scene folder: camera frames (every frame's file stem scores 0.9 in the matcher)
    "live": [DATA / "faces/obama.jpg"],
    "print": [DATA / "pad/sim_print_biden.jpg"],  # simulated print: score ~0.3 (suspected)
    "screen": [DATA / "pad/sim_screen_obama.jpg"],  # simulated screen replay: score ~0.0 (confident attack)
}


def _gate(tmp_path: Path, mode: str) -> Gate:
    (tmp_path / "cards").mkdir()
    shutil.copyfile(DATA / "faces/obama2.jpg", tmp_path / "cards/an.jpg")
    write_card(tmp_path / "cards", "an", "001099012345", "An", "an.jpg")
    for scene, files in SCENES.items():
        (tmp_path / "camera" / scene).mkdir(parents=True)
        for f in files:
            shutil.copyfile(f, tmp_path / "camera" / scene / "frame.jpg")
    cfg = sample_config(tmp_path).model_copy(update={"pad": PadSettings(mode=mode)})
    gate = sim_gate(tmp_path, ScoreTableVerifier({"frame": 0.9}), scene="live", cfg=cfg)
    gate.store.replace_roster("SES1", [RosterRow("SBD-1", "001099012345", "An")])
    gate.lane.settings = dataclasses.replace(
        gate.lane.settings, capture_window_s=0.0, frames_per_attempt=1, passage_timeout_s=0.5, anti_passback=False
    )
    return gate


@pytest.fixture(params=["off", "signal", "enforce"])
def gate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Gate, str]]:
    g = _gate(tmp_path, request.param)
    yield g, request.param
    g.close()


def test_lane_pad_modes(gate: tuple[Gate, str]) -> None:
    g, mode = gate
    live, printed, screen = (tap(g, "an", s, proctor=DENY) for s in ("live", "print", "screen"))
    assert live.outcome == "pass"
    decisions = [json.loads(r.payload) for r in g.store.outbox_pending(100) if r.event_type.startswith("candidate.")]
    assert len(decisions) == 3
    if mode == "off":
        assert all(d["pad_score"] is None and d["pad_model"] is None for d in decisions)
        assert live.pad_score is None
    else:
        assert [d["pad_mode"] for d in decisions] == [mode] * 3
        assert all(d["pad_model"].startswith("minifasnet_v2+minifasnet_v1se@") for d in decisions)
        shipped = load_pad_thresholds(repo_models_dir() / PAD_THRESHOLDS_FILE_NAME).version
        assert [d["pad_thresholds_version"] for d in decisions] == [shipped] * 3  # the versioned operating point
        live_score, print_score, screen_score = (d["pad_score"] for d in decisions)
        assert live_score > 0.8 > print_score > screen_score
        # the report (what the console and the demo show) carries the same score as the event
        assert (live.pad_score, printed.pad_score, screen.pad_score) == (live_score, print_score, screen_score)
    if mode in ("off", "signal"):
        assert printed.outcome == "pass" and screen.outcome == "pass"  # decision unchanged
    else:
        assert printed.reasons[:1] == (codes.FACE_MATCH,) and codes.PAD_SUSPECTED in printed.reasons
        assert screen.outcome == "fail" and screen.reasons == (codes.PAD_ATTACK,)
