"""Face embeddings from a TFLite embedder: a square RGB chip (0..255; 150 px for the dlib ResNet, 112 px for
MobileFaceNet: ``edge.vision.embedders``) -> 128-D descriptor. Each model applies its own normalisation.

Runtime: ``ai_edge_litert`` (LiteRT), falling back to ``tflite_runtime``. One interpreter per process, guarded by
a lock (TFLite interpreters are not thread-safe). The returned vectors are L2-normalised.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.devices import RgbImage
from edge.vision.models import ModelLoadError

EMBEDDING_DIM = 128
Embedding = npt.NDArray[np.float32]


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # noqa: PLC0415
        except ImportError as exc:
            raise ModelLoadError(
                "no TFLite runtime: neither ai_edge_litert nor tflite_runtime is importable",
                remedy="pip install ai-edge-litert (or tflite-runtime on platforms without it)",
            ) from exc
    return Interpreter


def l2_normalise(vector: npt.NDArray[np.floating[Any]]) -> Embedding:
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm <= 1e-12:
        raise ValueError("cannot normalise a zero or non-finite vector")
    return (np.asarray(vector, dtype=np.float32) / norm).astype(np.float32)


class FaceEmbedder:
    """Loads the embedder once; ``embed(chip)`` returns a unit-length float32 vector of 128 values."""

    def __init__(self, model_file: Path, *, num_threads: int = 1) -> None:
        interpreter_cls = _interpreter_class()
        try:
            self._interp: Any = interpreter_cls(model_path=str(model_file), num_threads=num_threads)
            self._interp.allocate_tensors()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelLoadError(f"cannot load the face embedder {model_file.name}: {exc}") from exc
        inputs, outputs = self._interp.get_input_details(), self._interp.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(f"{model_file.name}: expected 1 input and 1 output tensor")
        in_shape, out_shape = tuple(inputs[0]["shape"]), tuple(outputs[0]["shape"])
        square = len(in_shape) == 4 and in_shape[0] == 1 and in_shape[1] == in_shape[2] and in_shape[3] == 3
        if not square or not 96 <= in_shape[1] <= 224 or out_shape != (1, EMBEDDING_DIM):
            raise ModelLoadError(f"{model_file.name}: unexpected tensor shapes in={in_shape} out={out_shape}")
        self.chip_px = int(in_shape[1])
        if inputs[0]["dtype"] != np.float32:
            raise ModelLoadError(f"{model_file.name}: input must be float32, got {inputs[0]['dtype']}")
        self._in_index = int(inputs[0]["index"])
        self._out_index = int(outputs[0]["index"])
        self._lock = threading.Lock()

    def embed_raw(self, chip: RgbImage) -> npt.NDArray[np.float32]:
        """The model's raw 128-D output for one aligned RGB chip (pixel values 0..255)."""
        if chip.shape != (self.chip_px, self.chip_px, 3):
            raise ValueError(f"chip must be {self.chip_px}x{self.chip_px}x3, got {chip.shape}")
        batch = chip.astype(np.float32)[None, ...]
        with self._lock:
            self._interp.set_tensor(self._in_index, batch)
            self._interp.invoke()
            out = np.array(self._interp.get_tensor(self._out_index), dtype=np.float32)
        return out.reshape(EMBEDDING_DIM)

    def embed(self, chip: RgbImage) -> Embedding:
        """L2-normalised embedding of one aligned chip."""
        return l2_normalise(self.embed_raw(chip))
