"""PAD for the lane: one callable that scores the verifier's best frame, built from ``[pad]``.

``GatePad(frame) -> (bona_fide_score | None, unavailable)``: ``None`` when no face could be scored in the frame
(no face, crop refused); ``unavailable`` True when the PAD models could not be loaded: the policy then sends the
candidate to review in ``enforce`` mode, never passes them unchecked.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from edge.devices import RgbImage
from edge.errors import ExamGateError
from edge.vision.detect import FaceDetector
from edge.vision.models import models_dir
from edge.vision.pad.passive import PassivePad
from edge.vision.pad.settings import PadSettings
from edge.vision.settings import VisionSettings

log = logging.getLogger(__name__)


class GatePad:
    def __init__(self, vision: VisionSettings, pad: PadSettings, folder: Path | None = None) -> None:
        self.settings = pad
        self.error: ExamGateError | None = None
        self.model_version: str | None = None
        self._lock = threading.Lock()
        try:
            folder = folder or models_dir(vision)
            self._detector: FaceDetector | None = FaceDetector(
                folder / vision.detector_file_name, min_score=vision.detect_min_score
            )
            self._passive: PassivePad | None = PassivePad(folder, num_threads=pad.num_threads)
            self.model_version = self._passive.model_version
        except ExamGateError as exc:  # start degraded: every candidate goes to review in enforce mode
            log.warning("PAD unavailable at start code=%s", exc.code)
            self.error, self._detector, self._passive = exc, None, None

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
