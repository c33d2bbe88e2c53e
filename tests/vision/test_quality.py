"""Quality gates on real faces: each degradation triggers its own reason code, the clean face passes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.devices import RgbImage
from edge.vision.detect import Detection
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import (
    E_FACE_BLURRED,
    E_FACE_POSE,
    E_FACE_TOO_BRIGHT,
    E_FACE_TOO_DARK,
    E_FACE_TOO_SMALL,
    GateProfile,
    estimate_yaw_deg,
)
from edge.vision.settings import VisionSettings


def test_clean_face_passes_every_gate(pipeline: FacePipeline, obama: RgbImage) -> None:
    analysis = pipeline.analyse(obama, GateProfile.LIVE)
    assert analysis.usable, analysis.reasons
    assert analysis.quality is not None
    assert 80 < analysis.quality.luma_mean < 200


def test_dark_face(pipeline: FacePipeline, obama: RgbImage) -> None:
    dark = (obama.astype(np.float32) * 0.15).astype(np.uint8)
    analysis = pipeline.analyse(dark, GateProfile.LIVE)
    assert analysis.has_face
    assert E_FACE_TOO_DARK in analysis.reasons
    assert E_FACE_TOO_BRIGHT not in analysis.reasons


def test_bright_face(pipeline: FacePipeline, obama: RgbImage) -> None:
    bright = (obama.astype(np.float32) * 0.25 + 200).clip(0, 255).astype(np.uint8)
    analysis = pipeline.analyse(bright, GateProfile.LIVE)
    assert analysis.has_face
    assert E_FACE_TOO_BRIGHT in analysis.reasons


def test_blurred_face(pipeline: FacePipeline, obama: RgbImage) -> None:
    blurred = cv2.GaussianBlur(obama, (0, 0), sigmaX=5)
    analysis = pipeline.analyse(blurred, GateProfile.LIVE)
    assert analysis.has_face
    assert E_FACE_BLURRED in analysis.reasons
    assert analysis.quality is not None
    sharp = pipeline.analyse(obama, GateProfile.LIVE).quality
    assert sharp is not None
    assert analysis.quality.sharpness_var < sharp.sharpness_var / 4


def test_small_face_fails_live_gate_but_not_reference_gate(pipeline: FacePipeline, obama: RgbImage) -> None:
    """A chip-photo-sized face (~28 px between the eyes) is fine as a reference, too small as a live capture."""
    small = cv2.resize(obama, (obama.shape[1] * 3 // 7, obama.shape[0] * 3 // 7), interpolation=cv2.INTER_AREA)
    live = pipeline.analyse(small, GateProfile.LIVE)
    reference = pipeline.analyse(small, GateProfile.REFERENCE)
    assert live.face is not None
    assert 20 < live.face.eye_distance_px < 40
    assert E_FACE_TOO_SMALL in live.reasons
    assert reference.usable, reference.reasons


def test_pose_gate_and_yaw_sign(pipeline: FacePipeline, obama2: RgbImage) -> None:
    turned = pipeline.analyse(obama2, GateProfile.LIVE).quality
    mirrored = pipeline.analyse(np.ascontiguousarray(obama2[:, ::-1]), GateProfile.LIVE).quality
    assert turned is not None
    assert mirrored is not None
    assert abs(turned.yaw_deg) > 10
    assert np.sign(turned.yaw_deg) == -np.sign(mirrored.yaw_deg)
    assert abs(abs(turned.yaw_deg) - abs(mirrored.yaw_deg)) < 8
    strict = FacePipeline(VisionSettings(live_max_abs_yaw_deg=abs(turned.yaw_deg) - 3))
    assert E_FACE_POSE in strict.analyse(obama2, GateProfile.LIVE).reasons
    strict.detector.close()


def test_yaw_geometry() -> None:
    def det(nose_x: float) -> Detection:
        kps = np.array([[100, 100], [160, 100], [nose_x, 130], [130, 160], [70, 110], [190, 110]], dtype=np.float64)
        return Detection((60, 60, 140, 140), kps, 0.9)

    assert estimate_yaw_deg(det(130), 0.5) == pytest.approx(0.0)
    # nose 15 px right of the midpoint, eyes 60 px apart: tan(yaw) = 0.25 / 0.5
    assert estimate_yaw_deg(det(145), 0.5) == pytest.approx(np.degrees(np.arctan(0.5)))
    assert estimate_yaw_deg(det(115), 0.5) == pytest.approx(-np.degrees(np.arctan(0.5)))


def test_settings_are_strict_and_documented() -> None:
    with pytest.raises(ValidationError):
        VisionSettings(unknown_knob=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        VisionSettings(min_face_luma=200, max_face_luma=100)
    with pytest.raises(ValidationError):
        VisionSettings(frame_window_s=0)
    settings = VisionSettings()
    with pytest.raises(ValidationError):
        settings.frame_window_s = 2.0  # type: ignore[misc]
    for name, field in VisionSettings.model_fields.items():
        assert field.description, name
