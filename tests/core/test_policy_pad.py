"""PAD in the pure state machine (issue 12): off / signal / enforce, suspected vs confident attack, degraded PAD."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.config import sample_config
from edge.errors import PolicyError
from edge.policy import machine as m
from edge.policy import reasons as codes
from edge.vision.pad.settings import PadSettings

BASE = m.PolicyParams(match_threshold=0.6, review_threshold=0.5, max_face_attempts=3)


def _params(mode: str) -> m.PolicyParams:
    return dataclasses.replace(BASE, pad_mode=mode, pad_threshold=0.8, pad_attack_threshold=0.05)


def _decision(mode: str, *faces: m.FaceCaptured) -> tuple[str, tuple[str, ...]]:
    state, params = m.LaneState(phase=m.Phase.CAPTURING_FACE, attempt_id="a1", chip_attempts=1), _params(mode)
    for face in faces:
        state, actions = m.step(state, face, params)
        for action in actions:
            if isinstance(action, m.RecordDecision):
                return action.outcome, action.reasons
    raise AssertionError("no decision")


@pytest.mark.parametrize("mode", ["off", "signal", "enforce"])
def test_live_face_passes_in_every_mode(mode: str) -> None:
    assert _decision(mode, m.FaceCaptured(0.9, pad_score=0.97)) == ("pass", (codes.FACE_MATCH,))


@pytest.mark.parametrize("mode", ["off", "signal"])
def test_off_and_signal_do_not_change_the_decision(mode: str) -> None:
    assert _decision(mode, m.FaceCaptured(0.9, pad_score=0.01)) == ("pass", (codes.FACE_MATCH,))
    assert _decision(mode, m.FaceCaptured(0.9, pad_unavailable=True))[0] == "pass"


def test_enforce_suspected_attack_goes_to_review() -> None:
    outcome, reasons = _decision("enforce", m.FaceCaptured(0.9, pad_score=0.4))
    assert outcome == "review" and codes.PAD_SUSPECTED in reasons


def test_enforce_confident_attack_fails() -> None:
    assert _decision("enforce", m.FaceCaptured(0.9, pad_score=0.01)) == ("fail", (codes.PAD_ATTACK,))


def test_enforce_one_attack_like_attempt_is_remembered() -> None:
    # first attempt grey zone with a suspect PAD score, second a clear match with a live score: still review
    outcome, reasons = _decision("enforce", m.FaceCaptured(0.55, pad_score=0.5), m.FaceCaptured(0.9, pad_score=0.99))
    assert outcome == "review" and codes.PAD_SUSPECTED in reasons


def test_enforce_missing_models_never_pass_unchecked() -> None:
    outcome, reasons = _decision("enforce", m.FaceCaptured(0.9, pad_unavailable=True))
    assert outcome == "review" and codes.PAD_UNAVAILABLE in reasons


def test_enforce_no_match_still_fails() -> None:
    assert _decision("enforce", m.FaceCaptured(0.2, pad_score=0.99)) == ("fail", (codes.FACE_NO_MATCH,))


def test_pad_thresholds_must_be_ordered() -> None:
    with pytest.raises(PolicyError) as info:
        dataclasses.replace(BASE, pad_threshold=0.1, pad_attack_threshold=0.5)
    assert info.value.code == "E_POLICY_PAD"


def test_pad_config_section() -> None:
    assert PadSettings().mode == "off"
    assert PadSettings.model_validate({"mode": "enforce", "challenge": True}).challenge is True
    for bad in ({"mode": "strict"}, {"threshold": 0.1, "attack_threshold": 0.5}, {"unknown": 1}):
        with pytest.raises(ValidationError):
            PadSettings.model_validate(bad)


def test_enforce_a_face_pad_could_not_score_never_passes() -> None:
    # a print held so that the face runs off the frame edge: the matcher aligns it, PAD's context crop is refused
    outcome, reasons = _decision("enforce", m.FaceCaptured(0.9, pad_score=None))
    assert outcome == "review" and codes.PAD_NOT_SCORED in reasons
    assert _decision("signal", m.FaceCaptured(0.9, pad_score=None)) == ("pass", (codes.FACE_MATCH,))


def test_enforce_a_later_scored_attempt_lifts_not_scored() -> None:
    # attempt 1: grey zone, PAD could not score; attempt 2: clear match, scored live
    outcome, reasons = _decision("enforce", m.FaceCaptured(0.55, pad_score=None), m.FaceCaptured(0.9, pad_score=0.99))
    assert (outcome, reasons) == ("pass", (codes.FACE_MATCH,))


def test_enforce_motion_rule_without_signals_never_passes() -> None:
    params = dataclasses.replace(_params("enforce"), pad_motion_rule=True)
    state = m.LaneState(phase=m.Phase.CAPTURING_FACE, attempt_id="a1", chip_attempts=1)
    _, actions = m.step(state, m.FaceCaptured(0.9, pad_score=0.99, pad_signals=None), params)
    decision = next(a for a in actions if isinstance(a, m.RecordDecision))
    assert decision.outcome == "review" and codes.PAD_NOT_SCORED in decision.reasons
    live = {"nonrigid_motion": 0.08, "planar_residual": 0.04}
    _, actions = m.step(state, m.FaceCaptured(0.9, pad_score=0.99, pad_signals=live), params)
    assert next(a for a in actions if isinstance(a, m.RecordDecision)).outcome == "pass"


def test_motion_rule_with_one_frame_per_attempt_is_refused(tmp_path: Path) -> None:
    cfg = sample_config(tmp_path)
    data = cfg.model_dump()
    data["pad"] = {"mode": "enforce", "motion_rule": True}
    data["lane"]["frames_per_attempt"] = 1
    with pytest.raises(ValidationError, match="frames_per_attempt >= 2"):
        type(cfg).model_validate(data)
