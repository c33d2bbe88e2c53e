"""A Raspberry Pi camera module through Picamera2/libcamera (kind ``picamera2``).

``picamera2`` is imported in the constructor: it exists only on Raspberry Pi OS (it needs the system's
libcamera bindings), so importing this module anywhere else is harmless.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from edge.devices import Frame
from firmware_bridge.camera.errors import CameraError

# Picamera2's "RGB888" stream is laid out [B, G, R] per pixel in the numpy array (libcamera names formats
# by their little-endian word order); the same layout OpenCV uses. We flip it to RGB.
_STREAM_FORMAT = "RGB888"


class Picamera2Camera:
    """Implements ``edge.devices.Camera`` on the Pi's CSI camera."""

    def __init__(self, width: int = 1280, height: int = 720, camera_num: int = 0) -> None:
        try:
            from picamera2 import Picamera2  # noqa: PLC0415 (exists only on Raspberry Pi OS)
        except ImportError as exc:
            raise CameraError(
                f"picamera2 is not installed ({exc})",
                code="E_CAMERA_DRIVER_MISSING",
                remedy="install the pi extra: `sudo apt install python3-picamera2`, create the venv with "
                "--system-site-packages and `pip install 'examgate[pi]'`; or set camera.kind = \"opencv\"",
            ) from exc
        self._lock = threading.Lock()
        try:
            cam: Any = Picamera2(camera_num)
            config = cam.create_video_configuration(
                main={"size": (width, height), "format": _STREAM_FORMAT}, buffer_count=2
            )
            cam.configure(config)
            cam.start()
        except (RuntimeError, OSError, IndexError) as exc:
            raise CameraError(
                f"Pi camera {camera_num} cannot be started: {exc}",
                code="E_CAMERA_OPEN_FAILED",
                remedy="check the ribbon cable (contacts facing the right way), that `rpicam-hello --list-cameras` "
                "lists it and that no other program holds the camera",
            ) from exc
        self._cam: Any | None = cam
        self._camera_num = camera_num

    def capture(self) -> Frame:
        with self._lock:
            if self._cam is None:
                raise CameraError(f"Pi camera {self._camera_num} is closed", code="E_CAMERA_CLOSED")
            try:
                bgr = self._cam.capture_array("main")
            except (RuntimeError, OSError, TimeoutError) as exc:
                raise CameraError(
                    f"Pi camera {self._camera_num} returned no frame: {exc}",
                    code="E_CAMERA_READ_FAILED",
                    remedy="reseat the ribbon cable; if it persists, replace the camera or its cable",
                ) from exc
            taken_s = time.monotonic()
        rgb = np.ascontiguousarray(np.asarray(bgr, dtype=np.uint8)[:, :, 2::-1])
        return Frame(image=rgb, captured_monotonic_s=taken_s, source=f"picamera2:{self._camera_num}")

    def close(self) -> None:
        with self._lock:
            if self._cam is not None:
                try:
                    self._cam.stop()
                finally:
                    self._cam.close()
                    self._cam = None
