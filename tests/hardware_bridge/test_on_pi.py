"""On the gate's Raspberry Pi only (`pytest -m hardware`): the real camera and the real turnstile wiring.

Skipped elsewhere. The relay test physically opens the turnstile, so it also needs EXAMGATE_HW_RELAY=1.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from edge.device_config import GpioTurnstileConfig, Picamera2CameraConfig
from firmware_bridge.camera import open_camera
from firmware_bridge.turnstile.gpio import GpioTurnstile


def _on_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.is_file() and "Raspberry Pi" in model.read_text(errors="replace")


pytestmark = [pytest.mark.hardware, pytest.mark.skipif(not _on_pi(), reason="needs a Raspberry Pi")]


def test_pi_camera_gives_a_real_frame() -> None:
    cam = open_camera(Picamera2CameraConfig(width=1280, height=720))
    try:
        for _ in range(5):  # let auto-exposure settle
            frame = cam.capture()
    finally:
        cam.close()
    assert frame.image.shape == (720, 1280, 3)
    assert frame.image.dtype == np.uint8
    assert float(frame.image.std()) > 2.0  # not a blank (covered or dead) sensor


def test_turnstile_inputs_read_and_nothing_pulses_on_open_and_close() -> None:
    gate = GpioTurnstile(GpioTurnstileConfig())
    try:
        status = gate.status()
        assert status.fault is None
        assert status.fire_release is False, "fire loop reads open: check the NC fire contact wiring"
        assert gate.relay_engaged("entry") is False
    finally:
        gate.close()


@pytest.mark.skipif(os.environ.get("EXAMGATE_HW_RELAY") != "1", reason="opens the turnstile: set EXAMGATE_HW_RELAY=1")
def test_relay_pulses_once_and_returns_to_rest() -> None:
    cfg = GpioTurnstileConfig()
    gate = GpioTurnstile(cfg)
    try:
        gate.release("entry")
        time.sleep(cfg.pulse_ms / 2000)
        assert gate.relay_engaged("entry") is True
        time.sleep(cfg.pulse_ms / 1000 + 0.2)
        assert gate.relay_engaged("entry") is False
    finally:
        gate.close()
