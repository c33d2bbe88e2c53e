"""A USB/V4L2 camera through OpenCV's ``VideoCapture`` (kind ``opencv``).

``cv2`` is the one that mediapipe already installs (opencv-contrib-python); no separate OpenCV wheel.
The factory imports this module only when ``kind = "opencv"`` is chosen.
An integer ``device`` or a ``/dev/video…`` path opens through the V4L2 backend; any other string (a video
file, an RTSP URL) goes through OpenCV's default backend, which is also what the tests use.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from edge.devices import Frame
from firmware_bridge.camera.errors import CameraError


def _wants_v4l2(device: int | str) -> bool:
    return isinstance(device, int) or device.startswith("/dev/video")


class OpenCvCamera:
    """Implements ``edge.devices.Camera``; frames are converted from OpenCV's BGR to RGB."""

    def __init__(
        self, device: int | str = 0, width: int = 1280, height: int = 720, fourcc: str | None = "MJPG"
    ) -> None:
        self._device = device
        self._lock = threading.Lock()
        if _wants_v4l2(device):
            capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
            if fourcc:
                # Most USB cameras only reach 720p at full rate in MJPG; set before the size.
                capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # capture on demand: don't hand out stale frames
        else:
            capture = cv2.VideoCapture(device)
        if not capture.isOpened():
            capture.release()
            raise CameraError(
                f"camera {device!r} cannot be opened",
                code="E_CAMERA_OPEN_FAILED",
                remedy="check that the camera is plugged in (`v4l2-ctl --list-devices`), that camera.device is "
                "right and that the examgate user is in the video group",
            )
        self._capture: cv2.VideoCapture | None = capture

    def capture(self) -> Frame:
        with self._lock:
            if self._capture is None:
                raise CameraError(f"camera {self._device!r} is closed", code="E_CAMERA_CLOSED")
            ok, bgr = self._capture.read()
            taken_s = time.monotonic()
        if not ok or bgr is None:
            raise CameraError(
                f"camera {self._device!r} returned no frame",
                code="E_CAMERA_READ_FAILED",
                remedy="reseat the camera cable or USB plug; if it persists, the camera or its power supply is failing",
            )
        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        return Frame(image=rgb, captured_monotonic_s=taken_s, source=f"opencv:{self._device}")

    def close(self) -> None:
        with self._lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None
