"""Image decoding: every bad or unusual input kind gets RGB uint8 or a typed ImageError with a code and a remedy."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from vision_helpers import encode, png_header_only

from edge.errors import ImageError
from edge.vision.image import (
    ImageNotAFileError,
    ImageNotFoundError,
    ImageTooLargeError,
    ImageTooSmallError,
    ImageTruncatedError,
    ImageUnreadableError,
    decode_image,
)


def _assert_error(exc: ImageError, code: str) -> None:
    assert exc.code == code
    assert exc.remedy
    assert exc.remedy != ImageError.remedy  # a specific remedy, not the generic one
    assert exc.to_dict()["code"] == code


def test_jpeg_path_and_bytes_decode_to_same_rgb(faces_dir: Path) -> None:
    path = faces_dir / "obama.jpg"
    from_path = decode_image(path)
    from_bytes = decode_image(path.read_bytes())
    assert from_path.dtype == np.uint8
    assert from_path.shape == (412, 364, 3)
    assert np.array_equal(from_path, from_bytes)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError) as info:
        decode_image(tmp_path / "nope.jpg")
    _assert_error(info.value, "E_IMAGE_NOT_FOUND")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageNotAFileError) as info:
        decode_image(tmp_path)
    _assert_error(info.value, "E_IMAGE_NOT_A_FILE")


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, not an image", b"\xff\xd8\xff" + bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n" + b"\x00" * 50],
    ids=["empty", "text", "corrupt-jpeg", "corrupt-png"],
)
def test_corrupt_data_is_unreadable(data: bytes) -> None:
    with pytest.raises(ImageUnreadableError) as info:
        decode_image(data)
    _assert_error(info.value, "E_IMAGE_UNREADABLE")


def test_text_file_with_jpeg_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_text("definitely not a JPEG")
    with pytest.raises(ImageUnreadableError):
        decode_image(path)


def test_truncated_jpeg(faces_dir: Path) -> None:
    data = (faces_dir / "obama.jpg").read_bytes()
    with pytest.raises(ImageTruncatedError) as info:
        decode_image(data[: len(data) // 2])
    _assert_error(info.value, "E_IMAGE_TRUNCATED")


def test_png_alpha_is_composited_on_white() -> None:
    rgba = np.zeros((40, 40, 4), dtype=np.uint8)
    rgba[:, 20:] = (200, 10, 10, 255)  # right half opaque red, left half fully transparent black
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert out.shape == (40, 40, 3)
    assert np.all(out[:, :20] == 255)
    assert np.all(out[:, 20:] == (200, 10, 10))


def test_palette_with_transparency_and_la() -> None:
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.paste(1, (0, 0, 40, 20))
    out = decode_image(encode(pal, "PNG", transparency=0))
    assert np.all(out[:20] == (0, 255, 0))
    assert np.all(out[20:] == 255)
    la = Image.merge("LA", (Image.new("L", (40, 40), 50), Image.new("L", (40, 40), 255)))
    assert np.all(decode_image(encode(la, "PNG")) == 50)


def test_grayscale_and_bilevel_become_three_equal_channels() -> None:
    grey = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    out = decode_image(encode(Image.fromarray(grey, "L"), "PNG"))
    assert out.shape == (64, 64, 3)
    assert np.array_equal(out[..., 0], grey)
    assert np.array_equal(out[..., 0], out[..., 2])
    bilevel = decode_image(encode(Image.new("1", (40, 40), 1), "PNG"))
    assert np.all(bilevel == 255)


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    arr = np.zeros((48, 48), dtype=np.uint16)
    arr[:, 16:32] = 128 * 257
    arr[:, 32:] = 65535
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16")
    out = decode_image(encode(img, "PNG"))
    assert out[0, 0, 0] == 0
    assert out[0, 20, 0] == 128
    assert out[0, 40, 0] == 255


def test_cmyk_jpeg_converts_to_rgb() -> None:
    cmyk = Image.new("CMYK", (48, 48), (0, 255, 255, 0))  # pure red in CMYK
    data = encode(cmyk, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data)
    red, green, blue = (float(c) for c in out.reshape(-1, 3).mean(axis=0))
    assert red > 200
    assert green < 60
    assert blue < 60


def test_one_pixel_image_is_too_small() -> None:
    with pytest.raises(ImageTooSmallError) as info:
        decode_image(encode(Image.new("RGB", (1, 1)), "PNG"))
    _assert_error(info.value, "E_IMAGE_TOO_SMALL")


@pytest.mark.parametrize("side", [8000, 50000], ids=["over-our-limit", "pillow-bomb"])
def test_huge_image_refused_before_decoding(side: int) -> None:
    data = png_header_only(side, side)
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError) as info:
            decode_image(data, max_pixels=40_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _assert_error(info.value, "E_IMAGE_TOO_LARGE")
    assert peak < 5_000_000  # 8000x8000 RGB would be 192 MB: the pixels were never decoded


def test_pixel_limit_is_configurable(faces_dir: Path) -> None:
    with pytest.raises(ImageTooLargeError):
        decode_image(faces_dir / "obama.jpg", max_pixels=364 * 412 - 1)
    assert decode_image(faces_dir / "obama.jpg", max_pixels=364 * 412).shape == (412, 364, 3)


def test_jpeg2000_decodes(faces_dir: Path) -> None:
    original = decode_image(faces_dir / "obama.jpg")
    data = encode(Image.fromarray(original), "JPEG2000", quality_mode="dB", quality_layers=[45])
    assert data[4:8] == b"jP  " or data[:4] == b"\xff\x4f\xff\x51"
    out = decode_image(data)
    assert out.shape == original.shape
    assert float(np.abs(out.astype(int) - original.astype(int)).mean()) < 6.0


def test_exif_orientation_is_applied() -> None:
    arr = np.zeros((40, 60, 3), dtype=np.uint8)  # 60 wide, 40 high: left half red, right half blue
    arr[:, :30] = (255, 0, 0)
    arr[:, 30:] = (0, 0, 255)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = decode_image(encode(img, "JPEG", quality=95, exif=exif.tobytes()))
    assert out.shape == (60, 40, 3)
    top, bottom = out[:25].reshape(-1, 3).mean(axis=0), out[35:].reshape(-1, 3).mean(axis=0)
    assert top[0] > 200 > top[2]  # the left (red) half is now on top
    assert bottom[2] > 200 > bottom[0]
