"""Write the MobileFaceNet reference chips + onnxruntime embeddings that CI checks (no onnxruntime needed there).

    python models/convert/mobilefacenet_reference.py --source-dir DIR

The face chips are the committed public-domain dlib reference chips (``tests/data/embedder_reference``, 150 px,
dlib layout) re-warped onto the ArcFace 112x112 template by the similarity transform that maps the dlib layout's
eyes, nose tip and mouth centre onto the template's; plus a noise chip and a flat grey chip.  Their embeddings come
from onnxruntime running the ONNX export of the checkpoint (the reference of ``mobilefacenet_to_tflite.py``).
Output: ``tests/data/mobilefacenet_reference/`` (PNG chips + ``reference.json``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from mobilefacenet_to_tflite import ARCFACE_112, REPO_ROOT, OnnxReference, check_sources
from PIL import Image

SOURCE_DIR = REPO_ROOT / "tests" / "data" / "embedder_reference"
OUT_DIR = REPO_ROOT / "tests" / "data" / "mobilefacenet_reference"
DLIB_150_XY = np.array([[48.3, 48.7], [102.1, 47.6], [76.0, 75.7], [76.3, 103.4]])  # edge.vision.align's targets
FACE_CHIPS = (
    "astronaut.png",
    "astronaut_mirrored.png",
    "astronaut_rotated12.png",
    "astronaut_small40pct.png",
    "astronaut_dark_gamma2.png",
    "astronaut_jpeg_q20.png",
)


def to_arcface(chip150: np.ndarray) -> np.ndarray:
    sys.path.insert(0, str(REPO_ROOT))
    from edge.vision.align import similarity_transform  # noqa: PLC0415

    template = np.vstack([ARCFACE_112[:3], ARCFACE_112[3:].mean(axis=0)])
    matrix = similarity_transform(DLIB_150_XY, template)
    return np.asarray(cv2.warpAffine(chip150, matrix, (112, 112), flags=cv2.INTER_AREA), dtype=np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, required=True, help="folder with mobilefacenet.pt + the ONNX")
    args = parser.parse_args(argv)
    check_sources(args.source_dir)
    reference = OnnxReference(args.source_dir / "MobileFaceNet.onnx")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    chips: list[tuple[str, np.ndarray]] = []
    for name in FACE_CHIPS:
        with Image.open(SOURCE_DIR / name) as img:
            chips.append((name, to_arcface(np.asarray(img.convert("RGB"), dtype=np.uint8))))
    rng = np.random.default_rng(20261204)
    chips.append(("noise_uniform_seed20261204.png", rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)))
    chips.append(("flat_grey128.png", np.full((112, 112, 3), 128, dtype=np.uint8)))
    entries = []
    for name, chip in chips:
        Image.fromarray(chip).save(OUT_DIR / name)
        entries.append({"file": name, "embedding": [float(v) for v in reference(chip)]})
    meta = {
        "what": "onnxruntime output of MobileFaceNet.onnx for each 112x112 RGB chip (raw, not normalised)",
        "chip": {"size": 112, "template": "ArcFace 5-point", "source": "tests/data/embedder_reference re-warped"},
        "versions": {"onnxruntime": importlib.metadata.version("onnxruntime")},
        "chips": entries,
    }
    (OUT_DIR / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(entries)} chips + reference.json to {OUT_DIR.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
