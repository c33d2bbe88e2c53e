"""The lane's admission state machine. Pure: ``step(state, event, params) -> (state, actions)``; the lane does the I/O.

Path of one candidate::

    IDLE --CardPresented--> READING_CHIP --ChipRead--> LOOKING_UP --RosterFound--> CAPTURING_FACE
    IDLE --AssistedStart (officer checked the person's credential)--> LOOKING_UP
      (card tap, PAD challenge on) CAPTURING_FACE --RunChallenge → ChallengeChecked--> CAPTURING_FACE
      CAPTURING_FACE --FaceCaptured--> (retry) CAPTURING_FACE | decision
      decision pass   --> GATE_OPEN --PassageConfirmed|PassageTimedOut--> DONE
      decision review --> AWAITING_REVIEW --ReviewResolved(approved)--> GATE_OPEN ; (denied) --> DONE
      decision fail   --> DONE

An event that is not legal in the current phase raises ``PolicyError`` (never a silent pass).
``OpenGate`` is emitted only on a ``pass`` decision or a proctor's approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from edge.errors import PolicyError
from edge.events.models import Outcome, Verdict
from edge.policy import reasons as codes


class Phase(StrEnum):
    IDLE = "idle"
    READING_CHIP = "reading_chip"
    LOOKING_UP = "looking_up"
    CAPTURING_FACE = "capturing_face"
    AWAITING_REVIEW = "awaiting_review"
    GATE_OPEN = "gate_open"
    DONE = "done"


# ------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class CardPresented:
    attempt_id: str


@dataclass(frozen=True)
class AssistedStart:
    """An officer starts an admission without a usable chip (VNeID level 2, no card, lost card, old CMND)."""

    attempt_id: str
    credential: str


@dataclass(frozen=True)
class ChipRead:
    passive_auth: str  # valid | invalid | no_trust_anchor | expired | not_checked
    clone_check: str  # valid | failed | not_supported | not_checked


@dataclass(frozen=True)
class ChipReadFailed:
    code: str
    retryable: bool


@dataclass(frozen=True)
class RosterFound:
    already_admitted: bool


@dataclass(frozen=True)
class RosterMissing:
    pass


@dataclass(frozen=True)
class FaceCaptured:
    similarity: float | None  # None: no usable face in this attempt
    reasons: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # findings that allow at most a review (roster photo disagrees, chip photo unusable)
    pad_score: float | None = None  # PAD bona fide score 0..1 (higher = live); None: not scored in this attempt
    pad_unavailable: bool = False  # PAD is on but its models are missing/broken: the gate runs degraded
    pad_signals: dict[str, float] | None = None  # multi-frame PAD signals of this attempt (higher = live); None: none


@dataclass(frozen=True)
class ChallengeChecked:
    """The active PAD challenge's result: the asked action was seen in time, or not (or it could not be checked)."""

    passed: bool
    unavailable: bool = False  # the face landmark model is missing/broken: PAD runs degraded


@dataclass(frozen=True)
class ReviewResolved:
    approved: bool
    operator: str
    reason: str


@dataclass(frozen=True)
class PassageConfirmed:
    pass


@dataclass(frozen=True)
class PassageTimedOut:
    pass


@dataclass(frozen=True)
class Abort:
    """The lane gives up on this candidate (shutdown, fire release, card gone for good)."""

    reason: str


Input = (
    CardPresented
    | AssistedStart
    | ChipRead
    | ChipReadFailed
    | RosterFound
    | RosterMissing
    | FaceCaptured
    | ChallengeChecked
    | ReviewResolved
    | PassageConfirmed
    | PassageTimedOut
    | Abort
)


# ------------------------------------------------------------------ actions
@dataclass(frozen=True)
class ReadChip:
    attempt: int


@dataclass(frozen=True)
class LookupRoster:
    pass


@dataclass(frozen=True)
class CaptureFace:
    attempt: int


@dataclass(frozen=True)
class RunChallenge:
    """Ask the candidate for a random action (turn the head, blink) and check it from the face mesh."""


@dataclass(frozen=True)
class RecordDecision:
    outcome: Outcome
    reasons: tuple[str, ...]
    similarity: float | None
    face_attempts: int


@dataclass(frozen=True)
class RequestReview:
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class OpenGate:
    cause: Literal["pass", "review_approved"]


@dataclass(frozen=True)
class WaitPassage:
    pass


@dataclass(frozen=True)
class RecordReview:
    approved: bool
    operator: str
    reason: str


@dataclass(frozen=True)
class Finish:
    passed: bool | None  # True: passage confirmed; False: timed out; None: nobody was let through


Action = (
    ReadChip
    | LookupRoster
    | CaptureFace
    | RunChallenge
    | RecordDecision
    | RequestReview
    | OpenGate
    | WaitPassage
    | RecordReview
    | Finish
)


# -------------------------------------------------------------------- state
@dataclass(frozen=True)
class PolicyParams:
    match_threshold: float
    review_threshold: float
    max_face_attempts: int = 3
    max_chip_attempts: int = 2
    thresholds_version: str = ""
    pad_mode: Literal["off", "signal", "enforce"] = "off"  # off: ignored; signal: recorded only; enforce: below
    pad_threshold: float = 0.8  # enforce: a face scoring below this is capped at review (PAD_SUSPECTED)
    pad_attack_threshold: float = 0.05  # enforce: below this the attempt fails (PAD_ATTACK), no review
    pad_challenge: bool = False  # signal/enforce: a card tap starts with the active challenge (RunChallenge)
    pad_motion_rule: bool = False  # enforce: a sequence moving as one rigid plane is capped at review (PAD_SUSPECTED)
    pad_min_nonrigid: float = 0.03  # motion rule: nonrigid_motion below this ...
    pad_min_planar: float = 0.012  # ... and planar_residual below this = one rigid plane (both: higher = live)
    passive_auth: tuple[tuple[str, Verdict], ...] = (
        ("valid", "accept"),
        ("invalid", "reject"),
        ("no_trust_anchor", "review"),
        ("expired", "review"),
        ("not_checked", "review"),
    )
    clone_check: tuple[tuple[str, Verdict], ...] = (
        ("valid", "accept"),
        ("failed", "reject"),
        ("not_supported", "accept"),
        ("not_checked", "accept"),
    )

    def __post_init__(self) -> None:
        if self.review_threshold > self.match_threshold:
            raise PolicyError("review threshold above match threshold", code="E_POLICY_THRESHOLDS")
        if self.max_face_attempts < 1 or self.max_chip_attempts < 1:
            raise PolicyError("attempt limits must be >= 1", code="E_POLICY_LIMITS")
        if not 0.0 <= self.pad_attack_threshold <= self.pad_threshold <= 1.0:
            raise PolicyError("PAD thresholds must satisfy 0 <= attack <= suspect <= 1", code="E_POLICY_PAD")

    def verdict(self, table: tuple[tuple[str, Verdict], ...], status: str) -> Verdict:
        for key, verdict in table:
            if key == status:
                return verdict
        return "reject"  # an unknown status is never accepted


@dataclass(frozen=True)
class LaneState:
    phase: Phase = Phase.IDLE
    attempt_id: str | None = None
    chip_attempts: int = 0
    face_attempts: int = 0
    best_similarity: float | None = None
    face_reasons: tuple[str, ...] = ()
    cap_reasons: tuple[str, ...] = ()  # chip findings that cap the outcome at review
    pad_min: float | None = None  # lowest PAD score over the attempts (any attack-like frame counts)
    assisted: bool = False  # officer-assisted admission (no card tap): no active challenge
    challenge_pending: bool = False  # RunChallenge was asked; only ChallengeChecked is accepted until it answers
    outcome: Outcome | None = None

    def evolve(self, **changes: Any) -> LaneState:
        """A copy with ``changes`` (several times faster than ``dataclasses.replace`` on the hot path)."""
        return LaneState(**{**self.__dict__, **changes})


def initial_state() -> LaneState:
    return LaneState()


Transition = tuple[LaneState, tuple[Action, ...]]


def _illegal(state: LaneState, event: Input) -> PolicyError:
    return PolicyError(f"{type(event).__name__} is not allowed in phase {state.phase.value}")


def _decide(state: LaneState, outcome: Outcome, reasons: tuple[str, ...]) -> Transition:
    record = RecordDecision(outcome, reasons, state.best_similarity, state.face_attempts)
    if outcome == "pass":
        nxt = state.evolve(phase=Phase.GATE_OPEN, outcome=outcome)
        return nxt, (record, OpenGate("pass"), WaitPassage())
    if outcome == "review":
        nxt = state.evolve(phase=Phase.AWAITING_REVIEW, outcome=outcome)
        return nxt, (record, RequestReview(reasons))
    nxt = state.evolve(phase=Phase.DONE, outcome=outcome)
    return nxt, (record, Finish(passed=None))


def _pad_caps(event: FaceCaptured, pad_min: float | None, p: PolicyParams) -> tuple[str, ...]:
    """In ``enforce`` mode: a suspected attack, a PAD that could not run, or a face PAD could not score (no attempt
    scored so far; or, with the motion rule, an attempt without motion signals) caps the outcome at review."""
    if p.pad_mode != "enforce":
        return ()
    if event.pad_unavailable:
        return (codes.PAD_UNAVAILABLE,)
    if pad_min is None:  # e.g. a print held so that the face is cut by the frame edge: never a pass unchecked
        return (codes.PAD_NOT_SCORED,)
    if pad_min < p.pad_threshold:
        return (codes.PAD_SUSPECTED,)
    if p.pad_motion_rule:
        signals = event.pad_signals or {}
        if "nonrigid_motion" not in signals or "planar_residual" not in signals:
            return (codes.PAD_NOT_SCORED,)
        if _rigid_plane(signals, p):
            return (codes.PAD_SUSPECTED,)
    return ()


def _earlier_caps(state: LaneState, event: FaceCaptured) -> tuple[str, ...]:
    """The caps so far; an earlier attempt's PAD_NOT_SCORED is lifted by this attempt's own PAD verdict."""
    if event.pad_score is None:
        return state.cap_reasons
    return tuple(r for r in state.cap_reasons if r != codes.PAD_NOT_SCORED)


def _rigid_plane(signals: dict[str, float], p: PolicyParams) -> bool:
    """The frames moved as one rigid plane (a photo or a screen): both motion signals under their thresholds."""
    nonrigid, planar = signals.get("nonrigid_motion"), signals.get("planar_residual")
    return nonrigid is not None and planar is not None and nonrigid < p.pad_min_nonrigid and planar < p.pad_min_planar


def _challenge_caps(event: ChallengeChecked, p: PolicyParams) -> tuple[str, ...]:
    """In ``enforce`` mode a failed (or uncheckable) challenge caps the outcome at review; ``signal`` records only."""
    if p.pad_mode != "enforce":
        return ()
    if event.unavailable:
        return (codes.PAD_UNAVAILABLE,)
    return () if event.passed else (codes.PAD_CHALLENGE_FAILED,)


def _start_face(state: LaneState, p: PolicyParams) -> Transition:
    """Into face capture: a card tap with the PAD challenge on is challenged first."""
    if p.pad_challenge and p.pad_mode != "off" and not state.assisted:
        return state.evolve(phase=Phase.CAPTURING_FACE, challenge_pending=True), (RunChallenge(),)
    return state.evolve(phase=Phase.CAPTURING_FACE), (CaptureFace(1),)


def _on_face(state: LaneState, event: FaceCaptured, p: PolicyParams) -> Transition:
    attempts = state.face_attempts + 1
    best = state.best_similarity
    if event.similarity is not None and (best is None or event.similarity > best):
        best = event.similarity
    pad_min = state.pad_min
    if event.pad_score is not None and (pad_min is None or event.pad_score < pad_min):
        pad_min = event.pad_score
    state = state.evolve(
        face_attempts=attempts,
        best_similarity=best,
        face_reasons=tuple(dict.fromkeys(state.face_reasons + event.reasons)),
        cap_reasons=tuple(dict.fromkeys(_earlier_caps(state, event) + event.flags + _pad_caps(event, pad_min, p))),
        pad_min=pad_min,
    )
    if p.pad_mode == "enforce" and pad_min is not None and pad_min < p.pad_attack_threshold:
        return _decide(state, "fail", (codes.PAD_ATTACK,))
    if best is not None and best >= p.match_threshold:
        if state.cap_reasons:
            return _decide(state, "review", (codes.FACE_MATCH, *state.cap_reasons))
        return _decide(state, "pass", (codes.FACE_MATCH,))
    if best is not None and best < p.review_threshold and event.similarity is not None:
        return _decide(state, "fail", (codes.FACE_NO_MATCH,))
    if attempts < p.max_face_attempts:
        return state, (CaptureFace(attempts + 1),)
    if best is None:
        return _decide(state, "review", (codes.FACE_CAPTURE_FAILED, *state.face_reasons, *state.cap_reasons))
    return _decide(state, "review", (codes.FACE_GREY_ZONE, *state.cap_reasons))


def step(state: LaneState, event: Input, p: PolicyParams) -> Transition:
    """Advance the lane by one input. Raises PolicyError for an input the phase does not allow."""
    phase = state.phase
    if isinstance(event, Abort):
        if phase in (Phase.IDLE, Phase.DONE):
            raise _illegal(state, event)
        if phase == Phase.GATE_OPEN:
            return state.evolve(phase=Phase.DONE), (Finish(passed=None),)
        nxt = state.evolve(phase=Phase.DONE, outcome="fail")
        record = RecordDecision("fail", (codes.LANE_ABORTED, event.reason), state.best_similarity, state.face_attempts)
        return nxt, (record, Finish(passed=None))

    if phase in (Phase.IDLE, Phase.DONE):
        if isinstance(event, CardPresented):
            return LaneState(phase=Phase.READING_CHIP, attempt_id=event.attempt_id, chip_attempts=1), (ReadChip(1),)
        if isinstance(event, AssistedStart):
            return LaneState(phase=Phase.LOOKING_UP, attempt_id=event.attempt_id, assisted=True), (LookupRoster(),)
        raise _illegal(state, event)

    if phase == Phase.READING_CHIP:
        if isinstance(event, ChipReadFailed):
            if event.retryable and state.chip_attempts < p.max_chip_attempts:
                n = state.chip_attempts + 1
                return state.evolve(chip_attempts=n), (ReadChip(n),)
            return _decide(state, "fail", (codes.CHIP_READ_FAILED, event.code))
        if isinstance(event, ChipRead):
            caps: list[str] = []
            for table, status, reason in (
                (p.passive_auth, event.passive_auth, codes.passive_auth_reason(event.passive_auth)),
                (p.clone_check, event.clone_check, codes.clone_check_reason(event.clone_check)),
            ):
                verdict = p.verdict(table, status)
                if verdict == "reject":
                    return _decide(state, "fail", (reason,))
                if verdict == "review":
                    caps.append(reason)
            return state.evolve(phase=Phase.LOOKING_UP, cap_reasons=tuple(caps)), (LookupRoster(),)
        raise _illegal(state, event)

    if phase == Phase.LOOKING_UP:
        if isinstance(event, RosterMissing):
            return _decide(state, "fail", (codes.NOT_ON_ROSTER,))
        if isinstance(event, RosterFound):
            if event.already_admitted:
                return _decide(state, "fail", (codes.ANTI_PASSBACK,))
            return _start_face(state, p)
        raise _illegal(state, event)

    if phase == Phase.CAPTURING_FACE:
        if state.challenge_pending:
            if isinstance(event, ChallengeChecked):
                capped = tuple(dict.fromkeys(state.cap_reasons + _challenge_caps(event, p)))
                return state.evolve(challenge_pending=False, cap_reasons=capped), (CaptureFace(1),)
            raise _illegal(state, event)
        if isinstance(event, FaceCaptured):
            return _on_face(state, event, p)
        raise _illegal(state, event)

    if phase == Phase.AWAITING_REVIEW:
        if isinstance(event, ReviewResolved):
            if not event.operator.strip() or not event.reason.strip():
                raise PolicyError("a review needs an operator and a reason", code="E_REVIEW_INCOMPLETE")
            review_record = RecordReview(event.approved, event.operator, event.reason)
            if event.approved:
                nxt = state.evolve(phase=Phase.GATE_OPEN, outcome="pass")
                return nxt, (review_record, OpenGate("review_approved"), WaitPassage())
            return state.evolve(phase=Phase.DONE, outcome="fail"), (
                review_record,
                Finish(passed=None),
            )
        raise _illegal(state, event)

    if phase == Phase.GATE_OPEN:
        if isinstance(event, PassageConfirmed):
            return state.evolve(phase=Phase.DONE), (Finish(passed=True),)
        if isinstance(event, PassageTimedOut):
            return state.evolve(phase=Phase.DONE), (Finish(passed=False),)
        raise _illegal(state, event)

    raise _illegal(state, event)  # pragma: no cover - every phase is handled above
