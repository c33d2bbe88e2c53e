"""Quality gates on one detected, aligned face; each failed gate yields a stable reason code.

Measures: inter-eye distance in the source image (pixels), mean luma and Laplacian variance of the aligned
150 px chip (so sharpness does not depend on the input resolution), and yaw estimated from the keypoints.
Two profiles: ``LIVE`` (gate camera) and ``REFERENCE`` (chip DG2 / roster photos). See docs/face.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from edge.vision.align import AlignedFace
from edge.vision.detect import LEFT_EYE, NOSE_TIP, RIGHT_EYE, Detection
from edge.vision.settings import VisionSettings

E_NO_FACE = "E_NO_FACE"
E_MULTIPLE_FACES = "E_MULTIPLE_FACES"
E_FACE_TOO_SMALL = "E_FACE_TOO_SMALL"
E_FACE_TOO_DARK = "E_FACE_TOO_DARK"
E_FACE_TOO_BRIGHT = "E_FACE_TOO_BRIGHT"
E_FACE_BLURRED = "E_FACE_BLURRED"
E_FACE_POSE = "E_FACE_POSE"
QUALITY_CODES = (
    E_NO_FACE,
    E_MULTIPLE_FACES,
    E_FACE_TOO_SMALL,
    E_FACE_TOO_DARK,
    E_FACE_TOO_BRIGHT,
    E_FACE_BLURRED,
    E_FACE_POSE,
)

# Central region of the chip used for luma: eyes to chin, inside the cheeks (chip pixels).
_LUMA_ROWS = slice(30, 125)
_LUMA_COLS = slice(35, 115)


class GateProfile(Enum):
    LIVE = "live"
    REFERENCE = "reference"


@dataclass(frozen=True)
class FaceQuality:
    eye_distance_px: float
    luma_mean: float  # 0..255
    sharpness_var: float  # variance of the Laplacian of the grey chip
    yaw_deg: float  # + = face turned towards the image's right
    reasons: tuple[str, ...]

    @property
    def rank_score(self) -> float:
        """Higher = better frame for matching (used to pick frames, never as a decision)."""
        if self.reasons:
            return -float(len(self.reasons))
        return math.cos(math.radians(self.yaw_deg)) * math.log1p(self.sharpness_var) * math.log1p(self.eye_distance_px)

    def to_json(self) -> dict[str, object]:
        return {
            "eye_distance_px": round(self.eye_distance_px, 1),
            "luma_mean": round(self.luma_mean, 1),
            "sharpness_var": round(self.sharpness_var, 1),
            "yaw_deg": round(self.yaw_deg, 1),
            "reasons": list(self.reasons),
        }


def estimate_yaw_deg(detection: Detection, nose_depth_ratio: float) -> float:
    """Yaw from the nose tip's sideways offset from the eye midpoint, measured along the eye axis.

    With eyes ``d`` apart and the nose tip ``p`` in front of them, turning by θ moves the nose by p·sinθ while the
    eyes appear d·cosθ apart: offset / eye distance = (p/d)·tanθ.
    """
    right, left = detection.keypoints_xy[RIGHT_EYE], detection.keypoints_xy[LEFT_EYE]
    axis = left - right
    dist = float(np.linalg.norm(axis))
    if dist <= 1e-6:
        return 90.0
    offset = float(np.dot(detection.keypoints_xy[NOSE_TIP] - (left + right) / 2.0, axis / dist)) / dist
    return math.degrees(math.atan(offset / nose_depth_ratio))


def assess(detection: Detection, aligned: AlignedFace, settings: VisionSettings, profile: GateProfile) -> FaceQuality:
    """Measure one face and list the gates it fails under ``profile`` (multiple faces are judged by the caller)."""
    grey = cv2.cvtColor(aligned.chip, cv2.COLOR_RGB2GRAY)
    luma = float(grey[_LUMA_ROWS, _LUMA_COLS].mean())
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    yaw = estimate_yaw_deg(detection, settings.yaw_nose_depth_ratio)
    eye_px = detection.eye_distance_px
    if profile is GateProfile.LIVE:
        min_eye, min_sharp, max_yaw = (
            settings.live_min_eye_distance_px,
            settings.live_min_sharpness_var,
            settings.live_max_abs_yaw_deg,
        )
    else:
        min_eye, min_sharp, max_yaw = (
            settings.reference_min_eye_distance_px,
            settings.reference_min_sharpness_var,
            settings.reference_max_abs_yaw_deg,
        )
    reasons: list[str] = []
    if eye_px < min_eye:
        reasons.append(E_FACE_TOO_SMALL)
    if luma < settings.min_face_luma:
        reasons.append(E_FACE_TOO_DARK)
    elif luma > settings.max_face_luma:
        reasons.append(E_FACE_TOO_BRIGHT)
    if sharpness < min_sharp:
        reasons.append(E_FACE_BLURRED)
    if abs(yaw) > max_yaw:
        reasons.append(E_FACE_POSE)
    return FaceQuality(eye_px, luma, sharpness, yaw, tuple(reasons))


def count_significant_faces(detections: list[Detection], settings: VisionSettings) -> int:
    """Faces that count for E_MULTIPLE_FACES: the main (largest) face plus others that are confident and big enough."""
    if not detections:
        return 0
    main = detections[0].eye_distance_px
    others = [
        d
        for d in detections[1:]
        if d.score >= settings.multiple_faces_min_score
        and d.eye_distance_px >= settings.multiple_faces_min_size_ratio * main
    ]
    return 1 + len(others)
