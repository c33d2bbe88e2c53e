"""Embeddings of the two families are never compared (issue 13: refuse across models, typed error), the verifier runs
the MobileFaceNet family end to end, and its fp16 file scores like the fp32 one. Real inference throughout."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from edge.devices import Frame, ReferenceImage, RgbImage
from edge.vision.match import EmbeddingMismatchError
from edge.vision.models import default_thresholds_path
from edge.vision.pipeline import FacePipeline, ModelEmbedding, similarity
from edge.vision.quality import GateProfile
from edge.vision.settings import VisionSettings
from edge.vision.thresholds import Thresholds, ThresholdsError, load_thresholds
from edge.vision.verifier import TfliteFaceVerifier

MFN = VisionSettings(embedder="mobilefacenet")
DLIB = VisionSettings(embedder="dlib_resnet_v1")


@pytest.fixture(scope="module")
def mfn() -> FacePipeline:
    return FacePipeline.shared(MFN)


@pytest.fixture(scope="module")
def dlib() -> FacePipeline:
    return FacePipeline.shared(DLIB)


@pytest.fixture(scope="module")
def mfn_thresholds() -> Thresholds:
    return load_thresholds(default_thresholds_path(MFN))


def _embed(pipeline: FacePipeline, image: RgbImage) -> ModelEmbedding:
    return pipeline.embed_tagged(pipeline.analyse(image, GateProfile.REFERENCE))


def test_same_model_embeddings_compare(mfn: FacePipeline, obama: RgbImage, obama2: RgbImage) -> None:
    a, b = _embed(mfn, obama), _embed(mfn, obama2)
    assert a.model_version == b.model_version == mfn.model_version
    assert similarity(a, b) == pytest.approx(float(a.vector @ b.vector), abs=1e-6)


def test_embeddings_of_different_models_are_refused(mfn: FacePipeline, dlib: FacePipeline, obama: RgbImage) -> None:
    ours, theirs = _embed(mfn, obama), _embed(dlib, obama)
    assert ours.vector.shape == theirs.vector.shape == (128,)  # same size: only the model tag tells them apart
    with pytest.raises(EmbeddingMismatchError) as err:
        similarity(ours, theirs)
    assert err.value.code == "E_EMBEDDING_MISMATCH" and "re-enrol" in err.value.remedy
    assert mfn.model_version in str(err.value) and dlib.model_version in str(err.value)


def test_embeddings_of_different_sizes_are_refused(mfn: FacePipeline, obama: RgbImage) -> None:
    ours = _embed(mfn, obama)
    with pytest.raises(EmbeddingMismatchError):
        similarity(ours, ModelEmbedding(ours.vector[:64], ours.model_version))


def test_verifier_runs_the_family_end_to_end(
    mfn: FacePipeline, mfn_thresholds: Thresholds, obama: RgbImage, obama2: RgbImage
) -> None:
    buf = io.BytesIO()
    Image.fromarray(obama).save(buf, format="JPEG2000")
    verifier = TfliteFaceVerifier(mfn_thresholds, settings=MFN, pipeline=mfn)
    frames = [Frame(image=obama2, captured_monotonic_s=t, source="test") for t in (10.0, 10.4)]
    result = verifier.verify(frames, [ReferenceImage("chip", buf.getvalue())])
    assert verifier.model_version == mfn.model_version
    assert result.similarity is not None and result.similarity >= mfn_thresholds.match
    assert result.frames_used == 2


def test_the_other_familys_thresholds_are_refused_by_the_verifier(mfn: FacePipeline) -> None:
    with pytest.raises(ThresholdsError) as err:
        TfliteFaceVerifier(load_thresholds(default_thresholds_path(DLIB)), settings=MFN, pipeline=mfn)
    assert err.value.code == "E_THRESHOLDS_MODEL_MISMATCH"


def test_fp16_file_scores_like_fp32(mfn: FacePipeline, obama: RgbImage, obama2: RgbImage) -> None:
    fp16 = FacePipeline(
        VisionSettings(embedder="mobilefacenet", embedder_file_name="face_embedder_mobilefacenet_fp16.tflite")
    )
    assert fp16.model_version.startswith("mobilefacenet_fp16+")
    a32, b32, a16, b16 = _embed(mfn, obama), _embed(mfn, obama2), _embed(fp16, obama), _embed(fp16, obama2)
    assert abs(similarity(a32, b32) - similarity(a16, b16)) < 5e-3
    assert float(np.max(np.abs(a32.vector - a16.vector))) < 5e-3
