"""Align a face into the chip its embedder was trained on, with a least-squares similarity transform of keypoints.

``align_face``: dlib-style 150x150 chip from BlazeFace's 4 keypoints (the dlib ResNet, and the quality gates).
``warp_to_template``: any points onto any template (``edge.vision.embedders``: the ArcFace 112x112 layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from edge.devices import RgbImage
from edge.vision.detect import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE, Detection

CHIP_SIZE_PX = 150
# Where the right eye, left eye, nose tip and mouth centre land in the chip (pixels); matches dlib's chips.
CHIP_TARGETS_XY = np.array([[48.3, 48.7], [102.1, 47.6], [76.0, 75.7], [76.3, 103.4]], dtype=np.float64)
_SOURCE_ROWS = (RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH)
# Downscaling by more than this in one bilinear warp aliases; larger faces are first shrunk with INTER_AREA.
_MAX_WARP_SHRINK = 1.5

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AlignedFace:
    chip: RgbImage  # size x size x 3, RGB uint8 (CHIP_SIZE_PX for align_face)
    matrix: Matrix  # 2x3, source pixels -> chip pixels
    rms_error_px: float  # keypoint residual after the fit, in chip pixels


def similarity_transform(src: Matrix, dst: Matrix) -> Matrix:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``src`` points onto ``dst``.

    Umeyama's closed form; returns a 2x3 matrix. Reflections are excluded.
    """
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = float((src_c**2).sum()) / len(src)
    if src_var <= 1e-12:
        raise ValueError("degenerate keypoints: all at one place")
    cov = dst_c.T @ src_c / len(src)
    u, sing, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rot = u @ sign @ vt
    scale = float(np.trace(np.diag(sing) @ sign)) / src_var
    trans = dst_mean - scale * rot @ src_mean
    return np.hstack([scale * rot, trans[:, None]])


def apply_transform(matrix: Matrix, points: Matrix) -> Matrix:
    return points @ matrix[:, :2].T + matrix[:, 2]


def align_face(image: RgbImage, detection: Detection) -> AlignedFace:
    """Warp the detected face into a 150x150 chip (eyes, nose and mouth at ``CHIP_TARGETS_XY``)."""
    return warp_to_template(image, detection.keypoints_xy[list(_SOURCE_ROWS)], CHIP_TARGETS_XY, CHIP_SIZE_PX)


def warp_to_template(image: RgbImage, src: Matrix, targets: Matrix, size_px: int) -> AlignedFace:
    """Warp ``image`` so that the points ``src`` land on ``targets`` in a ``size_px`` square chip."""
    matrix = similarity_transform(src, targets)
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    residual = apply_transform(matrix, src) - targets
    rms = float(np.sqrt((residual**2).sum(axis=1).mean()))

    source = image
    warp = matrix
    if scale < 1.0 / _MAX_WARP_SHRINK:
        # Crop the region the chip samples (plus a margin), shrink it with area averaging, then warp the rest.
        inverse = np.asarray(cv2.invertAffineTransform(matrix), dtype=np.float64)
        corners = apply_transform(
            inverse, np.array([[0, 0], [size_px, 0], [0, size_px], [size_px, size_px]], dtype=np.float64)
        )
        height, width = image.shape[:2]
        x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 2
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, width), min(y1, height)
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            shrink = scale * _MAX_WARP_SHRINK
            crop = image[y0:y1, x0:x1]
            new_w = max(2, round(crop.shape[1] * shrink))
            new_h = max(2, round(crop.shape[0] * shrink))
            source = np.asarray(cv2.resize(crop, (new_w, new_h), interpolation=cv2.INTER_AREA), dtype=np.uint8)
            sx, sy = crop.shape[1] / new_w, crop.shape[0] / new_h
            # chip = M * (x0 + sx * u, y0 + sy * v)
            warp = np.hstack(
                [matrix[:, :2] @ np.diag([sx, sy]), (matrix[:, :2] @ np.array([x0, y0]) + matrix[:, 2])[:, None]]
            )
    chip = cv2.warpAffine(
        np.ascontiguousarray(source),
        warp,
        (size_px, size_px),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return AlignedFace(chip=np.asarray(chip, dtype=np.uint8), matrix=matrix, rms_error_px=rms)
