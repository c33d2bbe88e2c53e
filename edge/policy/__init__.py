"""Admission policy: a pure state machine from card tap to passage, with no I/O."""

from edge.policy.machine import (
    Action,
    CaptureFace,
    Finish,
    LaneState,
    LookupRoster,
    OpenGate,
    Phase,
    PolicyParams,
    ReadChip,
    RecordDecision,
    RequestReview,
    WaitPassage,
    initial_state,
    step,
)

__all__ = [
    "Action",
    "CaptureFace",
    "Finish",
    "LaneState",
    "LookupRoster",
    "OpenGate",
    "Phase",
    "PolicyParams",
    "ReadChip",
    "RecordDecision",
    "RequestReview",
    "WaitPassage",
    "initial_state",
    "step",
]
