"""The context crop MiniFASNet was trained on, reproduced exactly (NumPy + OpenCV only, no other edge imports).

Rule of the original project: the window is ``scale`` times the face box, centred on it; the scale is first capped to
``min((H-1)/h, (W-1)/w, scale)`` so the window fits; a window crossing an edge is shifted (never padded) back inside;
a face box more than a quarter outside the image is refused (E_PAD_CROP_OUTSIDE); integer corners (truncation),
inclusive slice, ``cv2.resize`` bilinear to 80x80. The network reads BGR 0..255 floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from edge.errors import ExamGateError

CROP_SIZE_PX = 80
MIN_FACE_SIDE_PX = 32  # below this the 80x80 crop is mostly upsampling blur: no texture left to judge
MAX_OUTSIDE_FRACTION = 0.25  # share of the face box that may lie outside the image


class PadFaceTooSmallError(ExamGateError):
    code = "E_PAD_FACE_TOO_SMALL"
    remedy = "the face is too small for presentation-attack checks: step closer to the camera or use a larger photo"


class PadCropOutsideError(ExamGateError):
    code = "E_PAD_CROP_OUTSIDE"
    remedy = "the face is cut by the image border or fills the frame: centre the face with space around it"


@dataclass(frozen=True)
class ContextCrop:
    pixels_bgr: npt.NDArray[np.float32]  # 80 x 80 x 3, BGR, 0..255
    window_xyxy: tuple[int, int, int, int]  # inclusive corners in the source image
    scale_used: float


def window(
    src_w: int, src_h: int, box_xywh: tuple[float, float, float, float], scale: float
) -> tuple[tuple[int, int, int, int], float]:
    """Inclusive window corners and the capped scale, as the original ``_get_new_box``."""
    x, y, box_w, box_h = box_xywh
    scale = min((src_h - 1) / box_h, (src_w - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = box_w / 2 + x, box_h / 2 + y
    x0, y0, x1, y1 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x0 < 0:
        x1 -= x0
        x0 = 0
    if y0 < 0:
        y1 -= y0
        y0 = 0
    if x1 > src_w - 1:
        x0 -= x1 - src_w + 1
        x1 = src_w - 1
    if y1 > src_h - 1:
        y0 -= y1 - src_h + 1
        y1 = src_h - 1
    return (int(x0), int(y0), int(x1), int(y1)), scale


def check_box(src_w: int, src_h: int, box_xywh: tuple[float, float, float, float]) -> None:
    """Typed errors for a box the crop cannot serve: too small, or too much of it outside the image."""
    x, y, w, h = box_xywh
    if min(w, h) < MIN_FACE_SIDE_PX:
        raise PadFaceTooSmallError(f"face box {w:.0f}x{h:.0f} px is below {MIN_FACE_SIDE_PX} px")
    inside_w = max(0.0, min(x + w, src_w) - max(x, 0.0))
    inside_h = max(0.0, min(y + h, src_h) - max(y, 0.0))
    outside = 1.0 - (inside_w * inside_h) / (w * h)
    if outside > MAX_OUTSIDE_FRACTION:
        raise PadCropOutsideError(f"{outside:.0%} of the face box lies outside the {src_w}x{src_h} image")


def context_crop(rgb: npt.NDArray[np.uint8], box_xywh: tuple[float, float, float, float], scale: float) -> ContextCrop:
    """The 80x80 BGR float crop at ``scale`` for the face ``box_xywh`` (pixels of ``rgb``)."""
    src_h, src_w = rgb.shape[:2]
    check_box(src_w, src_h, box_xywh)
    (x0, y0, x1, y1), used = window(src_w, src_h, box_xywh, scale)
    x0, y0 = max(x0, 0), max(y0, 0)
    patch = np.ascontiguousarray(rgb[y0 : y1 + 1, x0 : x1 + 1, ::-1])  # RGB -> BGR, as the original's cv2 frames
    resized = cv2.resize(patch, (CROP_SIZE_PX, CROP_SIZE_PX))
    return ContextCrop(resized.astype(np.float32), (x0, y0, x1, y1), used)
