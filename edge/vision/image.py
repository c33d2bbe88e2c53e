"""Decode image bytes or files into RGB uint8 arrays, refusing bad input with typed errors.

Handles JPEG (incl. CMYK and EXIF orientation), PNG (alpha, grey, 16-bit, palette), JPEG 2000 (chip photos)
and anything else Pillow reads. The pixel count is checked from the header, before any pixel is decoded, against
the configured limit (Pillow's own decompression-bomb limit and warning are replaced by it). Images with a side longer
than ``max_side_px`` are decoded at reduced size (JPEG: DCT scaling in the decoder, others: integer box reduction), so a
6000 x 6000 photo costs what a 2000 x 2000 one does.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from edge.devices import RgbImage
from edge.errors import ImageError

# Transparent pixels are composited on white: ID and roster photos have a white/light background.
_BACKGROUND_RGB = (255, 255, 255)
# Modes Image.reduce handles directly, so big images shrink before any copy is made; others shrink after conversion.
_REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "YCbCr"})


class ImageNotFoundError(ImageError):
    code = "E_IMAGE_NOT_FOUND"
    remedy = "check the path: the image file does not exist"


class ImageNotAFileError(ImageError):
    code = "E_IMAGE_NOT_A_FILE"
    remedy = "pass the path of an image file, not a directory or device"


class ImageUnreadableError(ImageError):
    code = "E_IMAGE_UNREADABLE"
    remedy = "the data is not an image Pillow can decode (corrupt or unsupported); use JPEG, PNG or JPEG 2000"


class ImageTruncatedError(ImageError):
    code = "E_IMAGE_TRUNCATED"
    remedy = "the image data ends early (partial download or chip read); read or copy it again"


class ImageTooLargeError(ImageError):
    code = "E_IMAGE_TOO_LARGE"
    remedy = "downscale the image (or raise vision.max_image_pixels if the device has the memory)"


class ImageTooSmallError(ImageError):
    code = "E_IMAGE_TOO_SMALL"
    remedy = "the image is too small to hold a face; use a larger photo"


def _open_source(source: bytes | str | Path) -> tuple[io.BytesIO | Path, str]:
    """Return something Pillow can open plus a name for messages; check paths exist and are files."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), "<bytes>"
    path = Path(source)
    if not path.exists():
        raise ImageNotFoundError(f"image not found: {path}")
    if not path.is_file():
        raise ImageNotAFileError(f"not a regular file: {path}")
    return path, path.name


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, scaling 16/32-bit grey and compositing alpha on white."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") or (mode == "I" and arr.max(initial=0) > 255) else 255.0
        if mode == "F":
            top = max(float(arr.max(initial=1.0)), 1e-9)
        grey = np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, _BACKGROUND_RGB)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if mode == "RGB":
        return img
    # CMYK, YCbCr, LAB, L, 1, P without transparency: Pillow's own conversions are right for these.
    return img.convert("RGB")


def _reduce(img: Image.Image, max_side_px: int) -> Image.Image:
    """Shrink by the smallest integer factor that brings the longer side to ``max_side_px`` or below."""
    factor = math.ceil(max(img.size) / max_side_px)
    return img.reduce(factor) if factor > 1 else img


def decode_image(
    source: bytes | str | Path, *, max_pixels: int = 40_000_000, min_side_px: int = 32, max_side_px: int | None = 2048
) -> RgbImage:
    """Decode ``source`` (encoded bytes or a file path) into an H x W x 3 RGB uint8 array.

    An image whose longer side exceeds ``max_side_px`` comes back reduced so that it fits (``None``: full size).

    Raises an ``ImageError`` subclass (codes E_IMAGE_NOT_FOUND, E_IMAGE_NOT_A_FILE, E_IMAGE_UNREADABLE,
    E_IMAGE_TRUNCATED, E_IMAGE_TOO_LARGE, E_IMAGE_TOO_SMALL).
    """
    fp, name = _open_source(source)
    with warnings.catch_warnings():
        # Our own limit is checked below; Pillow's fixed one must neither warn nor speak for it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return _decode(fp, name, max_pixels, min_side_px, max_side_px)


def _decode(fp: io.BytesIO | Path, name: str, max_pixels: int, min_side_px: int, max_side_px: int | None) -> RgbImage:
    too_large = f"exceeds the limit of {max_pixels} pixels (vision.max_image_pixels)"
    try:
        img = Image.open(fp)  # lazy: reads the header only
    except PermissionError as exc:
        raise ImageUnreadableError(f"{name}: permission denied", remedy="make the file readable") from exc
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name}: {too_large}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if "truncated" in str(exc).lower():
            raise ImageTruncatedError(f"{name}: image data is truncated") from exc
        raise ImageUnreadableError(f"{name}: not a decodable image ({type(exc).__name__})") from exc
    with img:
        width, height = img.size
        if width * height > max_pixels:
            raise ImageTooLargeError(f"{name}: {width}x{height} px {too_large}")
        if min(width, height) < min_side_px:
            raise ImageTooSmallError(f"{name}: {width}x{height} px, shorter side below {min_side_px} px")
        try:
            if max_side_px is not None and max(width, height) > max_side_px and img.format == "JPEG":
                scale = max_side_px / max(width, height)
                img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))  # DCT scaling: 1/2..1/8
            img.load()
            loaded = _reduce(img, max_side_px) if max_side_px is not None and img.mode in _REDUCIBLE else img
            rgb = _to_rgb(ImageOps.exif_transpose(loaded))
            if max_side_px is not None:
                rgb = _reduce(rgb, max_side_px)
            out = np.array(rgb, dtype=np.uint8)
        except OSError as exc:
            if "truncated" in str(exc).lower():
                raise ImageTruncatedError(f"{name}: image data is truncated") from exc
            raise ImageUnreadableError(f"{name}: cannot decode pixels ({exc})") from exc
        except (SyntaxError, ValueError, TypeError, IndexError, Image.DecompressionBombError) as exc:
            raise ImageUnreadableError(f"{name}: cannot decode pixels ({type(exc).__name__}: {exc})") from exc
    if out.ndim != 3 or out.shape[2] != 3:
        raise ImageUnreadableError(f"{name}: decoded to an unexpected shape {out.shape}")
    return out
