"""Fixtures for the face pipeline tests: the real models from <repo>/models, test faces from tests/data/faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.devices import RgbImage
from edge.vision.image import decode_image
from edge.vision.models import repo_models_dir
from edge.vision.pipeline import FacePipeline
from edge.vision.settings import VisionSettings

FACES_DIR = Path(__file__).resolve().parents[1] / "data" / "faces"
# The pipeline mechanics tests run on the dlib ResNet family (its reference embeddings, its "other" thresholds);
# the default family, MobileFaceNet, has its own tests (test_mobilefacenet.py).
DLIB = VisionSettings(embedder="dlib_resnet_v1")
EMBEDDER_FILE = repo_models_dir() / DLIB.embedder_file_name


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    return FACES_DIR


@pytest.fixture(scope="session")
def pipeline() -> FacePipeline:
    return FacePipeline.shared(DLIB)


@pytest.fixture(scope="session")
def embedding_pipeline(pipeline: FacePipeline) -> FacePipeline:
    """The shared pipeline, once the converted embedder is present in models/ (skips until then)."""
    if not EMBEDDER_FILE.is_file():
        pytest.skip(f"embedder model not yet in models/ ({EMBEDDER_FILE.name})")
    return pipeline


@pytest.fixture(scope="session")
def obama() -> RgbImage:
    return decode_image(FACES_DIR / "obama.jpg")


@pytest.fixture(scope="session")
def obama2() -> RgbImage:
    return decode_image(FACES_DIR / "obama2.jpg")


@pytest.fixture(scope="session")
def biden() -> RgbImage:
    return decode_image(FACES_DIR / "biden.jpg")


@pytest.fixture(scope="session")
def gradient() -> RgbImage:
    """A smooth colour gradient, 320x240: no face in it."""
    x = np.linspace(0, 255, 320)[None, :] * np.ones((240, 1))
    y = np.linspace(0, 255, 240)[:, None] * np.ones((1, 320))
    return np.stack([x, y, (x + y) / 2], axis=2).astype(np.uint8)


@pytest.fixture(scope="session")
def three_faces(obama: RgbImage, obama2: RgbImage, biden: RgbImage) -> RgbImage:
    """The three test faces pasted left to right on a white canvas."""
    images = (obama, obama2, biden)
    height = max(img.shape[0] for img in images)
    canvas = np.full((height, sum(img.shape[1] for img in images), 3), 255, dtype=np.uint8)
    x = 0
    for img in images:
        canvas[: img.shape[0], x : x + img.shape[1]] = img
        x += img.shape[1]
    return canvas
