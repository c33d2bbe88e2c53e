"""The lane's plain records: its settings, what it reports per candidate, an officer's request, the evidence port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from edge.devices import RgbImage

# Face findings that let a candidate through only after a proctor has looked: the roster photo contradicts the chip
# photo, or a reference photo is unusable or poor (then the match rests on less than it should). Kept equal to
# edge.vision.verifier.REVIEW_EVIDENCE by a test; not imported, so the lane does not load the vision stack.
REVIEW_FLAGS = frozenset(
    {"E_ROSTER_DISAGREES", "E_CHIP_PHOTO_UNUSABLE", "E_CHIP_PHOTO_POOR", "E_ROSTER_PHOTO_UNUSABLE"}
)
RETRYABLE_CHIP_CODES = frozenset({"E_CHIP_CARD_REMOVED", "E_CHIP_COMM", "E_CHIP_TIMEOUT", "E_CHIP_SM_FAILED"})


@dataclass(frozen=True)
class LaneSettings:
    site_id: str
    gate_id: str
    session_id: str
    thresholds_version: str
    poll_timeout_s: float = 0.5
    capture_window_s: float = 1.5
    frames_per_attempt: int = 5
    passage_timeout_s: float = 10.0
    review_timeout_s: float = 300.0
    pulse_ms: int = 300
    anti_passback: bool = True
    notice_version: str | None = None  # the personal-data notice the kiosk shows; recorded in decision events
    legal_basis: str | None = None


@dataclass
class CandidateReport:
    """What happened to one candidate: the demo prints it, the API serves it."""

    attempt_id: str
    started_at: dt.datetime
    outcome: str | None = None
    reasons: tuple[str, ...] = ()
    id_masked: str | None = None
    candidate_id: str | None = None
    full_name: str | None = None
    face_score: float | None = None
    pad_score: float | None = None  # lowest presentation-attack score over the attempts (None: PAD off)
    pad_signals: dict[str, float] = field(default_factory=dict)  # multi-frame PAD signals, challenge result ({}: none)
    face_attempts: int = 0
    passed: bool | None = None
    reviewed_by: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AssistedRequest:
    """An officer-assisted admission: no usable chip; the officer checked the person's credential."""

    personal_id: str
    credential: str  # vneid_level2 | manual_no_card | manual_lost_card | manual_old_cmnd
    officer: str
    commitment_signed: bool = False
    note: str = ""


class EvidenceSink(Protocol):
    """Keeps the face images of review/fail cases (encrypted, deleted after the retention period: edge.privacy)."""

    def keep(
        self, attempt_id: str, live: RgbImage | None, chip_image: bytes | None, roster_photo: bytes | None
    ) -> None: ...


class LanePad(Protocol):
    """Presentation-attack detection as the lane uses it (``edge.vision.pad.gate.GatePad``); scores higher = live."""

    model_version: str | None

    @property
    def challenge_timeout_s(self) -> float: ...

    @property
    def challenge_ready(self) -> bool:
        """The challenge can be checked (the face landmark model loaded)."""
        ...

    def __call__(self, frame: RgbImage) -> tuple[float | None, bool]:
        """(passive score of the frame's face or None when none was scored, PAD unavailable)."""
        ...

    def signals(self, frames: Sequence[RgbImage]) -> dict[str, float]:
        """The attempt's multi-frame signals (``nonrigid_motion``, ``planar_residual``, ``blink``…); ``{}``: none."""
        ...

    def challenge(self, action: str, capture: Callable[[], RgbImage]) -> tuple[bool, dict[str, float]] | None:
        """Watch frames from ``capture`` for the action: (passed, signals); None when it cannot be checked."""
        ...
