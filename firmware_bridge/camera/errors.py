"""Typed camera failures (codes E_CAMERA_…), each with a remedy a technician can act on."""

from __future__ import annotations

from edge.errors import DeviceError, error_factory


class CameraError(DeviceError):
    code = "E_CAMERA_FAULT"
    remedy = "check the camera cable and power, then run `examgate selftest`"


folder_missing = error_factory(
    CameraError,
    code="E_CAMERA_FOLDER_MISSING",
    remedy="create the folder or fix camera.path in the config",
    message="camera folder {} does not exist or is not a folder",
)
folder_empty = error_factory(
    CameraError,
    code="E_CAMERA_FOLDER_EMPTY",
    remedy="put JPEG or PNG images in the folder (they are served in name order)",
    message="camera folder {} holds no images",
)
image_unreadable = error_factory(
    CameraError,
    code="E_CAMERA_IMAGE_UNREADABLE",
    remedy="replace or remove the file; only JPEG, PNG, BMP, WebP and TIFF images are served",
    message="camera image {} cannot be decoded: {}",
)
