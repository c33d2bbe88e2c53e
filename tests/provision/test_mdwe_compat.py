"""examgate.service sets MemoryDenyWriteExecute=yes. Check that the daemon's native stack (OpenCV, MediaPipe,
LiteRT, cryptography, ctypes callbacks as used by lgpio) still works when writable+executable memory is
refused, using the kernel's own switch for it (prctl PR_SET_MDWE, Linux >= 6.3) in a child process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import ctypes, mmap, sys
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
        sys.exit(77)
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        sys.exit(3)  # the switch did not take effect: the probe proves nothing
    except OSError:
        pass
    import numpy as np, cv2
    from cryptography.hazmat.primitives.asymmetric import ec
    ec.generate_private_key(ec.SECP256R1())
    assert ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)(41) == 42
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision
    model = sys.argv[1]
    det = vision.FaceDetector.create_from_options(
        vision.FaceDetectorOptions(base_options=BaseOptions(model_asset_path=model)))
    det.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((128, 128, 3), np.uint8)))
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=model, num_threads=2)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], np.zeros(inp["shape"], np.float32))
    it.invoke()
    print("MDWE-OK")
    """
)


@pytest.mark.slow
def test_native_stack_runs_without_writable_executable_memory() -> None:
    model = REPO / "models" / "face_detection_short_range.tflite"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(model)], capture_output=True, text=True, timeout=240, check=False
    )
    if result.returncode == 77:
        pytest.skip("kernel without PR_SET_MDWE (Linux < 6.3): cannot emulate MemoryDenyWriteExecute here")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MDWE-OK" in result.stdout
