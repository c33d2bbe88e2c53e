"""Picamera2Camera: typed error without picamera2, and the driver's use of the library's documented API.

picamera2 only exists on Raspberry Pi OS; on the Pi itself the camera is exercised by `pytest -m hardware`.
Here a stand-in module with the same calls (configure/start/capture_array/stop/close) checks the channel
flip and the lifecycle.
"""

from __future__ import annotations

import sys
import types
from typing import Any, ClassVar

import numpy as np
import pytest

from edge.device_config import Picamera2CameraConfig
from firmware_bridge.camera import CameraError, open_camera
from firmware_bridge.camera.picamera2 import Picamera2Camera


def test_missing_picamera2_says_install_the_pi_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails like on a machine without it
    with pytest.raises(CameraError) as err:
        open_camera(Picamera2CameraConfig())
    assert err.value.code == "E_CAMERA_DRIVER_MISSING"
    assert "install the pi extra" in err.value.remedy


class _StandIn:
    """Behaves like picamera2.Picamera2 for the calls the driver makes; RGB888 arrays are [B, G, R]."""

    instances: ClassVar[list[_StandIn]] = []

    def __init__(self, camera_num: int = 0) -> None:
        self.calls: list[str] = []
        self.size = (0, 0)
        self.fail_start = camera_num == 9
        _StandIn.instances.append(self)

    def create_video_configuration(self, main: dict[str, Any], buffer_count: int) -> dict[str, Any]:
        assert main["format"] == "RGB888"
        self.size = main["size"]
        return {"main": main, "buffer_count": buffer_count}

    def configure(self, config: dict[str, Any]) -> None:
        self.calls.append("configure")

    def start(self) -> None:
        if self.fail_start:
            raise RuntimeError("Camera __init__ sequence did not complete.")
        self.calls.append("start")

    def capture_array(self, name: str) -> np.ndarray:
        w, h = self.size
        bgr = np.zeros((h, w, 3), np.uint8)
        bgr[..., 0] = 200  # blue
        bgr[..., 2] = 10  # red
        return bgr

    def stop(self) -> None:
        self.calls.append("stop")

    def close(self) -> None:
        self.calls.append("close")


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> type[_StandIn]:
    module = types.ModuleType("picamera2")
    module.Picamera2 = _StandIn  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    _StandIn.instances.clear()
    return _StandIn


def test_frames_are_flipped_to_rgb_and_lifecycle_is_clean(stand_in: type[_StandIn]) -> None:
    cam = Picamera2Camera(width=64, height=48)
    frame = cam.capture()
    assert frame.image.shape == (48, 64, 3)
    assert tuple(frame.image[0, 0]) == (10, 0, 200)
    assert frame.image.flags["C_CONTIGUOUS"]
    cam.close()
    cam.close()
    assert stand_in.instances[0].calls == ["configure", "start", "stop", "close"]
    with pytest.raises(CameraError) as err:
        cam.capture()
    assert err.value.code == "E_CAMERA_CLOSED"


def test_start_failure_is_typed(stand_in: type[_StandIn]) -> None:
    with pytest.raises(CameraError) as err:
        Picamera2Camera(camera_num=9)
    assert err.value.code == "E_CAMERA_OPEN_FAILED"
