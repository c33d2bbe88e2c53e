"""The PAD challenge and the motion rule in the pure state machine (issue 12), and their [pad] settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from edge.config import Thresholds, sample_config
from edge.errors import PolicyError
from edge.policy import machine as m
from edge.policy import reasons as codes
from edge.vision.pad.settings import PadSettings
from edge.wiring import policy_params

BASE = m.PolicyParams(match_threshold=0.6, review_threshold=0.5, max_face_attempts=3)
PLANAR = {"nonrigid_motion": 0.001, "planar_residual": 0.001}  # a photo held in front of the camera
MOVING = {"nonrigid_motion": 0.08, "planar_residual": 0.05}  # a face that deforms between the frames


def _params(mode: str, **changes: Any) -> m.PolicyParams:
    return dataclasses.replace(BASE, pad_mode=mode, **changes)


def _to_face_capture(params: m.PolicyParams, *, assisted: bool = False) -> tuple[m.LaneState, tuple[m.Action, ...]]:
    """From the first input to the state after RosterFound: the machine's first face action."""
    start: m.Input = m.AssistedStart("a1", "vneid_level2") if assisted else m.CardPresented("a1")
    state, _ = m.step(m.initial_state(), start, params)
    if not assisted:
        state, _ = m.step(state, m.ChipRead("valid", "valid"), params)
    return m.step(state, m.RosterFound(already_admitted=False), params)


def _decide(params: m.PolicyParams, *inputs: m.Input) -> tuple[str, tuple[str, ...]]:
    """Outcome and reasons after the challenge / face inputs, from a card tap found on the roster."""
    state, _ = _to_face_capture(params)
    actions: list[m.Action] = []
    for event in inputs:
        state, more = m.step(state, event, params)
        actions.extend(more)
    record = next(a for a in actions if isinstance(a, m.RecordDecision))
    return record.outcome, record.reasons


@pytest.mark.parametrize("mode", ["signal", "enforce"])
def test_a_card_tap_is_challenged_before_the_face_when_the_challenge_is_on(mode: str) -> None:
    state, actions = _to_face_capture(_params(mode, pad_challenge=True))
    assert actions == (m.RunChallenge(),)
    assert state.phase == m.Phase.CAPTURING_FACE and state.challenge_pending
    state, actions = m.step(state, m.ChallengeChecked(True), _params(mode, pad_challenge=True))
    assert actions == (m.CaptureFace(1),) and not state.challenge_pending


@pytest.mark.parametrize(
    ("params", "assisted"),
    [
        (_params("off", pad_challenge=True), False),  # PAD off: no challenge even when asked for
        (_params("enforce", pad_challenge=False), False),
        (_params("enforce", pad_challenge=True), True),  # officer-assisted: the officer sees the person
    ],
)
def test_no_challenge_when_off_not_asked_or_assisted(params: m.PolicyParams, assisted: bool) -> None:
    state, actions = _to_face_capture(params, assisted=assisted)
    assert actions == (m.CaptureFace(1),) and not state.challenge_pending


def test_challenge_inputs_out_of_turn_are_illegal() -> None:
    on, off = _params("enforce", pad_challenge=True), _params("enforce")
    pending, _ = _to_face_capture(on)
    with pytest.raises(PolicyError):  # a face before the challenge answered
        m.step(pending, m.FaceCaptured(0.9, pad_score=0.99), on)
    not_asked, _ = _to_face_capture(off)
    with pytest.raises(PolicyError):  # an answer nobody asked for
        m.step(not_asked, m.ChallengeChecked(True), off)
    with pytest.raises(PolicyError):
        m.step(m.LaneState(phase=m.Phase.LOOKING_UP, attempt_id="a1"), m.ChallengeChecked(True), on)
    state, actions = m.step(pending, m.Abort("shutdown"), on)  # an abort still ends a pending challenge
    assert state.phase == m.Phase.DONE and isinstance(actions[0], m.RecordDecision)


def test_enforce_failed_challenge_caps_a_match_at_review_and_never_passes() -> None:
    params = _params("enforce", pad_challenge=True)
    outcome, reasons = _decide(params, m.ChallengeChecked(False), m.FaceCaptured(0.99, pad_score=0.99))
    assert outcome == "review" and reasons == (codes.FACE_MATCH, codes.PAD_CHALLENGE_FAILED)
    assert _decide(params, m.ChallengeChecked(True), m.FaceCaptured(0.99, pad_score=0.99)) == (
        "pass",
        (codes.FACE_MATCH,),
    )
    # a no-match still fails: the cap only caps
    assert _decide(params, m.ChallengeChecked(False), m.FaceCaptured(0.2))[0] == "fail"


def test_signal_mode_records_a_failed_challenge_without_changing_the_decision() -> None:
    params = _params("signal", pad_challenge=True)
    assert _decide(params, m.ChallengeChecked(False), m.FaceCaptured(0.99, pad_score=0.99)) == (
        "pass",
        (codes.FACE_MATCH,),
    )


def test_challenge_that_cannot_run_is_pad_unavailable_in_enforce() -> None:
    params = _params("enforce", pad_challenge=True)
    outcome, reasons = _decide(params, m.ChallengeChecked(False, unavailable=True), m.FaceCaptured(0.99, pad_score=0.9))
    assert outcome == "review" and codes.PAD_UNAVAILABLE in reasons and codes.PAD_CHALLENGE_FAILED not in reasons


@pytest.mark.parametrize(
    ("mode", "rule", "signals", "expected"),
    [
        ("enforce", True, PLANAR, ("review", (codes.FACE_MATCH, codes.PAD_SUSPECTED))),
        ("enforce", True, MOVING, ("pass", (codes.FACE_MATCH,))),
        ("enforce", True, {"nonrigid_motion": 0.001, "planar_residual": 0.05}, ("pass", (codes.FACE_MATCH,))),
        # the rule is on but the attempt has no motion signals (one usable frame): never a pass unchecked
        ("enforce", True, None, ("review", (codes.FACE_MATCH, codes.PAD_NOT_SCORED))),
        ("enforce", True, {"blink": 0.0}, ("review", (codes.FACE_MATCH, codes.PAD_NOT_SCORED))),
        ("enforce", False, PLANAR, ("pass", (codes.FACE_MATCH,))),  # the rule is off by default
        ("signal", True, PLANAR, ("pass", (codes.FACE_MATCH,))),  # signal mode records only
    ],
)
def test_motion_rule(mode: str, rule: bool, signals: dict[str, float] | None, expected: tuple[object, ...]) -> None:
    params = _params(mode, pad_motion_rule=rule, pad_min_nonrigid=0.03, pad_min_planar=0.012)
    assert _decide(params, m.FaceCaptured(0.99, pad_score=0.99, pad_signals=signals)) == expected


def test_motion_rule_thresholds_say_which_way_is_live() -> None:
    signals = {"nonrigid_motion": 0.02, "planar_residual": 0.01}
    strict = _params("enforce", pad_motion_rule=True, pad_min_nonrigid=0.03, pad_min_planar=0.012)
    lax = _params("enforce", pad_motion_rule=True, pad_min_nonrigid=0.02, pad_min_planar=0.01)  # not strictly below
    assert _decide(strict, m.FaceCaptured(0.99, pad_score=0.99, pad_signals=signals))[0] == "review"
    assert _decide(lax, m.FaceCaptured(0.99, pad_score=0.99, pad_signals=signals))[0] == "pass"


def test_pad_settings_new_fields_defaults_and_validation() -> None:
    pad = PadSettings()
    assert (pad.challenge, pad.challenge_timeout_s, pad.motion_rule) == (False, 4.0, False)
    assert (pad.min_nonrigid_motion, pad.min_planar_residual) == (0.03, 0.012)
    ok = PadSettings.model_validate({"mode": "enforce", "challenge": True, "challenge_timeout_s": 2.5})
    assert ok.challenge_timeout_s == 2.5
    for bad in (
        {"challenge_timeout_s": 0},
        {"challenge_timeout_s": -1},
        {"challenge_timeout_s": 31},
        {"challenge_timeout_s": "soon"},
        {"min_nonrigid_motion": -0.1},
        {"min_planar_residual": 2},
        {"motion_rule": "maybe"},
    ):
        with pytest.raises(ValidationError):
            PadSettings.model_validate(bad)


def test_wiring_passes_the_pad_settings_to_the_policy(tmp_path: Path) -> None:
    pad = PadSettings(
        mode="enforce", challenge=True, motion_rule=True, min_nonrigid_motion=0.2, min_planar_residual=0.1
    )
    cfg = sample_config(tmp_path).model_copy(update={"pad": pad})
    params = policy_params(cfg, Thresholds(version="t1", match=0.6, review=0.5))
    assert (params.pad_challenge, params.pad_motion_rule, params.pad_min_nonrigid, params.pad_min_planar) == (
        True,
        True,
        0.2,
        0.1,
    )
