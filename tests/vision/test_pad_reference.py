"""The committed PAD models + our context crop reproduce the original PyTorch outputs (reference.json)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.vision.models import file_sha256, repo_models_dir
from edge.vision.pad.crop import context_crop
from edge.vision.pad.passive import LIVE_CLASS, PASSIVE_MODELS, PassivePad, _Model

REPO = Path(__file__).resolve().parents[2]
REF = json.loads((REPO / "tests/data/pad_reference/reference.json").read_text())


def test_models_match_sha256sums() -> None:
    sums = dict(
        reversed(line.split(maxsplit=1)) for line in (repo_models_dir() / "SHA256SUMS").read_text().splitlines()
    )
    for file_name, _ in PASSIVE_MODELS.values():
        assert sums[file_name] == file_sha256(repo_models_dir() / file_name)
        assert REF["models"][file_name] == sums[file_name]


@pytest.mark.parametrize("entry", REF["images"], ids=lambda e: Path(e["image"]).name)
def test_tflite_matches_torch_reference(entry: dict) -> None:
    bgr = cv2.imread(str(REPO / entry["image"]), cv2.IMREAD_COLOR)
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    for file_name, scale in PASSIVE_MODELS.values():
        model = _Model(repo_models_dir() / file_name, 1)
        crop = context_crop(rgb, tuple(entry["box_xywh"]), scale)
        got = model.probs(crop.pixels_bgr)
        want = np.array(entry["torch_probs"][file_name])
        assert np.abs(got - want).max() <= REF["tolerance"], (file_name, got, want)


def test_passive_fused_score_is_mean_of_live_probs() -> None:
    entry = REF["images"][0]
    bgr = cv2.imread(str(REPO / entry["image"]), cv2.IMREAD_COLOR)
    pad = PassivePad(repo_models_dir())
    result = pad.score(np.ascontiguousarray(bgr[:, :, ::-1]), tuple(entry["box_xywh"]))
    want = np.mean([entry["torch_probs"][f][LIVE_CLASS] for f, _ in PASSIVE_MODELS.values()])
    assert abs(result.bona_fide_score - want) <= REF["tolerance"]
    assert pad.model_version.startswith("minifasnet_v2+minifasnet_v1se@")


def test_missing_model_file_is_typed(tmp_path: Path) -> None:
    with pytest.raises(Exception) as info:
        PassivePad(tmp_path)
    assert getattr(info.value, "code", None) == "E_PAD_MODEL_MISSING"
