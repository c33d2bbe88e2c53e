"""Passive single-frame PAD: the two MiniFASNet TFLite files (scale 2.7 / 4.0 context crops), fused score.

Each model returns a 3-way softmax; class 1 is a live face. ``bona_fide_score`` = mean of the live
probabilities of the models in use (the original project's fusion: sum of both softmaxes / 2).
Higher = more likely live. Interpreters load once per instance and are guarded by a lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.devices import RgbImage
from edge.vision.embed import _interpreter_class
from edge.vision.models import ModelLoadError, ModelMissingError, file_sha256, verified
from edge.vision.pad.crop import context_crop

LIVE_CLASS = 1
PASSIVE_MODELS: dict[str, tuple[str, float]] = {  # tag: (file in models/, context scale)
    "minifasnet_v2": ("pad_minifasnet_v2_s2.7.tflite", 2.7),
    "minifasnet_v1se": ("pad_minifasnet_v1se_s4.0.tflite", 4.0),
}


@dataclass(frozen=True)
class PassiveScore:
    bona_fide_score: float
    per_model: dict[str, float]  # tag -> live probability
    timings_ms: dict[str, float]


class _Model:
    def __init__(self, path: Path, num_threads: int) -> None:
        try:
            self.interp: Any = _interpreter_class()(model_path=str(path), num_threads=num_threads)
            self.interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot load PAD model {path.name}: {exc}") from exc
        self.inp = self.interp.get_input_details()[0]["index"]
        self.out = self.interp.get_output_details()[0]["index"]

    def probs(self, crop_bgr: np.ndarray) -> np.ndarray:
        self.interp.set_tensor(self.inp, crop_bgr[None].astype(np.float32))
        self.interp.invoke()
        return np.array(self.interp.get_tensor(self.out)[0], dtype=np.float64)


class PassivePad:
    """Loads the chosen MiniFASNet files from ``models_dir``; raises ``ModelMissingError`` if one is absent."""

    def __init__(self, models_dir: Path, tags: tuple[str, ...] = tuple(PASSIVE_MODELS), num_threads: int = 1) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, tuple[_Model, float]] = {}
        shas = []
        for tag in tags:
            file_name, scale = PASSIVE_MODELS[tag]
            path = models_dir / file_name
            if not path.is_file():
                raise ModelMissingError(
                    f"PAD model file not found: {file_name} in {models_dir}",
                    code="E_PAD_MODEL_MISSING",
                    remedy="restore the PAD models (models/SHA256SUMS, models/convert/pad/README.md); until then "
                    "the gate runs degraded and sends every candidate to review",
                )
            self._models[tag] = (_Model(verified(path), num_threads), scale)
            shas.append(file_sha256(path))
        sha8 = hashlib.sha256("".join(shas).encode()).hexdigest()[:8]
        self.model_version = "+".join(tags) + f"@{sha8}"

    def score(self, rgb: RgbImage, box_xywh: tuple[float, float, float, float]) -> PassiveScore:
        """Score one face; crop errors (E_PAD_FACE_TOO_SMALL, E_PAD_CROP_OUTSIDE) propagate."""
        crops = {tag: context_crop(rgb, box_xywh, scale) for tag, (_, scale) in self._models.items()}
        per_model: dict[str, float] = {}
        start = time.perf_counter()
        with self._lock:
            for tag, (model, _) in self._models.items():
                per_model[tag] = float(model.probs(crops[tag].pixels_bgr)[LIVE_CLASS])
        infer_ms = (time.perf_counter() - start) * 1000.0
        fused = float(np.mean(list(per_model.values())))
        return PassiveScore(fused, per_model, {"pad_infer_ms": round(infer_ms, 2)})
