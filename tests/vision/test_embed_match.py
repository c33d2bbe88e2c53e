"""Real TFLite embeddings: unit norm, deterministic, same person scores above different people; fusion; 1:N."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.devices import RgbImage
from edge.vision.embed import EMBEDDING_DIM, FaceEmbedder, l2_normalise
from edge.vision.match import E_ROSTER_DISAGREES, RosterIndex, cosine_similarity, fuse_scores
from edge.vision.models import ModelLoadError, model_version
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import GateProfile
from edge.vision.settings import VisionSettings


def _embed(pipeline: FacePipeline, image: RgbImage) -> np.ndarray:
    vector, _ = pipeline.embed(pipeline.analyse(image, GateProfile.LIVE))
    return vector


def test_embedding_is_unit_128_and_deterministic(embedding_pipeline: FacePipeline, obama: RgbImage) -> None:
    first = _embed(embedding_pipeline, obama)
    second = _embed(embedding_pipeline, obama)
    assert first.shape == (EMBEDDING_DIM,)
    assert first.dtype == np.float32
    assert float(np.linalg.norm(first)) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(first, second)


def test_same_person_scores_above_different_people(
    embedding_pipeline: FacePipeline, obama: RgbImage, obama2: RgbImage, biden: RgbImage
) -> None:
    a, b, c = (_embed(embedding_pipeline, img) for img in (obama, obama2, biden))
    same = cosine_similarity(a, b)
    different = max(cosine_similarity(a, c), cosine_similarity(b, c))
    assert same > different + 0.05
    assert cosine_similarity(a, a) == pytest.approx(1.0, abs=1e-6)


def test_raw_output_matches_the_contract(embedding_pipeline: FacePipeline, obama: RgbImage) -> None:
    analysis = embedding_pipeline.analyse(obama, GateProfile.LIVE)
    assert analysis.aligned is not None
    raw = embedding_pipeline.embedder.embed_raw(analysis.aligned.chip)
    assert raw.shape == (EMBEDDING_DIM,)
    assert 0.5 < float(np.linalg.norm(raw)) < 3.0  # dlib descriptors are not unit length; we normalise
    with pytest.raises(ValueError, match="150x150x3"):
        embedding_pipeline.embedder.embed_raw(np.zeros((112, 112, 3), dtype=np.uint8))


def test_model_version_names_both_models(embedding_pipeline: FacePipeline) -> None:
    version = embedding_pipeline.model_version
    assert version.startswith("dlib_resnet_v1_fp32+blazeface_sr@")
    assert len(version.rsplit("@", 1)[1]) == 8
    assert version == model_version(embedding_pipeline.embedder_path, embedding_pipeline.detector_path)


def test_damaged_model_file_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(ModelLoadError) as info:
        FaceEmbedder(bad)
    assert info.value.code == "E_MODEL_LOAD_FAILED"


def test_fusion_rule() -> None:
    assert fuse_scores({"chip": 0.95, "roster": 0.94}, review_threshold=0.9).similarity == 0.95
    assert fuse_scores({"chip": 0.95, "roster": 0.94}, review_threshold=0.9).reasons == ()
    # roster disagrees with the chip across the review threshold: chip score stays, review evidence is added
    disagree = fuse_scores({"chip": 0.95, "roster": 0.70}, review_threshold=0.9)
    assert disagree.similarity == 0.95
    assert disagree.reasons == (E_ROSTER_DISAGREES,)
    # a high roster score never lifts a low chip score
    assert fuse_scores({"chip": 0.70, "roster": 0.99}, review_threshold=0.9).similarity == 0.70
    assert fuse_scores({"roster": 0.93}, review_threshold=0.9).similarity == 0.93
    assert fuse_scores({}, review_threshold=0.9).similarity is None


def test_roster_search_finds_the_person() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(500, EMBEDDING_DIM)).astype(np.float32)
    ids = [f"p{i:04d}" for i in range(500)]
    index = RosterIndex(ids, matrix)
    probe = matrix[123] + rng.normal(scale=0.05, size=EMBEDDING_DIM).astype(np.float32)
    top = index.search(probe, top_k=3)
    assert top[0][0] == "p0123"
    assert top[0][1] > 0.95
    assert top[0][1] >= top[1][1] >= top[2][1]
    assert len(index) == 500
    with pytest.raises(ValueError):
        RosterIndex(ids[:2], matrix[:3])
    with pytest.raises(ValueError):
        l2_normalise(np.zeros(EMBEDDING_DIM, dtype=np.float32))


def test_fp16_embedder_by_setting(embedding_pipeline: FacePipeline, obama: RgbImage) -> None:
    """The embedder file is a setting; the version string follows the file, the fp16 weights barely move scores."""
    fp16_name = "face_embedder_dlib_resnet_v1_fp16.tflite"
    if not (embedding_pipeline.embedder_path.parent / fp16_name).is_file():
        pytest.skip("fp16 embedder not in models/")
    fp16 = FacePipeline(VisionSettings(embedder_file_name=fp16_name))
    try:
        assert fp16.model_version.startswith("dlib_resnet_v1_fp16+blazeface_sr@")
        assert fp16.model_version != embedding_pipeline.model_version
        assert cosine_similarity(_embed(fp16, obama), _embed(embedding_pipeline, obama)) > 0.999
    finally:
        fp16.detector.close()
