"""Typed camera failures (codes E_CAMERA_…), each with a remedy a technician can act on."""

from __future__ import annotations

from edge.errors import DeviceError


class CameraError(DeviceError):
    code = "E_CAMERA_FAULT"
    remedy = "check the camera cable and power, then run `examgate selftest`"


def folder_missing(path: str) -> CameraError:
    return CameraError(
        f"camera folder {path} does not exist or is not a folder",
        code="E_CAMERA_FOLDER_MISSING",
        remedy="create the folder or fix camera.path in the config",
    )


def folder_empty(path: str) -> CameraError:
    return CameraError(
        f"camera folder {path} holds no images",
        code="E_CAMERA_FOLDER_EMPTY",
        remedy="put JPEG or PNG images in the folder (they are served in name order)",
    )


def image_unreadable(name: str, why: str) -> CameraError:
    return CameraError(
        f"camera image {name} cannot be decoded: {why}",
        code="E_CAMERA_IMAGE_UNREADABLE",
        remedy="replace or remove the file; only JPEG, PNG, BMP, WebP and TIFF images are served",
    )
