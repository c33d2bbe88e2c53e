"""Real MediaPipe detection and dlib-style alignment on real photos."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from edge.devices import RgbImage
from edge.vision.align import CHIP_SIZE_PX, CHIP_TARGETS_XY, align_face, apply_transform, similarity_transform
from edge.vision.detect import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE
from edge.vision.image import ImageUnreadableError, decode_image
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import E_MULTIPLE_FACES, E_NO_FACE, GateProfile


def test_one_face_with_keypoints_in_place(pipeline: FacePipeline, obama: RgbImage) -> None:
    detections, retry = pipeline.detector.detect(obama)
    assert len(detections) == 1
    assert retry == ""
    face = detections[0]
    x, y, w, h = face.box_xywh
    assert 0.3 < w / obama.shape[1] < 0.9
    kp = face.keypoints_xy
    assert kp.shape == (6, 2)
    # the subject's right eye is on the image's left, eyes above nose above mouth, all inside the box
    assert kp[RIGHT_EYE, 0] < kp[NOSE_TIP, 0] < kp[LEFT_EYE, 0]
    assert max(kp[RIGHT_EYE, 1], kp[LEFT_EYE, 1]) < kp[NOSE_TIP, 1] < kp[MOUTH, 1]
    for px, py in kp[:4]:
        assert x <= px <= x + w
        assert y <= py <= y + h
    assert face.score > 0.7
    assert 50 < face.eye_distance_px < 80  # the file was cropped to ~65 px between the eyes


def test_no_face_in_gradient(pipeline: FacePipeline, gradient: RgbImage) -> None:
    analysis = pipeline.analyse(gradient, GateProfile.LIVE)
    assert analysis.detections == ()
    assert analysis.reasons == (E_NO_FACE,)
    assert not analysis.has_face


def test_three_faces_are_multiple_faces(pipeline: FacePipeline, three_faces: RgbImage) -> None:
    analysis = pipeline.analyse(three_faces, GateProfile.LIVE)
    assert len(analysis.detections) == 3
    assert analysis.reasons[0] == E_MULTIPLE_FACES
    assert analysis.has_face
    assert not analysis.usable


def test_small_background_face_does_not_count(pipeline: FacePipeline, obama: RgbImage, biden: RgbImage) -> None:
    """A second face below half the main face's size (someone behind in the queue) is not E_MULTIPLE_FACES."""
    small = cv2.resize(biden, (biden.shape[1] * 2 // 5, biden.shape[0] * 2 // 5), interpolation=cv2.INTER_AREA)
    canvas = np.full((obama.shape[0], obama.shape[1] + small.shape[1], 3), 255, dtype=np.uint8)
    canvas[:, : obama.shape[1]] = obama
    canvas[: small.shape[0], obama.shape[1] :] = small
    analysis = pipeline.analyse(canvas, GateProfile.LIVE)
    assert E_MULTIPLE_FACES not in analysis.reasons
    assert analysis.face is not None
    assert analysis.face.box_xywh[0] < obama.shape[1]  # the main face is the big one


def test_tight_crop_found_by_padded_retry(pipeline: FacePipeline, obama: RgbImage) -> None:
    face = pipeline.detector.detect(obama)[0][0]
    x, y, w, h = (round(v) for v in face.box_xywh)
    # forehead to chin, cheek to cheek: BlazeFace alone misses a face filling the whole image
    crop = np.ascontiguousarray(obama[y + h // 5 : y + h - h // 10, x + w // 6 : x + w - w // 6])
    assert pipeline.detector._run(crop) == []
    found, retry = pipeline.detector.detect(crop)
    assert len(found) == 1
    assert retry == "padded"
    kp = found[0].keypoints_xy
    # keypoints are mapped back into the crop's own coordinates
    assert np.all(kp[:4, 0] >= 0)
    assert np.all(kp[:4, 0] <= crop.shape[1])


def test_jpeg2000_chip_photo_is_detected(pipeline: FacePipeline, obama: RgbImage) -> None:
    small = Image.fromarray(obama).resize((182, 206), Image.Resampling.LANCZOS)  # chip-photo size
    buf = io.BytesIO()
    small.save(buf, format="JPEG2000", quality_mode="rates", quality_layers=[20])
    analysis = pipeline.analyse(decode_image(buf.getvalue()), GateProfile.REFERENCE)
    assert analysis.usable, analysis.reasons


def test_similarity_transform_recovers_a_known_one() -> None:
    rng = np.random.default_rng(7)
    src = rng.uniform(0, 300, size=(4, 2))
    angle, scale, shift = 0.3, 0.7, np.array([12.0, -5.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ (scale * rot).T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], scale * rot, atol=1e-9)
    assert np.allclose(matrix[:, 2], shift, atol=1e-9)
    with pytest.raises(ValueError, match="degenerate"):
        similarity_transform(np.ones((4, 2)), dst)


def test_alignment_puts_keypoints_on_targets(pipeline: FacePipeline, obama2: RgbImage) -> None:
    face = pipeline.detector.detect(obama2)[0][0]
    aligned = align_face(obama2, face)
    assert aligned.chip.shape == (CHIP_SIZE_PX, CHIP_SIZE_PX, 3)
    assert aligned.chip.dtype == np.uint8
    mapped = apply_transform(aligned.matrix, face.keypoints_xy[[RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH]])
    assert np.all(np.linalg.norm(mapped - CHIP_TARGETS_XY, axis=1) < 8.0)
    assert aligned.rms_error_px < 6.0
    # the warped pixels really hold the face: detecting again in the chip finds the eyes near the targets
    again, _ = pipeline.detector.detect(aligned.chip)
    assert again
    eyes = again[0].keypoints_xy[[RIGHT_EYE, LEFT_EYE]]
    assert np.all(np.linalg.norm(eyes - CHIP_TARGETS_XY[:2], axis=1) < 10.0)


def test_large_face_is_shrunk_without_losing_alignment(pipeline: FacePipeline, obama: RgbImage) -> None:
    big = cv2.resize(obama, (obama.shape[1] * 4, obama.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
    face = pipeline.detector.detect(big)[0][0]
    assert face.eye_distance_px > 200
    chip_big = align_face(big, face).chip
    chip_small = align_face(obama, pipeline.detector.detect(obama)[0][0]).chip
    diff = np.abs(chip_big.astype(int) - chip_small.astype(int)).mean()
    assert diff < 25.0  # same face, same framing, whatever the input size


def test_analyse_rejects_non_rgb_frames(pipeline: FacePipeline) -> None:
    with pytest.raises(ImageUnreadableError) as info:
        pipeline.analyse(np.zeros((64, 64), dtype=np.uint8), GateProfile.LIVE)
    assert info.value.code == "E_IMAGE_UNREADABLE"
    with pytest.raises(ImageUnreadableError):
        pipeline.analyse(np.zeros((64, 64, 3), dtype=np.float32), GateProfile.LIVE)  # type: ignore[arg-type]


def test_small_face_in_large_still_found_by_tiles(pipeline: FacePipeline, obama: RgbImage, gradient: RgbImage) -> None:
    """A face ~14% of the image width: BlazeFace misses it; stills get a tiled search, live frames do not."""
    canvas = np.full((1100, 1460, 3), 120, dtype=np.uint8)
    canvas[600 : 600 + obama.shape[0], 900 : 900 + obama.shape[1]] = obama
    assert pipeline.detector.detect(canvas)[0] == []
    found, retry = pipeline.detector.detect(canvas, tiles=True)
    assert retry == "tiled"
    assert len(found) == 1  # seen in several overlapping tiles, reported once
    reference = pipeline.analyse(canvas, GateProfile.REFERENCE)
    assert reference.usable, reference.reasons
    # keypoints are in canvas coordinates: the eyes sit where they are in the pasted photo (+ its offset)
    direct = pipeline.detector.detect(obama)[0][0]
    shift = np.array([900.0, 600.0])
    assert np.all(np.abs(found[0].keypoints_xy[:2] - (direct.keypoints_xy[:2] + shift)) < 6.0)
    assert pipeline.analyse(canvas, GateProfile.LIVE).reasons == (E_NO_FACE,)
    # no false faces from tiling a faceless image
    big_wall = cv2.resize(gradient, (1600, 1200))
    assert pipeline.detector.detect(big_wall, tiles=True) == ([], "")
