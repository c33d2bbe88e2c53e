"""The committed MobileFaceNet TFLite files reproduce onnxruntime's embeddings on committed chips and match SHA256SUMS.

The reference embeddings in tests/data/mobilefacenet_reference/reference.json come from onnxruntime running the ONNX
export of the same checkpoint (models/convert/mobilefacenet_reference.py), so this checks the conversion without
onnxruntime, PyTorch or TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from edge.vision.embed import _interpreter_class

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "models"
REFERENCE_DIR = REPO_ROOT / "tests" / "data" / "mobilefacenet_reference"
# Same bounds as models/convert/mobilefacenet_to_tflite.py: max |diff| of one component of the unit embedding.
TOLERANCE = {"fp32": 1e-5, "fp16": 3e-3}
# The synthetic chips (noise, flat grey) have short raw embeddings, so fp16's rounding weighs more there (measured
# 4.6e-3 on flat grey); they get a looser fp16 bound, faces keep the converter's.
SYNTHETIC_FP16_TOLERANCE = 1e-2
REFERENCE: dict[str, Any] = json.loads((REFERENCE_DIR / "reference.json").read_text())
CHIP_FILES = [entry["file"] for entry in REFERENCE["chips"]]


def _name(kind: str) -> str:
    return f"face_embedder_mobilefacenet_{kind}.tflite"


@pytest.fixture(scope="module", params=list(TOLERANCE))
def model(request: pytest.FixtureRequest) -> tuple[str, Any]:
    kind = str(request.param)
    interpreter = _interpreter_class()(model_path=str(MODELS_DIR / _name(kind)), num_threads=1)
    interpreter.allocate_tensors()
    return kind, interpreter


def _embed(interpreter: Any, chip: np.ndarray) -> np.ndarray:
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], chip.astype(np.float32)[None])
    interpreter.invoke()
    return np.array(interpreter.get_tensor(out["index"])[0], dtype=np.float64)


def _chip(file: str) -> np.ndarray:
    with Image.open(REFERENCE_DIR / file) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _reference(file: str) -> np.ndarray:
    return np.array(next(e["embedding"] for e in REFERENCE["chips"] if e["file"] == file), dtype=np.float64)


def test_reference_is_complete() -> None:
    assert len(CHIP_FILES) >= 8
    for entry in REFERENCE["chips"]:
        assert (REFERENCE_DIR / entry["file"]).is_file()
        assert len(entry["embedding"]) == 128
    assert REFERENCE["chip"]["size"] == 112


@pytest.mark.parametrize("kind", list(TOLERANCE))
def test_model_file_matches_sha256sums(kind: str) -> None:
    listed = dict(reversed(line.split(maxsplit=1)) for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines())
    assert _name(kind) in listed, f"{_name(kind)} has no line in models/SHA256SUMS"
    assert hashlib.sha256((MODELS_DIR / _name(kind)).read_bytes()).hexdigest() == listed[_name(kind)]


def test_contract(model: tuple[str, Any]) -> None:
    _, interpreter = model
    inp, out = interpreter.get_input_details(), interpreter.get_output_details()
    assert len(inp) == 1 and len(out) == 1
    assert list(inp[0]["shape"]) == [1, 112, 112, 3] and inp[0]["dtype"] == np.float32
    assert list(out[0]["shape"]) == [1, 128] and out[0]["dtype"] == np.float32


@pytest.mark.parametrize("file", CHIP_FILES)
def test_matches_onnxruntime(model: tuple[str, Any], file: str) -> None:
    kind, interpreter = model
    tol = SYNTHETIC_FP16_TOLERANCE if kind == "fp16" and not file.startswith("astronaut") else TOLERANCE[kind]
    diff = float(np.max(np.abs(_unit(_embed(interpreter, _chip(file))) - _unit(_reference(file)))))
    assert diff <= tol, f"{kind} {file}: max |diff| {diff:.3e} > {tol:.0e}"


def test_tolerance_detects_channel_order_errors(model: tuple[str, Any]) -> None:
    """BGR instead of RGB moves the embedding far beyond the tolerance, so the check above has teeth."""
    kind, interpreter = model
    swapped = _unit(_embed(interpreter, _chip("astronaut.png")[:, :, ::-1]))
    assert float(np.max(np.abs(swapped - _unit(_reference("astronaut.png"))))) > 10 * TOLERANCE[kind]


def test_same_face_variants_stay_close(model: tuple[str, Any]) -> None:
    """Re-encoded / darkened copies of one face stay far more alike than the face and noise (a sanity floor)."""
    _, interpreter = model
    base = _unit(_embed(interpreter, _chip("astronaut.png")))
    jpeg = _unit(_embed(interpreter, _chip("astronaut_jpeg_q20.png")))
    noise = _unit(_embed(interpreter, _chip("noise_uniform_seed20261204.png")))
    assert float(base @ jpeg) > 0.8 > float(base @ noise) + 0.3
