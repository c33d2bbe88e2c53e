"""The DEV face sets beside the checkout (skipped without ../shared): every face found, genuine above impostor."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.vision.calibrate import score_pairs
from edge.vision.compare import Comparer, read_pairs
from edge.vision.metrics import auc
from edge.vision.pipeline import FacePipeline


@pytest.mark.parametrize(("name", "min_auc"), [("deepface", 0.97), ("fr_tests", 0.99)])
def test_dev_set(shared_dir: Path, embedding_pipeline: FacePipeline, name: str, min_auc: float) -> None:
    pairs = read_pairs(shared_dir / "data" / "faces" / name / "pairs.csv")
    scores = score_pairs(Comparer(embedding_pipeline, None), pairs)
    assert scores.n_no_face == 0  # BlazeFace (+ retries) finds every face, incl. RGBA PNG and partial faces
    assert scores.genuine.size + scores.impostor.size == len(pairs)
    assert auc(scores.genuine, scores.impostor) >= min_auc
