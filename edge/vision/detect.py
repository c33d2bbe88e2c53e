"""Face detection with MediaPipe Tasks' FaceDetector (BlazeFace short range), loaded once from the model file.

BlazeFace misses faces that fill the whole frame (tight ID-style crops); when it finds nothing, the image is padded
by a fraction of its size on each side and searched again, and coordinates are mapped back.
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

    def detect(self, image: RgbImage) -> tuple[list[Detection], bool]:
        """Faces in ``image``, largest (by eye distance) first, and whether the padded retry found them."""
        found = self._run(image)
        padded = False
        if not found and self._pad > 0:
            height, width = image.shape[:2]
            pad_x, pad_y = round(width * self._pad), round(height * self._pad)
            canvas = np.asarray(
                cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(0, 0, 0)),
                dtype=np.uint8,
            )
            offset = np.array([pad_x, pad_y], dtype=np.float64)
            found = [
                Detection(
                    (d.box_xywh[0] - pad_x, d.box_xywh[1] - pad_y, d.box_xywh[2], d.box_xywh[3]),
                    d.keypoints_xy - offset,
                    d.score,
                )
                for d in self._run(canvas)
            ]
            padded = bool(found)
        found.sort(key=lambda d: d.eye_distance_px, reverse=True)
        return found, padded
