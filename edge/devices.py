"""The ports of the lane: what the daemon needs from a card reader, a camera, a turnstile and a face verifier.

Each port is a ``typing.Protocol``. ``firmware_bridge`` holds one real driver and one simulator per port;
``edge.wiring`` picks one from configuration. The lane talks only to these interfaces.
Blocking calls are allowed here: the lane runs every device call in a worker thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

PassiveAuthStatus = Literal["valid", "invalid", "no_trust_anchor", "expired", "not_checked"]
CloneCheckStatus = Literal["valid", "failed", "not_supported", "not_checked"]
AccessProtocol = Literal["PACE", "BAC", "SIMULATED"]
FaceImageFormat = Literal["jpeg", "jpeg2000", "png"]


# ---------------------------------------------------------------- card reader
@dataclass(frozen=True)
class AccessKey:
    """What unlocks the chip: the CAN (6 digits on a CCCD) for PACE, or the MRZ triple for PACE-MRZ/BAC."""

    can: str | None = None
    document_number: str | None = None
    birth_date: str | None = None  # YYMMDD
    expiry_date: str | None = None  # YYMMDD


@dataclass(frozen=True)
class CardTap:
    """A card entered the field. ``qr_text`` is the card's QR code when the lane scanned it before the tap."""

    uid: bytes
    qr_text: str | None = None


@dataclass(frozen=True)
class ChipIdentity:
    """What the gate keeps from one chip read (DG13 sensitive fields are never put here)."""

    personal_id: str  # 12-digit CCCD number
    document_number: str
    full_name: str
    birth_date: dt.date
    sex: str
    expiry_date: dt.date | None
    face_image: bytes  # DG2 image bytes, as stored on the chip
    face_format: FaceImageFormat
    access_protocol: AccessProtocol
    passive_auth: PassiveAuthStatus
    clone_check: CloneCheckStatus
    timings_ms: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class CardReader(Protocol):
    def poll(self, timeout_s: float) -> CardTap | None:
        """Wait up to ``timeout_s`` for a card; None when none came."""

    def read(self, tap: CardTap, key: AccessKey | None) -> ChipIdentity:
        """Read and verify the chip. Raises ``edge.errors.ExamGateError`` subclasses (code E_CHIP_…)."""

    def close(self) -> None: ...


@runtime_checkable
class CheckableReader(CardReader, Protocol):
    """A card reader that can also check itself for ``examgate selftest`` (every reader ``firmware_bridge`` opens)."""

    def self_check(self) -> str:
        """Reach the reader (and its cards) once; one line saying what was found. Raises ``ExamGateError``."""


# --------------------------------------------------------------------- camera
RgbImage = npt.NDArray[np.uint8]  # H x W x 3, RGB


@dataclass(frozen=True)
class Frame:
    image: RgbImage
    captured_monotonic_s: float
    source: str = ""


@runtime_checkable
class Camera(Protocol):
    def capture(self) -> Frame:
        """One RGB frame. Raises ``edge.errors.DeviceError`` (E_CAMERA_…) when the camera fails."""

    def close(self) -> None: ...


# ------------------------------------------------------------------ turnstile
@dataclass(frozen=True)
class TurnstileStatus:
    fire_release: bool = False  # fire alarm: lane freed in both directions, admissions stopped
    alarm: bool = False  # forcing / tailgating reported by the controller
    fault: str | None = None


@runtime_checkable
class Turnstile(Protocol):
    def release(self, direction: Literal["entry", "exit"] = "entry") -> None:
        """Pulse the relay for one passage."""

    def wait_passage(self, timeout_s: float) -> bool:
        """True when the passage sensor reported a passage within ``timeout_s``."""

    def status(self) -> TurnstileStatus: ...

    def close(self) -> None: ...


# -------------------------------------------------------------- face verifier
@dataclass(frozen=True)
class ReferenceImage:
    label: Literal["chip", "roster"]
    data: bytes  # encoded image (JPEG / JPEG 2000 / PNG)


@dataclass(frozen=True)
class FaceResult:
    """Outcome of matching live frames against reference photos.

    ``similarity`` is the fused score (higher = more alike) or None when no usable face was found;
    ``reasons`` holds quality reason codes (E_NO_FACE, E_MULTIPLE_FACES, E_FACE_TOO_SMALL, …).
    """

    similarity: float | None
    scores: dict[str, float] = field(default_factory=dict)  # per reference label
    reasons: tuple[str, ...] = ()
    frames_used: int = 0
    model_version: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    best_frame: RgbImage | None = None


@runtime_checkable
class FaceVerifier(Protocol):
    def verify(self, live: Sequence[Frame], references: Sequence[ReferenceImage]) -> FaceResult: ...

    @property
    def model_version(self) -> str: ...
