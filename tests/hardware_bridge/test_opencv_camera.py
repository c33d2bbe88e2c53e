"""OpenCvCamera through a real cv2.VideoCapture: a video file written by OpenCV stands in for the camera."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.device_config import OpenCvCameraConfig
from edge.devices import Camera
from firmware_bridge.camera import CameraError, open_camera
from firmware_bridge.camera.opencv import OpenCvCamera


@pytest.fixture
def red_video(tmp_path: Path) -> Path:
    """Three 64x48 frames of pure red, written in OpenCV's BGR order (red = channel 2)."""
    path = tmp_path / "red.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    assert writer.isOpened()
    bgr = np.zeros((48, 64, 3), np.uint8)
    bgr[:, :, 2] = 255
    for _ in range(3):
        writer.write(bgr)
    writer.release()
    return path


def test_frames_come_out_rgb(red_video: Path) -> None:
    cam = OpenCvCamera(str(red_video))
    assert isinstance(cam, Camera)
    frame = cam.capture()
    assert frame.image.shape == (48, 64, 3)
    assert frame.image.dtype == np.uint8
    mean = frame.image.reshape(-1, 3).mean(axis=0)
    assert mean[0] > 200 > 50 > max(mean[1], mean[2])  # red is channel 0 after BGR→RGB
    assert frame.source == f"opencv:{red_video}"
    cam.close()


def test_no_frame_is_a_typed_error(red_video: Path) -> None:
    cam = OpenCvCamera(str(red_video))
    for _ in range(3):
        cam.capture()
    with pytest.raises(CameraError) as err:
        cam.capture()  # the "camera" has nothing more to give
    assert err.value.code == "E_CAMERA_READ_FAILED"
    cam.close()
    with pytest.raises(CameraError) as closed:
        cam.capture()
    assert closed.value.code == "E_CAMERA_CLOSED"


def test_absent_v4l2_device_is_a_typed_error() -> None:
    with pytest.raises(CameraError) as err:
        OpenCvCamera("/dev/video-examgate-absent")
    assert err.value.code == "E_CAMERA_OPEN_FAILED"
    assert "video group" in err.value.remedy


def test_factory_opens_opencv_camera(red_video: Path) -> None:
    cam = open_camera(OpenCvCameraConfig(device=str(red_video)))
    assert isinstance(cam, OpenCvCamera)
    cam.capture()
    cam.close()
