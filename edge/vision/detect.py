"""Face detection with MediaPipe Tasks' FaceDetector (BlazeFace short range), loaded once from the model file.

BlazeFace misses faces that fill the whole frame (tight ID-style crops); when it finds nothing, the image is padded
by a fraction of its size on each side and searched again, and coordinates are mapped back. It also misses faces
narrower than ~15% of the image; for still photos (not live frames) a tiled search follows as a last resort.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.devices import RgbImage
from edge.vision.models import ModelLoadError

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ INFO lines are noise on a device console

# Keypoint rows, as MediaPipe returns them ("right" = the subject's right, the left side of the image).
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH, RIGHT_EAR, LEFT_EAR = range(6)
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")
# Tiled search (still photos only): up to 2 levels of tiles, none smaller than BlazeFace's useful input,
# a stricter score (tiles of texture produce more false faces) and overlap suppression across tiles.
TILE_LEVELS = 2
TILE_MIN_SIDE_PX = 160
TILE_MIN_SCORE = 0.7
TILE_OVERLAP_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """One face: box (x, y, width, height) and 6 keypoints (x, y), all in pixels of the input image."""

    box_xywh: tuple[float, float, float, float]
    keypoints_xy: npt.NDArray[np.float64]  # shape (6, 2)
    score: float

    @property
    def eye_distance_px(self) -> float:
        return float(np.linalg.norm(self.keypoints_xy[LEFT_EYE] - self.keypoints_xy[RIGHT_EYE]))

    def to_json(self) -> dict[str, Any]:
        x, y, w, h = self.box_xywh
        return {
            "box": {"x": round(x, 1), "y": round(y, 1), "width": round(w, 1), "height": round(h, 1)},
            "score": round(self.score, 4),
            "keypoints": {
                name: [round(float(px), 1), round(float(py), 1)]
                for name, (px, py) in zip(KEYPOINT_NAMES, self.keypoints_xy, strict=True)
            },
            "eye_distance_px": round(self.eye_distance_px, 1),
        }


class FaceDetector:
    """Thread-safe wrapper around one MediaPipe FaceDetector instance (IMAGE running mode)."""

    def __init__(self, model_file: Path, *, min_score: float = 0.5, pad_retry_fraction: float = 0.5) -> None:
        try:
            from mediapipe.tasks.python import BaseOptions, vision  # noqa: PLC0415 - heavy import, only when used

            options = vision.FaceDetectorOptions(
                base_options=BaseOptions(model_asset_buffer=model_file.read_bytes()),
                running_mode=vision.RunningMode.IMAGE,
                min_detection_confidence=min_score,
            )
            self._detector: Any = vision.FaceDetector.create_from_options(options)
        except (OSError, RuntimeError, ValueError, ImportError) as exc:
            raise ModelLoadError(f"cannot load the face detector {model_file.name}: {exc}") from exc
        import mediapipe as mp  # noqa: PLC0415

        self._mp: Any = mp
        self._lock = threading.Lock()
        self._pad = pad_retry_fraction
        self._closed = False
        # Close before the interpreter stops MediaPipe's worker thread; its own __del__ fails after that.
        threading._register_atexit(self.close)  # type: ignore[attr-defined]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._detector.close()

    def _run(self, image: RgbImage) -> list[Detection]:
        data = np.ascontiguousarray(image, dtype=np.uint8)
        height, width = data.shape[:2]
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=data)
        with self._lock:
            if self._closed:
                raise ModelLoadError("the face detector was closed")
            result = self._detector.detect(mp_image)
        found = []
        for det in result.detections:
            bb = det.bounding_box
            kps = np.array([[kp.x * width, kp.y * height] for kp in det.keypoints], dtype=np.float64)
            if kps.shape != (6, 2):
                continue
            score = float(det.categories[0].score) if det.categories else 0.0
            found.append(
                Detection((float(bb.origin_x), float(bb.origin_y), float(bb.width), float(bb.height)), kps, score)
            )
        return found

    def _padded(self, image: RgbImage) -> list[Detection]:
        height, width = image.shape[:2]
        pad_x, pad_y = round(width * self._pad), round(height * self._pad)
        canvas = np.asarray(
            cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(0, 0, 0)),
            dtype=np.uint8,
        )
        return [_shifted(d, -pad_x, -pad_y) for d in self._run(canvas)]

    def _tiled(self, image: RgbImage) -> list[Detection]:
        """Search overlapping square tiles (half, then a quarter of the short side) for faces too small to find."""
        height, width = image.shape[:2]
        side = min(height, width) // 2
        for _ in range(TILE_LEVELS):
            if side < TILE_MIN_SIDE_PX:
                break
            found: list[Detection] = []
            for y in _starts(height, side):
                for x in _starts(width, side):
                    tile = np.ascontiguousarray(image[y : y + side, x : x + side])
                    found += [_shifted(d, x, y) for d in self._run(tile) if d.score >= TILE_MIN_SCORE]
            if found:
                return _suppress_overlaps(found)
            side //= 2
        return []

    def detect(self, image: RgbImage, *, tiles: bool = False) -> tuple[list[Detection], str]:
        """Faces in ``image``, largest (by eye distance) first, and which retry found them.

        The retry is "" (found directly), "padded" (the image padded by ``pad_retry_fraction`` on each side) or
        "tiled" (only with ``tiles=True``: overlapping tiles, for small faces in large still photos).
        """
        found, retry = self._run(image), ""
        if not found and self._pad > 0:
            found, retry = self._padded(image), "padded"
        if not found and tiles:
            found, retry = self._tiled(image), "tiled"
        if not found:
            retry = ""
        found.sort(key=lambda d: d.eye_distance_px, reverse=True)
        return found, retry


def _shifted(d: Detection, dx: float, dy: float) -> Detection:
    x, y, w, h = d.box_xywh
    return Detection((x + dx, y + dy, w, h), d.keypoints_xy + np.array([dx, dy], dtype=np.float64), d.score)


def _starts(length: int, side: int) -> list[int]:
    """Tile origins with 50% overlap, the last one flush with the end."""
    if length <= side:
        return [0]
    starts = list(range(0, length - side, max(side // 2, 1)))
    return [*starts, length - side]


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _suppress_overlaps(found: list[Detection]) -> list[Detection]:
    """The same face seen in several overlapping tiles: keep the most confident one."""
    kept: list[Detection] = []
    for d in sorted(found, key=lambda d: d.score, reverse=True):
        if all(_iou(d.box_xywh, k.box_xywh) < TILE_OVERLAP_IOU for k in kept):
            kept.append(d)
    return kept
