"""Cameras: a folder of images (tests, demo), OpenCV/V4L2 (USB cameras) and Picamera2 (the Pi camera module)."""

from __future__ import annotations

from edge.device_config import CameraConfig, FolderCameraConfig, OpenCvCameraConfig, Picamera2CameraConfig
from edge.devices import Camera
from firmware_bridge.camera.errors import CameraError

__all__ = ["CameraError", "open_camera"]


def open_camera(cfg: CameraConfig) -> Camera:
    """Open the camera the config names. Raises ``CameraError`` (E_CAMERA_…) when it cannot."""
    if isinstance(cfg, FolderCameraConfig):
        from firmware_bridge.camera.folder import FolderCamera  # noqa: PLC0415 (load a backend only when chosen)

        return FolderCamera(cfg.path, cfg.fps)
    if isinstance(cfg, OpenCvCameraConfig):
        from firmware_bridge.camera.opencv import OpenCvCamera  # noqa: PLC0415 (load a backend only when chosen)

        return OpenCvCamera(cfg.device, cfg.width, cfg.height, cfg.fourcc)
    if isinstance(cfg, Picamera2CameraConfig):
        from firmware_bridge.camera.picamera2 import Picamera2Camera  # noqa: PLC0415 (load a backend only when chosen)

        return Picamera2Camera(cfg.width, cfg.height, cfg.camera_num)
    raise TypeError(f"unknown camera config {type(cfg).__name__}")
