"""On the gate's Raspberry Pi only (`pytest -m hardware`): the installed MediaPipe loads on this CPU, and the
self-test passes against the real devices of the gate's config (EXAMGATE_CONFIG, default /etc/examgate/examgate.toml).

Stop the service first (it holds the camera, the serial port and the pins) and run as the service user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def _on_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.is_file() and "Raspberry Pi" in model.read_text(errors="replace")


pytestmark = [pytest.mark.hardware, pytest.mark.skipif(not _on_pi(), reason="needs a Raspberry Pi")]

CONFIG = Path(os.environ.get("EXAMGATE_CONFIG", "/etc/examgate/examgate.toml"))


def test_mediapipe_face_detector_loads_on_this_cpu() -> None:
    """MediaPipe >= 1.0 aarch64 wheels need ARMv8.1 atomics and abort on a Pi 4 (docs/operations.md section 5)."""
    probe = subprocess.run(
        [sys.executable, "-c", "from edge.vision.pipeline import FacePipeline; FacePipeline(); print('ok')"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0 and probe.stdout.strip().endswith("ok"), (
        f"the face detector does not load here (exit {probe.returncode}); on a Pi 4 install mediapipe==0.10.18: "
        f"{probe.stderr[-500:]}"
    )


def test_selftest_passes_on_the_real_gate(examgate: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    if not CONFIG.is_file():
        pytest.skip(f"no gate config at {CONFIG} (set EXAMGATE_CONFIG)")
    done = examgate("selftest", "--json", "--config", str(CONFIG))
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    failed = {name: row for name, row in rows.items() if row["status"] == "fail"}
    assert done.returncode == 0 and not failed, failed
    assert rows["temperature"]["status"] == "pass"  # a Pi has the thermal sensor
