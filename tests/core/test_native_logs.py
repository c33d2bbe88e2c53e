"""MediaPipe/LiteRT/absl log lines are silenced in face commands unless --verbose (issue 14 fault 9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.logs import is_native_noise
from edge.vision.models import population_thresholds_path
from edge.vision.settings import VisionSettings

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"
NATIVE = [
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    b"INFO: [environment.cc:36] Creating LiteRT environment with options",
    b"WARNING: Logging before InitGoogle() is written to STDERR",
    b"W0000 00:00:1796298011.854101   23392 inference_runner_litert.cc:1433] Input tensor memory is not aligned",
    b"I0000 00:00:1733212345.123456   4242 gl_context.cc:357] GL version: 3.2",
]
KEPT = [
    b"error: E_IMAGE_NOT_FOUND: image not found: x.jpg",
    b"remedy: check the path: the image file does not exist",
    b"E0000 00:00:1796298011.854101   23392 model.cc:12] could not load the model",
    b"ERROR: failed to allocate tensors",
    b"ts=2026-12-03T11:00:00 level=INFO logger=examgate.lane candidate done",
    b"Traceback (most recent call last):",
]


@pytest.mark.parametrize("line", NATIVE)
def test_native_info_and_warning_lines_are_noise(line: bytes) -> None:
    assert is_native_noise(line)


@pytest.mark.parametrize("line", KEPT)
def test_errors_and_our_own_lines_are_kept(line: bytes) -> None:
    assert not is_native_noise(line)


def face_compare(*extra: str) -> subprocess.CompletedProcess[str]:
    images = [str(FACES / "obama.jpg"), str(FACES / "obama2.jpg")]
    return subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "face", "compare", *images, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_face_compare_is_quiet_unless_verbose() -> None:
    quiet = face_compare("--thresholds", str(population_thresholds_path("other", VisionSettings())))  # Western faces
    assert quiet.returncode == 0, quiet.stderr
    assert "match" in quiet.stdout
    assert [line for line in quiet.stderr.splitlines() if is_native_noise(line.encode())] == []
    verbose = face_compare("--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert any(is_native_noise(line.encode()) for line in verbose.stderr.splitlines())  # the libraries do log


def test_our_errors_still_reach_stderr_when_quiet() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "face", "compare", str(FACES / "obama.jpg"), "/nonexistent/x.jpg"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "error: E_IMAGE_NOT_FOUND" in done.stderr
    assert "remedy:" in done.stderr
