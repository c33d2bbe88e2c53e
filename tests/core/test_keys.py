"""The chip's access key from the card's QR code: handed over with the tap, or read by the lane camera."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from edge.devices import CardTap
from edge.keys import CameraQrKeySource, TapQrKeySource, decode_qr, qr_image
from firmware_bridge.camera.folder import FolderCamera

QR = "001099012345|123456789|Nguyễn Văn An|01011999|Nam|Phường 1, Quận 3, TP HCM|15072021"


def test_qr_image_round_trips_vietnamese_text() -> None:
    assert decode_qr(qr_image(QR)) == QR


def test_tap_qr_gives_the_can() -> None:
    key = TapQrKeySource().key_for(CardTap(uid=b"\x08\x01\x02\x03", qr_text="\ufeff" + QR))
    assert key is not None
    assert key.can == "012345"
    assert TapQrKeySource().key_for(CardTap(uid=b"\x08\x01\x02\x03")) is None


def test_camera_reads_the_qr_the_candidate_shows(tmp_path: Path) -> None:
    Image.fromarray(qr_image("https://example.org/not-a-cccd")).save(tmp_path / "00-other.png")
    Image.fromarray(qr_image(QR)).save(tmp_path / "01-card.png")
    source = CameraQrKeySource(FolderCamera(tmp_path, fps=1000), timeout_s=5.0)
    key = source.key_for(CardTap(uid=b"\x08\x00\x00\x01"))
    assert key is not None
    assert key.can == "012345"


def test_camera_without_qr_gives_up_at_the_deadline(tmp_path: Path) -> None:
    Image.new("RGB", (64, 64), (128, 128, 128)).save(tmp_path / "blank.png")
    source = CameraQrKeySource(FolderCamera(tmp_path, fps=1000), timeout_s=0.2)
    assert source.key_for(CardTap(uid=b"\x08\x00\x00\x01")) is None
