"""PAD for the lane, built from ``[pad]``: the passive score of the best frame, the multi-frame signals of an
attempt, and the active challenge. Models load once at start; ``GatePad`` implements ``edge.lane.records.LanePad``.

- ``GatePad(frame) -> (bona_fide_score | None, unavailable)``: ``None`` when no face could be scored in the frame
  (no face, crop refused); ``unavailable`` True when the PAD models could not be loaded: the policy then sends the
  candidate to review in ``enforce`` mode, never passes them unchecked.
- ``signals(frames)``: the multi-frame signals of ``PadAnalyser.motion`` (``{}`` when they cannot be computed).
- ``challenge(action, capture)``: watch frames from ``capture`` for ``challenge_timeout_s`` (or until the action is
  seen) and check them with ``check_challenge``; ``None`` when the face landmark model (or the detector) is missing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from edge.devices import RgbImage
from edge.errors import ExamGateError
from edge.vision.detect import FaceDetector
from edge.vision.models import models_dir, verified
from edge.vision.pad.analyse import PadAnalyser
from edge.vision.pad.challenge import ACTIONS, check_challenge
from edge.vision.pad.landmarks import FaceLandmarker
from edge.vision.pad.passive import PassivePad
from edge.vision.pad.settings import DEFAULT_THRESHOLD, PadSettings
from edge.vision.pad.thresholds import PadThresholds, resolve_pad_thresholds
from edge.vision.settings import VisionSettings

log = logging.getLogger(__name__)
CHALLENGE_FRAME_INTERVAL_S = 0.1  # at most 10 frames a second are checked during the challenge


class GatePad:
    def __init__(
        self,
        vision: VisionSettings,
        pad: PadSettings,
        folder: Path | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = pad
        self.error: ExamGateError | None = None
        self.model_version: str | None = None
        self.thresholds: PadThresholds | None = None  # the operating point (thresholds_pad.toml, config overrides)
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._detector: FaceDetector | None = None
        self._passive: PassivePad | None = None
        self._analyser: PadAnalyser | None = None
        root: Path | None = None
        try:
            root = folder or models_dir(vision)
            self._detector = FaceDetector(verified(root / vision.detector_file_name), min_score=vision.detect_min_score)
            self._passive = PassivePad(root, num_threads=pad.num_threads)
            self.model_version = self._passive.model_version
            self.thresholds = resolve_pad_thresholds(pad, root)
            self.thresholds.check_model(self.model_version)
        except ExamGateError as exc:  # start degraded: every candidate goes to review in enforce mode
            log.warning("PAD unavailable at start code=%s", exc.code)
            self.error, self._passive, self.thresholds = exc, None, None
        landmarker: FaceLandmarker | None = None
        if self._detector is not None and root is not None:
            try:
                landmarker = FaceLandmarker(root, num_threads=pad.num_threads)
            except ExamGateError as exc:  # signals fall back to the detector's keypoints; no challenge
                log.warning("PAD face landmarks unavailable at start code=%s", exc.code)
                self.error = self.error or (exc if pad.challenge else None)
        if self._detector is not None and self._passive is not None:
            threshold = self.thresholds.threshold if self.thresholds is not None else DEFAULT_THRESHOLD
            self._analyser = PadAnalyser(self._detector, self._passive, vision, threshold, landmarker)

    @property
    def thresholds_version(self) -> str | None:
        return self.thresholds.version if self.thresholds is not None else None

    @property
    def challenge_timeout_s(self) -> float:
        return self.settings.challenge_timeout_s

    @property
    def challenge_ready(self) -> bool:
        return self._analyser is not None and self._analyser.landmarker is not None

    def __call__(self, frame: RgbImage) -> tuple[float | None, bool]:
        if self._detector is None or self._passive is None:
            return None, True
        with self._lock:
            faces, _ = self._detector.detect(frame)
            if not faces:
                return None, False
            try:
                return self._passive.score(frame, faces[0].box_xywh).bona_fide_score, False
            except ExamGateError:
                return None, False

    def signals(self, frames: Sequence[RgbImage]) -> dict[str, float]:
        """Multi-frame signals of one attempt's frames (higher = live); ``{}``: PAD unavailable or too few faces."""
        if self._analyser is None:
            return {}
        try:
            with self._lock:
                return self._analyser.motion(list(frames))
        except ExamGateError as exc:  # frames of different sizes, fewer than 2
            log.info("PAD signals not computed code=%s", exc.code)
            return {}

    def challenge(self, action: str, capture: Callable[[], RgbImage]) -> tuple[bool, dict[str, float]] | None:
        """Passed or not, with the checker's signals; None when the landmark model is missing (PAD_UNAVAILABLE).

        Camera errors from ``capture`` propagate. Frames without one usable face are skipped.
        """
        if self._analyser is None or not self.challenge_ready:
            return None
        if action not in ACTIONS:
            raise ValueError(f"unknown challenge action {action!r}")
        deadline = self._clock() + self.settings.challenge_timeout_s
        meshes = []
        result = check_challenge(action, [])
        while True:
            started = self._clock()
            frame = capture()
            with self._lock:
                points = self._analyser.mesh_points(frame)
            if points is not None:
                meshes.append(points)
                result = check_challenge(action, meshes)
                if result.passed:
                    break
            now = self._clock()
            if now >= deadline:
                break
            self._sleep(max(0.0, min(CHALLENGE_FRAME_INTERVAL_S - (now - started), deadline - now)))
        return result.passed, {k: round(float(v), 5) for k, v in result.signals.items()}
