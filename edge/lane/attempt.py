"""One candidate in progress: what the lane has learned so far, from tap (or officer request) to finish."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from edge.devices import CardTap, ChipIdentity, FaceResult, Frame
from edge.events.ids import new_event_id
from edge.lane.records import AssistedRequest, CandidateReport
from edge.masking import mask_id
from edge.policy import machine as m
from edge.store import RosterEntry


@dataclass(slots=True)
class Attempt:
    """The record one candidate's handlers share; ``report`` is what listeners finally see."""

    tap: CardTap | None
    assisted: AssistedRequest | None
    params: m.PolicyParams  # one candidate is decided under one set of thresholds, even if the centre swaps them
    report: CandidateReport
    started: float = field(default_factory=time.perf_counter)
    personal_id: str | None = None
    identity: ChipIdentity | None = None
    entry: RosterEntry | None = None
    best_frame: Frame | None = None  # the live frame of the face attempt that decides
    face_scores: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    pad_score: float | None = None  # lowest PAD score over the face attempts (issue 12)
    pad_signals: dict[str, float] = field(default_factory=dict)  # last attempt's multi-frame signals + challenge
    best_similarity: float | None = None
    gate_failed: bool = False

    @classmethod
    def start(cls, tap: CardTap | None, assisted: AssistedRequest | None, params: m.PolicyParams) -> Attempt:
        report = CandidateReport(attempt_id=new_event_id(), started_at=dt.datetime.now(dt.UTC))
        attempt = cls(tap, assisted, params, report)
        if assisted is not None:
            attempt.learn_id(assisted.personal_id)
        return attempt

    @property
    def attempt_id(self) -> str:
        return self.report.attempt_id

    @property
    def credential(self) -> str:
        return self.assisted.credential if self.assisted is not None else "chip"

    def learn_id(self, personal_id: str) -> None:
        self.personal_id = personal_id
        self.report.id_masked = mask_id(personal_id)

    def timed(self, key: str, since: float, *, add: bool = False) -> None:
        """Record a stage's duration in the report (``add``: summed over retries)."""
        previous = self.report.timings_ms.get(key, 0.0) if add else 0.0
        self.report.timings_ms[key] = previous + ms_since(since)

    def keep_face(self, result: FaceResult) -> None:
        """Keep the evidence of the face attempt with the best similarity so far."""
        self.model_version = result.model_version
        if result.similarity is None or (
            self.best_similarity is not None and result.similarity <= self.best_similarity
        ):
            return
        self.best_similarity = result.similarity
        self.face_scores = dict(result.scores)
        if result.best_frame is not None:
            self.best_frame = Frame(result.best_frame, time.monotonic(), "best")


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)
