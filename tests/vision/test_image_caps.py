"""Decoding caps (issue 14, fault 7): big images decode at reduced size; the pixel limit speaks for itself."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image
from vision_helpers import encode, png_header_only

from edge.vision.image import ImageTooLargeError, decode_image


def encoded(width: int, height: int, fmt: str) -> bytes:
    rng = np.random.default_rng(7)
    small = rng.integers(0, 255, size=(height // 100, width // 100, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.NEAREST)
    return encode(image, fmt)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_large_image_comes_back_reduced(fmt: str) -> None:
    data = encoded(6000, 4000, fmt)
    out = decode_image(data, max_side_px=2048)
    assert max(out.shape[:2]) <= 2048
    assert out.shape[2] == 3
    # the aspect ratio survives the reduction
    assert abs(out.shape[1] / out.shape[0] - 1.5) < 0.01


def test_full_size_when_asked() -> None:
    out = decode_image(encoded(2600, 1300, "PNG"), max_side_px=None)
    assert out.shape == (1300, 2600, 3)


def test_small_images_are_untouched() -> None:
    out = decode_image(encoded(800, 600, "JPEG"))
    assert out.shape == (600, 800, 3)


def test_pixel_limit_message_quotes_the_configured_limit() -> None:
    with pytest.raises(ImageTooLargeError, match="limit of 1000000 pixels"):
        decode_image(encoded(2000, 1000, "PNG"), max_pixels=1_000_000)


def test_no_decompression_bomb_warning_leaks() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageTooLargeError, match="limit of 50000000 pixels"):
            decode_image(png_header_only(10_000, 10_000), max_pixels=50_000_000)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_beyond_pillows_own_limit_still_quotes_ours() -> None:
    with pytest.raises(ImageTooLargeError, match="limit of 500000000 pixels"):
        decode_image(png_header_only(20_000, 20_000), max_pixels=500_000_000)
