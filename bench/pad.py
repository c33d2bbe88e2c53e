"""PAD latency next to the face pipeline, one thread, same run (issue 12).

    python bench/pad.py [--repeat 30] [IMG ...]

Per frame: face pipeline (detect + align + quality + embed) p50/p95, PAD (both context crops + both MiniFASNet
models) p50/p95, and the two together (the face part of a decision with PAD on). Default images: the committed
test faces. Prints one JSON object.
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=30)
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
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
