"""MediaPipe face mesh (468 points, ``models/face_landmark.tflite``) on a detector box, and blink (EAR) from it.

The ROI follows MediaPipe's face-mesh graph: a square 1.5x the larger box side around the box centre, rotated so
the eyes are level, warped to 192x192, RGB scaled to 0..1 (chosen by measurement: see docs/face.md). Landmarks are
mapped back to image pixels. ``face_presence`` is the model's face flag (sigmoid).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from edge.devices import RgbImage
from edge.vision.detect import LEFT_EYE, RIGHT_EYE, Detection
from edge.vision.embed import _interpreter_class
from edge.vision.models import ModelLoadError, ModelMissingError, verified

LANDMARK_FILE = "face_landmark.tflite"
INPUT_PX = 192
ROI_SCALE = 1.5
# eye contour points of the 468-point mesh: (outer corner, inner corner, upper 1, lower 1, upper 2, lower 2)
RIGHT_EYE_IDX = (33, 133, 159, 145, 158, 153)
LEFT_EYE_IDX = (263, 362, 386, 374, 385, 380)


@dataclass(frozen=True)
class FaceMesh:
    points_xy: npt.NDArray[np.float64]  # (468, 2) image pixels
    face_presence: float


def eye_aspect_ratio(points: npt.NDArray[np.float64]) -> float:
    """Mean of both eyes' EAR: eye opening over eye width. ~0.25-0.35 open, < 0.15 closed."""
    out: list[float] = []
    for outer, inner, u1, l1, u2, l2 in (RIGHT_EYE_IDX, LEFT_EYE_IDX):
        width = float(np.linalg.norm(points[outer] - points[inner]))
        height = float(np.linalg.norm(points[u1] - points[l1]) + np.linalg.norm(points[u2] - points[l2]))
        out.append(height / (2 * width) if width > 1e-6 else 0.0)
    return float(np.mean(out))


class FaceLandmarker:
    def __init__(self, models_dir: Path, num_threads: int = 1) -> None:
        path = models_dir / LANDMARK_FILE
        if not path.is_file():
            raise ModelMissingError(
                f"face landmark model not found: {path.name} in {models_dir}",
                code="E_PAD_MODEL_MISSING",
                remedy="run `python models/fetch_landmarks.py` (hash in models/SHA256SUMS)",
            )
        try:
            self._interp: Any = _interpreter_class()(model_path=str(verified(path)), num_threads=num_threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot load {path.name}: {exc}") from exc
        self._inp = self._interp.get_input_details()[0]["index"]
        outs = self._interp.get_output_details()
        self._mesh = next(o["index"] for o in outs if int(np.prod(o["shape"])) == 468 * 3)
        self._flag = next(o["index"] for o in outs if int(np.prod(o["shape"])) == 1)
        self._lock = threading.Lock()

    @staticmethod
    def roi_matrix(face: Detection) -> npt.NDArray[np.float64]:
        """2x3 affine from image pixels to the 192x192 model input."""
        x, y, w, h = face.box_xywh
        cx, cy, side = x + w / 2, y + h / 2, max(w, h) * ROI_SCALE
        dx, dy = face.keypoints_xy[LEFT_EYE] - face.keypoints_xy[RIGHT_EYE]
        angle = float(np.degrees(np.arctan2(dy, dx)))
        m = np.asarray(cv2.getRotationMatrix2D((cx, cy), angle, INPUT_PX / side), dtype=np.float64)
        m[:, 2] += np.array([INPUT_PX / 2 - cx, INPUT_PX / 2 - cy])
        return m

    def mesh(self, rgb: RgbImage, face: Detection) -> FaceMesh:
        m = self.roi_matrix(face)
        patch = cv2.warpAffine(rgb, m, (INPUT_PX, INPUT_PX), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        with self._lock:
            self._interp.set_tensor(self._inp, (patch.astype(np.float32) / 255.0)[None])
            self._interp.invoke()
            raw = np.array(self._interp.get_tensor(self._mesh), dtype=np.float64).reshape(468, 3)
            flag = float(np.array(self._interp.get_tensor(self._flag)).reshape(-1)[0])
        inv = cv2.invertAffineTransform(m)
        pts = raw[:, :2] @ inv[:, :2].T + inv[:, 2]
        return FaceMesh(pts, float(1.0 / (1.0 + np.exp(-flag))))
