"""FolderCamera: name order, looping, EXIF transpose, RGB, pacing and typed errors, on real image files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge.device_config import FolderCameraConfig
from edge.devices import Camera
from firmware_bridge.camera import CameraError, open_camera
from firmware_bridge.camera.folder import FolderCamera


def _solid(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> Path:
    Image.new("RGB", size, rgb).save(path)
    return path


class FakeClock:
    """A clock the test advances; ``sleep`` records the waits the camera asked for."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    folder = tmp_path / "cand-1"
    folder.mkdir()
    _solid(folder / "b.png", (0, 255, 0))
    _solid(folder / "a.jpg", (255, 0, 0))
    _solid(folder / "c.bmp", (0, 0, 255))
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"")
    return folder


def _dominant(image: np.ndarray) -> int:
    return int(np.argmax(image.reshape(-1, 3).mean(axis=0)))


def test_serves_images_in_name_order_as_rgb_and_loops(scene: Path) -> None:
    cam = FolderCamera(scene, fps=120)
    assert isinstance(cam, Camera)
    frames = [cam.capture() for _ in range(4)]
    assert [f.source for f in frames] == ["folder:a.jpg", "folder:b.png", "folder:c.bmp", "folder:a.jpg"]
    assert [_dominant(f.image) for f in frames] == [0, 1, 2, 0]  # red, green, blue in RGB channel order
    for f in frames:
        assert f.image.dtype == np.uint8
        assert f.image.shape == (24, 32, 3)
    assert frames[0].captured_monotonic_s < frames[-1].captured_monotonic_s


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    img.paste((255, 0, 0), (0, 0, 10, 20))  # red strip on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    frame = FolderCamera(tmp_path, fps=120).capture()
    assert frame.image.shape == (40, 20, 3)  # upright: portrait
    top, bottom = frame.image[:5].mean(axis=(0, 1)), frame.image[-5:].mean(axis=(0, 1))
    assert top[1] < 100 < bottom[1]  # the red strip is now at the top (green channel low there)


def test_paces_to_fps_without_bursting_to_catch_up(scene: Path) -> None:
    clock = FakeClock()
    cam = FolderCamera(scene, fps=10, clock=clock, sleep=clock.sleep)
    cam.capture()
    cam.capture()
    assert clock.sleeps == [pytest.approx(0.1)]
    clock.now_s += 0.5  # consumer was slow: the next frame is due at once, and the one after 0.1 s later
    cam.capture()
    assert len(clock.sleeps) == 1
    cam.capture()
    assert clock.sleeps[-1] == pytest.approx(0.1)


def test_set_folder_switches_scene_and_restarts_at_first_image(scene: Path, tmp_path: Path) -> None:
    other = tmp_path / "cand-2"
    other.mkdir()
    _solid(other / "z.png", (10, 20, 30))
    cam = FolderCamera(scene, fps=120)
    cam.capture()
    cam.set_folder(other)
    frame = cam.capture()
    assert frame.source == "folder:z.png"
    assert tuple(frame.image[0, 0]) == (10, 20, 30)
    cam.set_folder(scene)
    assert cam.capture().source == "folder:a.jpg"


def test_missing_and_empty_folder_are_typed(tmp_path: Path) -> None:
    with pytest.raises(CameraError) as missing:
        FolderCamera(tmp_path / "nope")
    assert missing.value.code == "E_CAMERA_FOLDER_MISSING"
    assert missing.value.remedy
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError) as empty:
        FolderCamera(tmp_path / "empty")
    assert empty.value.code == "E_CAMERA_FOLDER_EMPTY"


def test_set_folder_to_bad_path_keeps_old_scene(scene: Path, tmp_path: Path) -> None:
    cam = FolderCamera(scene, fps=120)
    with pytest.raises(CameraError):
        cam.set_folder(tmp_path / "missing")
    assert cam.folder == scene
    assert cam.capture().source == "folder:a.jpg"


def test_unreadable_image_is_typed(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    cam = FolderCamera(tmp_path, fps=120)
    with pytest.raises(CameraError) as err:
        cam.capture()
    assert err.value.code == "E_CAMERA_IMAGE_UNREADABLE"
    assert "a.jpg" in err.value.message


def test_factory_opens_folder_camera(scene: Path) -> None:
    cam = open_camera(FolderCameraConfig(path=scene, fps=30))
    assert isinstance(cam, FolderCamera)
    assert cam.capture().source == "folder:a.jpg"
    cam.close()
