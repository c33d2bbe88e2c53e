"""The gate lane: one candidate at a time from card (or officer request) to decision, passage and report.

``Lane`` runs the loop (``lane.py``), ``CandidateRun`` performs the policy's actions for one ``Attempt``
(``handlers.py``, ``attempt.py``), and listeners hear typed notices (``notices.py``).
"""

from edge.lane.lane import Lane
from edge.lane.notices import (
    CandidateDone,
    ChallengeIssued,
    GateReleased,
    LaneListener,
    Notice,
    ReviewOpened,
    TapSeen,
    on_done,
)
from edge.lane.records import (
    RETRYABLE_CHIP_CODES,
    REVIEW_FLAGS,
    AssistedRequest,
    CandidateReport,
    EvidenceSink,
    LaneSettings,
)

__all__ = [
    "RETRYABLE_CHIP_CODES",
    "REVIEW_FLAGS",
    "AssistedRequest",
    "CandidateDone",
    "CandidateReport",
    "ChallengeIssued",
    "EvidenceSink",
    "GateReleased",
    "Lane",
    "LaneListener",
    "LaneSettings",
    "Notice",
    "ReviewOpened",
    "TapSeen",
    "on_done",
]
