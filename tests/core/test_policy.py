"""The admission state machine: every phase × every input, decision rules, and random sequences (hypothesis)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.errors import PolicyError
from edge.policy import machine as m
from edge.policy import reasons as codes

P = m.PolicyParams(match_threshold=0.6, review_threshold=0.5, max_face_attempts=3, max_chip_attempts=2)

INPUTS: dict[str, m.Input] = {
    "card": m.CardPresented("a1"),
    "assisted": m.AssistedStart("a1", "vneid_level2"),
    "chip_ok": m.ChipRead("valid", "valid"),
    "chip_fail_retry": m.ChipReadFailed("E_CHIP_CARD_REMOVED", retryable=True),
    "chip_fail_final": m.ChipReadFailed("E_CHIP_ACCESS_DENIED", retryable=False),
    "roster_found": m.RosterFound(already_admitted=False),
    "roster_admitted": m.RosterFound(already_admitted=True),
    "roster_missing": m.RosterMissing(),
    "face_high": m.FaceCaptured(0.8),
    "face_grey": m.FaceCaptured(0.55),
    "face_low": m.FaceCaptured(0.2),
    "face_none": m.FaceCaptured(None, ("E_NO_FACE",)),
    "review_yes": m.ReviewResolved(True, "proctor1", "checked by hand"),
    "review_no": m.ReviewResolved(False, "proctor1", "not the same person"),
    "passage": m.PassageConfirmed(),
    "passage_timeout": m.PassageTimedOut(),
    "abort": m.Abort("shutdown"),
}

LEGAL: dict[m.Phase, set[str]] = {
    m.Phase.IDLE: {"card", "assisted"},
    m.Phase.DONE: {"card", "assisted"},
    m.Phase.READING_CHIP: {"chip_ok", "chip_fail_retry", "chip_fail_final", "abort"},
    m.Phase.LOOKING_UP: {"roster_found", "roster_admitted", "roster_missing", "abort"},
    m.Phase.CAPTURING_FACE: {"face_high", "face_grey", "face_low", "face_none", "abort"},
    m.Phase.AWAITING_REVIEW: {"review_yes", "review_no", "abort"},
    m.Phase.GATE_OPEN: {"passage", "passage_timeout", "abort"},
}


def state_in(phase: m.Phase) -> m.LaneState:
    return m.LaneState(phase=phase, attempt_id="a1" if phase != m.Phase.IDLE else None, chip_attempts=1)


@pytest.mark.parametrize("phase", list(m.Phase))
@pytest.mark.parametrize("name", list(INPUTS))
def test_every_phase_and_input(phase: m.Phase, name: str) -> None:
    state = state_in(phase)
    if name in LEGAL[phase]:
        new_state, actions = m.step(state, INPUTS[name], P)
        assert isinstance(new_state, m.LaneState)
        assert actions, "a legal input always yields at least one action"
    else:
        with pytest.raises(PolicyError) as info:
            m.step(state, INPUTS[name], P)
        assert info.value.code == "E_POLICY_ILLEGAL_TRANSITION"


def run(*names: str, params: m.PolicyParams = P) -> tuple[m.LaneState, list[m.Action]]:
    state = m.initial_state()
    actions: list[m.Action] = []
    for name in names:
        state, out = m.step(state, INPUTS[name], params)
        actions.extend(out)
    return state, actions


def decision(actions: list[m.Action]) -> m.RecordDecision:
    found = [a for a in actions if isinstance(a, m.RecordDecision)]
    assert len(found) == 1
    return found[0]


def test_honest_candidate_passes_and_gate_opens_once() -> None:
    state, actions = run("card", "chip_ok", "roster_found", "face_high", "passage")
    assert decision(actions).outcome == "pass"
    assert decision(actions).reasons == (codes.FACE_MATCH,)
    assert [a for a in actions if isinstance(a, m.OpenGate)] == [m.OpenGate("pass")]
    assert state.phase == m.Phase.DONE
    assert actions[-1] == m.Finish(passed=True)


def test_score_exactly_at_match_threshold_passes() -> None:
    state = run("card", "chip_ok", "roster_found")[0]
    _, actions = m.step(state, m.FaceCaptured(0.6), P)
    assert any(isinstance(a, m.OpenGate) for a in actions)


def test_low_score_fails_without_opening() -> None:
    state, actions = run("card", "chip_ok", "roster_found", "face_low")
    assert decision(actions).outcome == "fail"
    assert decision(actions).reasons == (codes.FACE_NO_MATCH,)
    assert not any(isinstance(a, m.OpenGate) for a in actions)
    assert state.phase == m.Phase.DONE


def test_grey_zone_retries_then_goes_to_review() -> None:
    state, actions = run("card", "chip_ok", "roster_found", "face_grey", "face_grey")
    assert state.phase == m.Phase.CAPTURING_FACE
    assert [a for a in actions if isinstance(a, m.CaptureFace)] == [
        m.CaptureFace(1),
        m.CaptureFace(2),
        m.CaptureFace(3),
    ]
    state, out = m.step(state, INPUTS["face_grey"], P)
    assert state.phase == m.Phase.AWAITING_REVIEW
    assert decision(list(out)).outcome == "review"
    assert codes.FACE_GREY_ZONE in decision(list(out)).reasons


def test_grey_then_match_passes_on_a_later_attempt() -> None:
    _, actions = run("card", "chip_ok", "roster_found", "face_grey", "face_high")
    assert decision(actions).outcome == "pass"
    assert decision(actions).face_attempts == 2


def test_face_flags_cap_a_match_at_review() -> None:
    state = run("card", "chip_ok", "roster_found")[0]
    state, actions = m.step(state, m.FaceCaptured(0.9, ("E_ROSTER_DISAGREES",), ("E_ROSTER_DISAGREES",)), P)
    assert decision(list(actions)).outcome == "review"
    assert decision(list(actions)).reasons == (codes.FACE_MATCH, "E_ROSTER_DISAGREES")
    assert not any(isinstance(a, m.OpenGate) for a in actions)


def test_no_face_every_attempt_goes_to_review_not_fail() -> None:
    state, actions = run("card", "chip_ok", "roster_found", "face_none", "face_none", "face_none")
    assert state.phase == m.Phase.AWAITING_REVIEW
    assert decision(actions).reasons[0] == codes.FACE_CAPTURE_FAILED
    assert "E_NO_FACE" in decision(actions).reasons


def test_review_approval_opens_and_denial_does_not() -> None:
    grey = ("card", "chip_ok", "roster_found", "face_grey", "face_grey", "face_grey")
    _, approved = run(*grey, "review_yes")
    assert m.OpenGate("review_approved") in approved
    state, denied = run(*grey, "review_no")
    assert not any(isinstance(a, m.OpenGate) for a in denied)
    assert state.outcome == "fail"


def test_review_needs_operator_and_reason() -> None:
    state = run("card", "chip_ok", "roster_found", "face_grey", "face_grey", "face_grey")[0]
    with pytest.raises(PolicyError) as info:
        m.step(state, m.ReviewResolved(True, " ", "ok"), P)
    assert info.value.code == "E_REVIEW_INCOMPLETE"


def test_officer_assisted_skips_the_chip_but_not_the_face() -> None:
    state, actions = run("assisted")
    assert state.phase == m.Phase.LOOKING_UP
    assert not any(isinstance(a, m.ReadChip) for a in actions)
    _, actions = run("assisted", "roster_found", "face_high", "passage")
    assert decision(actions).outcome == "pass"
    _, actions = run("assisted", "roster_found", "face_low")
    assert decision(actions).outcome == "fail"


def test_not_on_roster_and_anti_passback_fail() -> None:
    assert decision(run("card", "chip_ok", "roster_missing")[1]).reasons == (codes.NOT_ON_ROSTER,)
    assert decision(run("card", "chip_ok", "roster_admitted")[1]).reasons == (codes.ANTI_PASSBACK,)


def test_chip_read_retried_then_failed() -> None:
    state, actions = run("card", "chip_fail_retry")
    assert state.phase == m.Phase.READING_CHIP
    assert m.ReadChip(2) in actions
    state, out = m.step(state, INPUTS["chip_fail_retry"], P)
    assert decision(list(out)).reasons == (codes.CHIP_READ_FAILED, "E_CHIP_CARD_REMOVED")
    _, denied = run("card", "chip_fail_final")
    assert decision(denied).reasons == (codes.CHIP_READ_FAILED, "E_CHIP_ACCESS_DENIED")


@pytest.mark.parametrize(
    ("pa", "clone", "expected"),
    [
        ("valid", "valid", "pass"),
        ("invalid", "valid", "fail"),
        ("no_trust_anchor", "valid", "review"),
        ("expired", "valid", "review"),
        ("valid", "failed", "fail"),
        ("valid", "not_supported", "pass"),
        ("something_new", "valid", "fail"),
    ],
)
def test_chip_verification_results_follow_the_policy(pa: str, clone: str, expected: str) -> None:
    state = run("card")[0]
    state, actions = m.step(state, m.ChipRead(pa, clone), P)
    if expected == "fail":
        assert decision(list(actions)).outcome == "fail"
        return
    state, _ = m.step(state, INPUTS["roster_found"], P)
    _, out = m.step(state, INPUTS["face_high"], P)
    assert decision(list(out)).outcome == expected


def test_policy_table_can_turn_no_trust_anchor_into_accept() -> None:
    lenient = dataclasses.replace(P, passive_auth=(("valid", "accept"), ("no_trust_anchor", "accept")))
    state = run("card")[0]
    state, _ = m.step(state, m.ChipRead("no_trust_anchor", "valid"), lenient)
    state, _ = m.step(state, INPUTS["roster_found"], lenient)
    _, out = m.step(state, INPUTS["face_high"], lenient)
    assert decision(list(out)).outcome == "pass"


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(PolicyError):
        m.PolicyParams(match_threshold=0.4, review_threshold=0.5)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list(INPUTS)), max_size=25))
def test_random_sequences_never_open_without_pass_or_approval(names: list[str]) -> None:
    """Whatever arrives, in whatever order: the gate opens only after a pass decision or a proctor's approval."""
    state = m.initial_state()
    for name in names:
        try:
            state, actions = m.step(state, INPUTS[name], P)
        except PolicyError:
            continue
        opened = [a for a in actions if isinstance(a, m.OpenGate)]
        decided = [a for a in actions if isinstance(a, m.RecordDecision)]
        if opened:
            assert len(opened) == 1
            if opened[0].cause == "pass":
                assert decided and decided[0].outcome == "pass"
            else:
                assert name == "review_yes"
        assert len(decided) <= 1
