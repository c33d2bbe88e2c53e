"""PAD on still images and frame sequences: detect the face, passive score, multi-frame keypoint signals.

Outcomes per item: ``bona_fide`` (score >= threshold), ``attack``, or ``no_face`` (no usable face: no face, two
faces, face too small, face cut by the border; ``bona_fide_score`` is then 0.0 and ``error`` says why).

Multi-frame signals (recorded; the lane's optional motion rule uses the two motion ones), from the 468-point face
mesh per frame (the detector's 6 keypoints when no landmarker is given):
- ``blink``: (largest - smallest eye aspect ratio) / largest over the frames. Higher = the eyes closed and opened
  (live); a photo stays near 0. ``ear_min`` / ``ear_max`` are recorded too.
- ``nonrigid_motion``: median residual of a similarity fit (points of frame i onto frame 0), in units of the eye
  distance. Higher = the face deforms (live); a photo moved in front of the camera stays near 0.
- ``planar_residual``: median residual of a homography fit, same unit. Higher = not one plane (live).
- ``passive_min`` / ``passive_mean``: the passive score over the frames (the decision uses the minimum).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.devices import RgbImage
from edge.errors import ExamGateError
from edge.vision.detect import Detection, FaceDetector
from edge.vision.pad.landmarks import FaceLandmarker, eye_aspect_ratio
from edge.vision.pad.passive import PassivePad
from edge.vision.pad.settings import DEFAULT_THRESHOLD
from edge.vision.quality import count_significant_faces
from edge.vision.settings import VisionSettings


class PadNoFaceError(ExamGateError):
    code = "E_NO_FACE"
    remedy = "use a photo where one face is clearly visible, looking at the camera"


class PadMultipleFacesError(ExamGateError):
    code = "E_PAD_MULTIPLE_FACES"
    remedy = "only one face may be in front of the camera"


class PadOneFrameError(ExamGateError):
    code = "E_PAD_ONE_FRAME"
    remedy = "a frame folder needs at least 2 frames for motion signals; pass a single image without --frames"


class PadFrameSizeError(ExamGateError):
    code = "E_PAD_FRAME_SIZES"
    remedy = "all frames of one sequence must come from one camera at one resolution"


class PadNoLandmarkerError(ExamGateError):
    code = "E_PAD_MODEL_MISSING"
    remedy = "run `python models/fetch_landmarks.py` (hash in models/SHA256SUMS)"


@dataclass
class PadResult:
    bona_fide_score: float
    decision: str
    signals: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: dict[str, str] | None = None


class PadAnalyser:
    def __init__(
        self,
        detector: FaceDetector,
        passive: PassivePad,
        settings: VisionSettings,
        threshold: float = DEFAULT_THRESHOLD,
        landmarker: FaceLandmarker | None = None,
    ) -> None:
        self.detector, self.passive, self.settings, self.threshold = detector, passive, settings, threshold
        self.landmarker = landmarker

    def _face(self, rgb: RgbImage, still: bool) -> tuple[Any, float]:
        start = time.perf_counter()
        faces, _ = self.detector.detect(rgb, tiles=still)
        ms = (time.perf_counter() - start) * 1000.0
        if not faces:
            raise PadNoFaceError("no face found")
        if count_significant_faces(faces, self.settings) > 1:
            raise PadMultipleFacesError(f"{count_significant_faces(faces, self.settings)} faces found")
        return faces[0], ms

    def _decide(self, score: float) -> str:
        return "bona_fide" if score >= self.threshold else "attack"

    def image(self, rgb: RgbImage) -> PadResult:
        try:
            face, detect_ms = self._face(rgb, still=True)
            passive = self.passive.score(rgb, face.box_xywh)
        except ExamGateError as exc:
            return PadResult(0.0, "no_face", error=exc.to_dict())
        signals: dict[str, Any] = {"passive": passive.per_model, "grayscale": _is_grey(rgb)}
        timings = {"detect_ms": round(detect_ms, 2), **passive.timings_ms}
        return PadResult(passive.bona_fide_score, self._decide(passive.bona_fide_score), signals, timings)

    def frames(self, frames: list[RgbImage]) -> PadResult:
        """Frames must be non-empty lists of equal-size images (E_PAD_ONE_FRAME / E_PAD_FRAME_SIZES raised)."""
        check_sequence(frames)
        scores: list[float] = []
        track = _Track()
        timings = {"detect_ms": 0.0, "pad_infer_ms": 0.0, "landmarks_ms": 0.0}
        try:
            for rgb in frames:
                face, detect_ms = self._face(rgb, still=False)
                passive = self.passive.score(rgb, face.box_xywh)
                scores.append(passive.bona_fide_score)
                timings["landmarks_ms"] += self._follow(track, rgb, face)
                timings["detect_ms"] += detect_ms
                timings["pad_infer_ms"] += passive.timings_ms["pad_infer_ms"]
        except ExamGateError as exc:
            return PadResult(0.0, "no_face", {"frames": len(frames)}, error=exc.to_dict())
        score = float(min(scores))
        signals = {
            "frames": len(frames),
            "passive_min": round(score, 6),
            "passive_mean": round(float(np.mean(scores)), 6),
            **track.signals(),
        }
        per_frame = {k: round(v / len(frames), 2) for k, v in timings.items()}
        return PadResult(score, self._decide(score), signals, per_frame)

    def motion(self, frames: list[RgbImage]) -> dict[str, float]:
        """The multi-frame signals alone (no passive score) over the frames showing one usable face.

        For the lane: a frame without a face (or with two) is left out; fewer than 2 usable frames give ``{}``.
        ``frames`` counts the frames used.
        """
        check_sequence(frames)
        track = _Track()
        for rgb in frames:
            try:
                face, _ = self._face(rgb, still=False)
            except ExamGateError:
                continue
            self._follow(track, rgb, face)
        if len(track.keypoints) < 2:
            return {}
        return {"frames": float(len(track.keypoints)), **track.signals()}

    def mesh_points(self, rgb: RgbImage) -> npt.NDArray[np.float64] | None:
        """The 468-point mesh of the one face in ``rgb``, or None (no face, two faces). Needs the landmarker."""
        if self.landmarker is None:
            raise PadNoLandmarkerError("the face landmark model is not loaded")
        try:
            face, _ = self._face(rgb, still=False)
        except ExamGateError:
            return None
        return self.landmarker.mesh(rgb, face).points_xy

    def _follow(self, track: _Track, rgb: RgbImage, face: Detection) -> float:
        """Add one frame's keypoints (the mesh when a landmarker is given) to ``track``; the landmark time in ms."""
        if self.landmarker is None:
            track.keypoints.append((face.keypoints_xy, face.eye_distance_px))
            return 0.0
        start = time.perf_counter()
        mesh = self.landmarker.mesh(rgb, face)
        track.keypoints.append((mesh.points_xy, face.eye_distance_px))
        track.ears.append(eye_aspect_ratio(mesh.points_xy))
        return (time.perf_counter() - start) * 1000.0


@dataclass
class _Track:
    """Keypoints (and eye aspect ratios, with the mesh) of a face over a sequence of frames."""

    keypoints: list[tuple[np.ndarray, float]] = field(default_factory=list)
    ears: list[float] = field(default_factory=list)

    def signals(self) -> dict[str, float]:
        signals = motion_signals(self.keypoints)
        if self.ears:
            signals |= {
                "blink": round((max(self.ears) - min(self.ears)) / max(*self.ears, 1e-6), 5),
                "ear_min": round(min(self.ears), 4),
                "ear_max": round(max(self.ears), 4),
            }
        return signals


def check_sequence(frames: list[RgbImage]) -> None:
    """At least 2 frames of one size (E_PAD_ONE_FRAME / E_PAD_FRAME_SIZES)."""
    if len(frames) < 2:
        raise PadOneFrameError(f"{len(frames)} frame(s); at least 2 are needed")
    sizes = {f.shape[:2] for f in frames}
    if len(sizes) > 1:
        raise PadFrameSizeError(f"frames of different sizes: {sorted(sizes)}")


def _is_grey(rgb: RgbImage) -> bool:
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def motion_signals(keypoints: list[tuple[np.ndarray, float]]) -> dict[str, float]:
    """Similarity and homography fit residuals of each frame's keypoints onto the first frame (eye-distance units)."""
    ref, eye = keypoints[0][0].astype(np.float32), max(keypoints[0][1], 1.0)
    sim_res, hom_res = [], []
    for pts, _ in keypoints[1:]:
        pts32 = pts.astype(np.float32)
        m, _ = cv2.estimateAffinePartial2D(pts32, ref)
        if m is not None:
            mapped = pts32 @ m[:, :2].T + m[:, 2]
            sim_res.append(float(np.linalg.norm(mapped - ref, axis=1).mean()) / eye)
        h, _ = cv2.findHomography(pts32, ref, 0)
        if h is not None:
            mapped_h = cv2.perspectiveTransform(pts32[None], h)[0]
            hom_res.append(float(np.linalg.norm(mapped_h - ref, axis=1).mean()) / eye)
    return {
        "nonrigid_motion": round(float(np.median(sim_res)), 5) if sim_res else 0.0,
        "planar_residual": round(float(np.median(hom_res)), 5) if hom_res else 0.0,
    }
