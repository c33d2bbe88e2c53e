"""Run a converted embedder with LiteRT (ai_edge_litert, falling back to tflite_runtime), as the device does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        from tflite_runtime.interpreter import Interpreter  # noqa: PLC0415
    return Interpreter


class LiteRtEmbedder:
    """Loads a ``face_embedder_*.tflite`` and maps one 150x150 RGB chip (0..255) to its 128-D descriptor."""

    def __init__(self, model_path: Path, num_threads: int = 1) -> None:
        self.interpreter = _interpreter_class()(model_path=str(model_path), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        if list(self._input["shape"]) != [1, 150, 150, 3] or list(self._output["shape"]) != [1, 128]:
            raise ValueError(f"{model_path}: unexpected contract {self._input['shape']} -> {self._output['shape']}")

    def embed(self, chip_rgb: np.ndarray) -> np.ndarray:
        batch = np.asarray(chip_rgb, dtype=np.float32).reshape(1, 150, 150, 3)
        self.interpreter.set_tensor(self._input["index"], batch)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self._output["index"])[0], dtype=np.float32)
