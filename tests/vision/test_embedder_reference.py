"""The committed TFLite embedder reproduces dlib's descriptors on committed chips, and matches SHA256SUMS.

The reference descriptors in tests/data/embedder_reference/reference.json were computed by dlib
itself (models/convert/make_reference.py), so this checks the conversion without dlib or TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # older images ship tflite-runtime instead
    from tflite_runtime.interpreter import Interpreter

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "models"
REFERENCE_DIR = REPO_ROOT / "tests" / "data" / "embedder_reference"
# Same bounds as models/convert/verify.py: max |TFLite - dlib| over the 128 components of one chip.
TOLERANCE = {"fp32": 1e-5, "fp16": 2e-3}
KINDS = [k for k in TOLERANCE if (MODELS_DIR / f"face_embedder_dlib_resnet_v1_{k}.tflite").exists()]


def _interpreter(path: Path) -> Any:
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    return interpreter


def _embed(interpreter: Any, chip: np.ndarray) -> np.ndarray:
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], chip.astype(np.float32)[None])
    interpreter.invoke()
    return np.array(interpreter.get_tensor(out["index"])[0], dtype=np.float64)


def _load_reference() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REFERENCE_DIR / "reference.json").read_text())
    return loaded


REFERENCE = _load_reference()
CHIP_FILES = [entry["file"] for entry in REFERENCE["chips"]]


@pytest.fixture(scope="module", params=KINDS)
def model(request: pytest.FixtureRequest) -> tuple[str, Any]:
    kind = str(request.param)
    return kind, _interpreter(MODELS_DIR / f"face_embedder_dlib_resnet_v1_{kind}.tflite")


def _chip(file: str) -> np.ndarray:
    with Image.open(REFERENCE_DIR / file) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _dlib_descriptor(file: str) -> np.ndarray:
    entry = next(e for e in REFERENCE["chips"] if e["file"] == file)
    return np.array(entry["dlib_descriptor"], dtype=np.float64)


def test_fp32_model_is_committed() -> None:
    assert "fp32" in KINDS, "models/face_embedder_dlib_resnet_v1_fp32.tflite is missing"


def test_reference_is_complete() -> None:
    assert len(CHIP_FILES) >= 8
    for entry in REFERENCE["chips"]:
        assert (REFERENCE_DIR / entry["file"]).is_file()
        assert len(entry["dlib_descriptor"]) == 128
    assert REFERENCE["versions"]["dlib"] not in ("", "absent")
    assert REFERENCE["versions"]["face-recognition-models"] not in ("", "absent")


@pytest.mark.parametrize("kind", KINDS)
def test_model_file_matches_sha256sums(kind: str) -> None:
    name = f"face_embedder_dlib_resnet_v1_{kind}.tflite"
    listed = {}
    for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, file = line.split(maxsplit=1)
            listed[file.strip()] = digest
    assert name in listed, f"{name} has no line in models/SHA256SUMS"
    assert hashlib.sha256((MODELS_DIR / name).read_bytes()).hexdigest() == listed[name]


def test_contract(model: tuple[str, Any]) -> None:
    _, interpreter = model
    inp = interpreter.get_input_details()
    out = interpreter.get_output_details()
    assert len(inp) == 1
    assert len(out) == 1
    assert list(inp[0]["shape"]) == [1, 150, 150, 3]
    assert inp[0]["dtype"] == np.float32
    assert list(out[0]["shape"]) == [1, 128]
    assert out[0]["dtype"] == np.float32


@pytest.mark.parametrize("file", CHIP_FILES)
def test_matches_dlib_descriptor(model: tuple[str, Any], file: str) -> None:
    kind, interpreter = model
    diff = float(np.max(np.abs(_embed(interpreter, _chip(file)) - _dlib_descriptor(file))))
    assert diff <= TOLERANCE[kind], f"{kind} {file}: max |diff| {diff:.3e} > {TOLERANCE[kind]:.0e}"


def test_tolerance_detects_channel_order_errors(model: tuple[str, Any]) -> None:
    """Feeding BGR instead of RGB moves the descriptor far beyond the tolerance, so the check above has teeth."""
    kind, interpreter = model
    rgb = _chip("astronaut.png")
    swapped = _embed(interpreter, rgb[:, :, ::-1])
    assert float(np.max(np.abs(swapped - _dlib_descriptor("astronaut.png")))) > 10 * TOLERANCE[kind]


def test_descriptor_is_raw_not_renormalised(model: tuple[str, Any]) -> None:
    """The contract is dlib's raw output: its norm is whatever dlib gives (not forced to 1)."""
    _, interpreter = model
    ref = _dlib_descriptor("astronaut.png")
    out = _embed(interpreter, _chip("astronaut.png"))
    assert abs(np.linalg.norm(ref) - 1.0) > 0.01  # this reference is not unit length ...
    assert abs(np.linalg.norm(out) - np.linalg.norm(ref)) < 1e-3  # ... and the model keeps that length
