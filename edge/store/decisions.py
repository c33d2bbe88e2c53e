"""Decisions as the store keeps them: the columns of one decision row, read from its typed event."""

from __future__ import annotations

from edge.events.models import CandidateAdmitted, CandidateReviewRequested, DecisionEvent, Outcome
from edge.store.models import AssistedFacts


def outcome_of(decision: DecisionEvent) -> Outcome:
    """pass / review / fail, from the decision event's type."""
    if isinstance(decision, CandidateAdmitted):
        return "pass"
    if isinstance(decision, CandidateReviewRequested):
        return "review"
    return "fail"


def policy_reasons(decision: DecisionEvent, assisted: AssistedFacts | None) -> tuple[str, ...]:
    """The reasons stored with the decision: the policy's. The lane appends ``ASSISTED_<CREDENTIAL>`` to the event of
    an officer-assisted admission; the store records that fact in ``assisted_admissions`` instead."""
    reasons = tuple(decision.reason_codes)
    marker = f"ASSISTED_{decision.credential.upper()}"
    if assisted is not None and reasons and reasons[-1] == marker:
        return reasons[:-1]
    return reasons
