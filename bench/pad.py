"""PAD latency next to the face pipeline, one thread, same run (issue 12).

    python bench/pad.py [--repeat 30] [IMG ...]

Per frame: face pipeline (detect + align + quality + embed) p50/p95, PAD (both context crops + both MiniFASNet
models) p50/p95, and the two together (the face part of a decision with PAD on). Default images: the committed
test faces. Then the whole decision through the real lane (real face verifier, simulated card reader, camera and
turnstile): decision time after the chip read ends (``decision_ms - chip_ms``) with ``[pad] mode`` off (baseline)
and enforce, same run. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edge.vision.models import repo_models_dir  # noqa: E402
from edge.vision.pad.passive import PassivePad  # noqa: E402
from edge.vision.pipeline import FacePipeline  # noqa: E402
from edge.vision.quality import GateProfile  # noqa: E402
from edge.vision.settings import VisionSettings  # noqa: E402


def _pct(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def lane_decision_ms(mode: str, taps: int) -> list[float]:
    """decision_ms - chip_ms of ``taps`` candidates through the real lane with ``[pad] mode = mode``."""
    import asyncio  # noqa: PLC0415
    import dataclasses  # noqa: PLC0415
    import json  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from edge.config import sample_config  # noqa: PLC0415
    from edge.store import RosterRow  # noqa: PLC0415
    from edge.vision.pad.settings import PadSettings  # noqa: PLC0415
    from edge.wiring import build_gate  # noqa: PLC0415
    from firmware_bridge.camera.folder import FolderCamera  # noqa: PLC0415
    from firmware_bridge.sim.fixture_reader import FixtureCardReader  # noqa: PLC0415
    from firmware_bridge.turnstile.virtual import VirtualTurnstile  # noqa: PLC0415

    faces = REPO / "tests/data/faces"
    out: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cards").mkdir()
        (root / "camera").mkdir()
        shutil.copyfile(faces / "obama2.jpg", root / "cards/an.jpg")
        card = {
            "format": "examgate-card-fixture/1",
            "personal_id": "001099012345",
            "full_name": "An",
            "birth_date": "1999-01-01",
            "face_image": "an.jpg",
        }
        (root / "cards/an.json").write_text(json.dumps(card))
        shutil.copyfile(faces / "obama.jpg", root / "camera/frame.jpg")
        cfg = sample_config(root).model_copy(update={"pad": PadSettings(mode=mode)})
        reader = FixtureCardReader(root / "cards")
        gate = build_gate(
            cfg,
            session_id="SES1",
            reader=reader,
            camera=FolderCamera(root / "camera", fps=1000),
            turnstile=VirtualTurnstile(pulse_ms=10, passage_after_s=0.01),
        )
        gate.store.replace_roster("SES1", [RosterRow("SBD-1", "001099012345", "An")])
        gate.lane.settings = dataclasses.replace(
            gate.lane.settings, capture_window_s=0.0, frames_per_attempt=1, passage_timeout_s=0.5, anti_passback=False
        )

        async def one() -> float:
            gate.lane.reviews.bind(asyncio.get_running_loop())
            reader.tap("an")
            polled = await asyncio.to_thread(reader.poll, 1.0)
            assert polled is not None
            report = await gate.lane.process(polled)
            return report.timings_ms["decision_ms"] - report.timings_ms.get("chip_ms", 0.0)

        try:
            for _ in range(taps):
                out.append(asyncio.run(one()))
        finally:
            gate.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--taps", type=int, default=20, help="candidates through the lane per mode")
    args = ap.parse_args(argv)
    files = args.images or sorted((REPO / "tests/data/faces").glob("*.jpg"))
    pipeline = FacePipeline(VisionSettings(embed_num_threads=1))
    pad = PassivePad(repo_models_dir(), num_threads=1)
    face_ms, pad_ms, both_ms = [], [], []
    for f in files:
        rgb = pipeline.decode(f)
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            analysis = pipeline.analyse(rgb, GateProfile.LIVE)
            if analysis.aligned is not None:
                pipeline.embed(analysis)
            t1 = time.perf_counter()
            if analysis.face is not None:
                pad.score(rgb, analysis.face.box_xywh)
            t2 = time.perf_counter()
            face_ms.append((t1 - t0) * 1000)
            pad_ms.append((t2 - t1) * 1000)
            both_ms.append((t2 - t0) * 1000)
    report = {
        "frames": len(face_ms),
        "threads": 1,
        "face_pipeline": _pct(face_ms),
        "pad": _pct(pad_ms),
        "face_plus_pad": _pct(both_ms),
        "pad_model": pad.model_version,
        "decision_after_chip_read": {
            "pad_off": _pct(lane_decision_ms("off", args.taps)),
            "pad_enforce": _pct(lane_decision_ms("enforce", args.taps)),
        },
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
