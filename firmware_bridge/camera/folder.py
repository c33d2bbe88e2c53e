"""A camera that serves the images of a folder in name order, looping, paced to a frame rate.

It stands in for a real camera in tests and in the demo: the demo points it at one candidate's folder
at a time with :meth:`FolderCamera.set_folder`. Images are decoded with Pillow, turned upright by their
EXIF orientation (as a phone photo would be) and converted to RGB ``uint8``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from edge.devices import Frame, RgbImage
from firmware_bridge.camera.errors import folder_empty, folder_missing, image_unreadable

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def list_images(folder: Path) -> list[Path]:
    """The folder's image files in name order. Raises E_CAMERA_FOLDER_MISSING / E_CAMERA_FOLDER_EMPTY."""
    if not folder.is_dir():
        raise folder_missing(str(folder))
    images = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not images:
        raise folder_empty(str(folder))
    return images


def decode_rgb(path: Path) -> RgbImage:
    """Decode one image file to an upright H x W x 3 RGB uint8 array. Raises E_CAMERA_IMAGE_UNREADABLE."""
    try:
        with Image.open(path) as img:
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise image_unreadable(path.name, str(exc) or type(exc).__name__) from exc


class FolderCamera:
    """Implements ``edge.devices.Camera`` over a folder of images (kind ``folder``)."""

    def __init__(
        self,
        path: Path,
        fps: float = 15.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self._period_s = 1.0 / fps
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._folder = path
        self._images = list_images(path)
        self._index = 0
        self._next_due_s: float | None = None

    @property
    def folder(self) -> Path:
        return self._folder

    def set_folder(self, path: Path) -> None:
        """Switch scene: the next frame is the first image of ``path``. The old folder stays on error."""
        images = list_images(path)
        with self._lock:
            self._folder = path
            self._images = images
            self._index = 0

    def capture(self) -> Frame:
        with self._lock:
            self._wait_for_slot()
            if self._index >= len(self._images):
                self._images = list_images(self._folder)  # pick up files added since the last loop
                self._index = 0
            path = self._images[self._index]
            self._index += 1
            image = decode_rgb(path)
            return Frame(image=image, captured_monotonic_s=self._clock(), source=f"folder:{path.name}")

    def close(self) -> None:
        """Nothing to release; present for the ``Camera`` protocol."""

    def _wait_for_slot(self) -> None:
        now = self._clock()
        due = now if self._next_due_s is None else self._next_due_s
        if due > now:
            self._sleep(due - now)
        # If we fell behind (slow consumer), start counting again from now: never burst to catch up.
        self._next_due_s = max(due, now) + self._period_s
