"""Where the chip's access key comes from.

A CCCD answers PACE with its CAN, the last 6 digits of the 12-digit ID, which the card also prints in its QR code.
The gate reads that QR before the chip (the flow VNPT IDCheck uses: QR → NFC → face): from a QR scanner that hands the
text over with the tap, or from the lane camera, which decodes the QR the candidate shows it (OpenCV's QR detector,
shipped inside mediapipe's OpenCV).
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import cv2
import numpy as np

from edge.devices import AccessKey, Camera, CardTap, RgbImage
from edge.errors import ExamGateError
from edge.identity.qr import parse_qr

log = logging.getLogger("examgate.keys")


class AccessKeySource(Protocol):
    def key_for(self, tap: CardTap) -> AccessKey | None:
        """The key for this card, or None when none can be had (the reader then reports access denied)."""


def decode_qr(image: RgbImage, detector: cv2.QRCodeDetector | None = None) -> str | None:
    """The text of the QR code in an RGB image, if one decodes."""
    found = detector or cv2.QRCodeDetector()
    try:
        text, _points, _ = found.detectAndDecode(np.ascontiguousarray(image[:, :, ::-1]))
    except cv2.error:
        return None
    return text or None


class TapQrKeySource:
    """The QR text arrived with the tap (a QR scanner wired to the reader, or a simulator)."""

    def key_for(self, tap: CardTap) -> AccessKey | None:
        if not tap.qr_text:
            return None
        return AccessKey(can=parse_qr(tap.qr_text).can)


class CameraQrKeySource:
    """Decodes the card's QR from the lane camera; the tap's own QR text, when present, wins."""

    def __init__(self, camera: Camera, timeout_s: float = 3.0) -> None:
        self.camera = camera
        self.timeout_s = timeout_s
        self._detector = cv2.QRCodeDetector()

    def key_for(self, tap: CardTap) -> AccessKey | None:
        if tap.qr_text:
            return TapQrKeySource().key_for(tap)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            text = decode_qr(self.camera.capture().image, self._detector)
            if text is None:
                continue
            try:
                return AccessKey(can=parse_qr(text).can)
            except ExamGateError as err:  # a QR that is not a CCCD's: keep looking until the deadline
                log.info("QR seen but not a CCCD QR code=%s", err.code)
        log.info("no CCCD QR seen within %.1f s", self.timeout_s)
        return None


def qr_image(text: str, module_px: int = 8, border_px: int = 40) -> RgbImage:
    """An RGB image of ``text`` as a QR code (for the simulators and tests)."""
    encoder = cv2.QRCodeEncoder.create()
    modules = encoder.encode(text)
    big = cv2.resize(modules, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    big = cv2.copyMakeBorder(big, border_px, border_px, border_px, border_px, cv2.BORDER_CONSTANT, value=255)
    return np.ascontiguousarray(np.stack([big] * 3, axis=-1), dtype=np.uint8)
