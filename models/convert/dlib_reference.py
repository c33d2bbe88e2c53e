"""dlib's own face pipeline, used as the ground truth for the converted model (needs the ``dlib`` wheel).

A chip is what dlib feeds its ResNet: frontal HOG detector -> 5-point shape predictor ->
``dlib.get_face_chip(img, shape, size=150, padding=0.25)``.  The reference descriptor of a chip is
``face_recognition_model_v1.compute_face_descriptor(chip)``, dlib's entry point for an aligned chip.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def models_dir() -> Path:
    """Folder of the .dat files inside the installed ``face_recognition_models`` package (not imported:
    its __init__ needs pkg_resources, which new setuptools releases dropped)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face_recognition_models is not installed: pip install face-recognition-models")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def resnet_dat() -> Path:
    return models_dir() / "dlib_face_recognition_resnet_model_v1.dat"


def versions() -> dict[str, str]:
    found = {}
    for dist in ("dlib", "face-recognition-models", "face-recognition"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = "absent"
    return found


@dataclass
class Chip:
    source: str
    rgb: np.ndarray  # (150,150,3) uint8


class DlibPipeline:
    """dlib detector + 5-point aligner + ResNet encoder, loaded from face_recognition_models."""

    def __init__(self) -> None:
        import dlib  # noqa: PLC0415 - optional heavy dependency of the conversion tooling only

        self._dlib: Any = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shaper = dlib.shape_predictor(str(models_dir() / "shape_predictor_5_face_landmarks.dat"))
        self.encoder = dlib.face_recognition_model_v1(str(resnet_dat()))

    def chip(self, rgb: np.ndarray, upsample: int = 1) -> np.ndarray | None:
        """The aligned 150x150 chip of the largest detected face, or None when dlib finds no face."""
        faces = self.detector(rgb, upsample)
        if len(faces) == 0:
            return None
        face = max(faces, key=lambda rect: rect.area())
        shape = self.shaper(rgb, face)
        return np.asarray(self._dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING), dtype=np.uint8)

    def descriptor(self, chip_rgb: np.ndarray) -> np.ndarray:
        """dlib's raw 128-D descriptor of an aligned chip (float32 values, returned as float64)."""
        return np.array(self.encoder.compute_face_descriptor(np.ascontiguousarray(chip_rgb)), dtype=np.float64)
