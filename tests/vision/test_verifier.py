"""TfliteFaceVerifier end to end on real photos: live frames vs chip / roster references."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from edge.devices import FaceVerifier, Frame, ReferenceImage, RgbImage
from edge.vision.match import E_ROSTER_DISAGREES
from edge.vision.models import population_thresholds_path
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import E_MULTIPLE_FACES, E_NO_FACE
from edge.vision.thresholds import Thresholds, ThresholdsError, load_thresholds
from edge.vision.verifier import E_CHIP_PHOTO_POOR, REVIEW_EVIDENCE, TfliteFaceVerifier


def _encode(image: RgbImage, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt)
    return buf.getvalue()


def _frames(*items: tuple[RgbImage, float]) -> list[Frame]:
    return [Frame(image=img, captured_monotonic_s=t, source="test") for img, t in items]


@pytest.fixture(scope="module")
def thresholds() -> Thresholds:
    # these images are Western faces: the "other" population's operating point (the Asian default sends this
    # genuine pair to review, see docs/face.md)
    return load_thresholds(population_thresholds_path("other"))


@pytest.fixture(scope="module")
def verifier(embedding_pipeline: FacePipeline, thresholds: Thresholds) -> TfliteFaceVerifier:
    return TfliteFaceVerifier(thresholds, pipeline=embedding_pipeline)


def test_implements_the_port(verifier: TfliteFaceVerifier) -> None:
    assert isinstance(verifier, FaceVerifier)
    assert verifier.model_version.startswith("dlib_resnet_v1_fp32+blazeface_sr@")


def test_genuine_live_frames_against_jp2_chip(
    verifier: TfliteFaceVerifier, thresholds: Thresholds, obama: RgbImage, obama2: RgbImage, gradient: RgbImage
) -> None:
    chip = ReferenceImage("chip", _encode(obama, "JPEG2000"))
    live = _frames((obama2, 10.0), (obama2, 10.4), (gradient, 10.8), (obama2, 11.2))
    result = verifier.verify(live, [chip])
    assert result.similarity is not None
    assert result.similarity == result.scores["chip"]
    assert result.similarity >= thresholds.match
    assert result.frames_used == 3  # three usable frames (the gradient has no face), max_frames_embedded = 3
    assert result.reasons == ()
    assert result.best_frame is not None
    assert result.best_frame.shape == obama2.shape
    for key in ("decode_ms", "detect_ms", "align_ms", "quality_ms", "embed_ms", "match_ms", "total_ms"):
        assert result.timings_ms[key] >= 0.0
    assert result.model_version == verifier.model_version


def test_impostor_scores_below_review(
    verifier: TfliteFaceVerifier, thresholds: Thresholds, obama: RgbImage, biden: RgbImage
) -> None:
    result = verifier.verify(_frames((biden, 1.0)), [ReferenceImage("chip", _encode(obama, "JPEG"))])
    assert result.similarity is not None
    assert result.similarity < thresholds.review
    assert result.frames_used == 1


def test_only_frames_inside_the_window_count(
    verifier: TfliteFaceVerifier, obama: RgbImage, obama2: RgbImage, gradient: RgbImage
) -> None:
    live = _frames((obama2, 0.0), (gradient, 5.0), (gradient, 5.5))
    result = verifier.verify(live, [ReferenceImage("chip", _encode(obama, "JPEG"))])
    assert result.similarity is None
    assert result.reasons == (E_NO_FACE,)
    assert result.frames_used == 0
    assert result.best_frame is None


def test_several_faces_in_every_frame(verifier: TfliteFaceVerifier, obama: RgbImage, three_faces: RgbImage) -> None:
    result = verifier.verify(_frames((three_faces, 1.0)), [ReferenceImage("chip", _encode(obama, "JPEG"))])
    assert result.similarity is None
    assert E_MULTIPLE_FACES in result.reasons


def test_unreadable_chip_falls_back_to_roster(verifier: TfliteFaceVerifier, obama: RgbImage, obama2: RgbImage) -> None:
    refs = [ReferenceImage("chip", b"\x00garbage"), ReferenceImage("roster", _encode(obama, "PNG"))]
    result = verifier.verify(_frames((obama2, 1.0)), refs)
    assert "E_CHIP_PHOTO_UNUSABLE" in result.reasons
    assert set(result.scores) == {"roster"}
    assert result.similarity == result.scores["roster"]


def test_roster_photo_of_someone_else_raises_review_evidence(
    verifier: TfliteFaceVerifier, obama: RgbImage, obama2: RgbImage, biden: RgbImage
) -> None:
    refs = [ReferenceImage("chip", _encode(obama, "JPEG")), ReferenceImage("roster", _encode(biden, "JPEG"))]
    result = verifier.verify(_frames((obama2, 1.0)), refs)
    assert result.similarity == result.scores["chip"]
    assert result.scores["roster"] < result.scores["chip"]
    assert E_ROSTER_DISAGREES in result.reasons


def test_no_frames_and_faceless_chip(verifier: TfliteFaceVerifier, obama2: RgbImage, gradient: RgbImage) -> None:
    result = verifier.verify([], [ReferenceImage("chip", _encode(gradient, "JPEG"))])
    assert result.similarity is None
    assert E_NO_FACE in result.reasons
    assert "E_CHIP_PHOTO_UNUSABLE" in result.reasons
    result = verifier.verify(_frames((obama2, 1.0)), [ReferenceImage("chip", _encode(gradient, "PNG"))])
    assert result.similarity is None
    assert result.reasons == ("E_CHIP_PHOTO_UNUSABLE",)
    assert result.frames_used == 0
    assert result.best_frame is not None  # the best live frame is kept for the proctor's review screen
    assert np.array_equal(result.best_frame, obama2)


def test_malformed_frames_are_skipped(verifier: TfliteFaceVerifier, obama: RgbImage, obama2: RgbImage) -> None:
    grey = np.zeros((240, 320), dtype=np.uint8)
    rgba = np.zeros((240, 320, 4), dtype=np.uint8)
    live = [*_frames((grey, 1.0), (rgba, 1.1)), *_frames((obama2, 1.2))]
    result = verifier.verify(live, [ReferenceImage("chip", _encode(obama, "JPEG"))])
    assert result.similarity is not None
    assert result.frames_used == 1
    only_bad = verifier.verify(_frames((grey, 1.0)), [ReferenceImage("chip", _encode(obama, "JPEG"))])
    assert only_bad.similarity is None
    assert only_bad.reasons == (E_NO_FACE,)


def test_thresholds_for_other_models_are_refused(embedding_pipeline: FacePipeline, thresholds: Thresholds) -> None:
    other = thresholds.model_copy(update={"model_version": "dlib_resnet_v1_fp16+blazeface_sr@00000000"})
    with pytest.raises(ThresholdsError) as info:
        TfliteFaceVerifier(other, pipeline=embedding_pipeline)
    assert info.value.code == "E_THRESHOLDS_MODEL_MISMATCH"
    unversioned = thresholds.model_copy(update={"model_version": ""})
    assert TfliteFaceVerifier(unversioned, pipeline=embedding_pipeline).model_version == thresholds.model_version


def test_closest_frame_reasons_and_missing_references(
    verifier: TfliteFaceVerifier, obama: RgbImage, gradient: RgbImage
) -> None:
    dark = (obama.astype(np.float32) * 0.15).astype(np.uint8)
    chip = [ReferenceImage("chip", _encode(obama, "JPEG"))]
    # a dark face tells the candidate more than "no face": its reasons are reported
    result = verifier.verify(_frames((gradient, 1.0), (dark, 1.1)), chip)
    assert result.similarity is None
    assert "E_FACE_TOO_DARK" in result.reasons
    assert E_NO_FACE not in result.reasons
    result = verifier.verify(_frames((obama, 1.0)), [])
    assert result.similarity is None
    assert result.reasons == ("E_NO_REFERENCE",)


def test_poor_chip_photo_is_scored_and_flagged(verifier: TfliteFaceVerifier, obama: RgbImage, obama2: RgbImage) -> None:
    dark_chip = (obama.astype(np.float32) * 0.15).astype(np.uint8)
    result = verifier.verify(_frames((obama2, 1.0)), [ReferenceImage("chip", _encode(dark_chip, "PNG"))])
    assert result.similarity is not None
    assert result.similarity == result.scores["chip"]
    assert result.reasons == (E_CHIP_PHOTO_POOR,)
    assert E_CHIP_PHOTO_POOR in REVIEW_EVIDENCE
