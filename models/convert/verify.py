"""Check converted embedders against dlib itself on real face images, and time both.

For every image under ``--faces-dir`` (default: ``shared/data/faces`` beside the checkout, all sets)
dlib detects and aligns the face; the same 150x150 chip goes to dlib's ResNet and to each TFLite
model.  Prints, per image, the largest absolute difference over the 128 components, then the maximum
over images, and exits 1 when any model exceeds its tolerance.  Needs dlib (see README.md).

    python models/convert/verify.py [--faces-dir DIR] [--timing]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from litert_embed import LiteRtEmbedder
from PIL import Image, ImageOps

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_FACES_DIR = REPO_ROOT.parent / "shared" / "data" / "faces"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}

# Largest |TFLite - dlib| allowed on any descriptor component.  fp32 differs from dlib only by float
# summation order; fp16 stores weights rounded to 11 significant bits, so it gets a looser bound.
TOLERANCE = {"fp32": 1e-5, "fp16": 2e-3}
ROUNDS = 3


@dataclass(frozen=True)
class ModelUnderTest:
    name: str
    path: Path
    tolerance: float


def default_models() -> list[ModelUnderTest]:
    found = []
    for kind, tol in TOLERANCE.items():
        path = MODELS_DIR / f"face_embedder_dlib_resnet_v1_{kind}.tflite"
        if path.exists():
            found.append(ModelUnderTest(kind, path, tol))
    return found


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(ImageOps.exif_transpose(img).convert("RGB"), dtype=np.uint8)


def real_chips(faces_dir: Path) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """dlib-aligned chips of every image under faces_dir, and the names of images where dlib found no face."""
    from dlib_reference import DlibPipeline  # noqa: PLC0415 - needs dlib

    pipeline = DlibPipeline()
    chips, misses = [], []
    for path in sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        name = str(path.relative_to(faces_dir))
        chip = pipeline.chip(load_rgb(path))
        if chip is None:
            misses.append(name)
        else:
            chips.append((name, chip))
    return chips, misses


def compare_with_dlib(
    models: list[ModelUnderTest], chips: list[tuple[str, np.ndarray]], timing: bool = False, quiet: bool = False
) -> dict[str, object]:
    """Per-model max |diff| against dlib on the given chips; with timing, ms/embedding of each on one thread."""
    from dlib_reference import DlibPipeline  # noqa: PLC0415

    pipeline = DlibPipeline()
    embedders = {m.name: LiteRtEmbedder(m.path, num_threads=1) for m in models}
    worst = dict.fromkeys(embedders, 0.0)
    dist_err = dict.fromkeys(embedders, 0.0)
    refs = []
    for name, chip in chips:
        ref = pipeline.descriptor(chip)
        refs.append(ref)
        row = []
        for model_name, embedder in embedders.items():
            diff = float(np.max(np.abs(embedder.embed(chip).astype(np.float64) - ref)))
            worst[model_name] = max(worst[model_name], diff)
            row.append(f"{model_name}={diff:.3e}")
        if not quiet:
            print(f"  {name:<45} max|diff| " + "  ".join(row))
    # Effect on what the matcher sees: |distance(tflite pair) - distance(dlib pair)| over consecutive pairs.
    for model_name, embedder in embedders.items():
        outs = [embedder.embed(chip).astype(np.float64) for _, chip in chips]
        for i in range(len(chips) - 1):
            d_ref = np.linalg.norm(refs[i] - refs[i + 1])
            d_out = np.linalg.norm(outs[i] - outs[i + 1])
            dist_err[model_name] = max(dist_err[model_name], abs(float(d_out - d_ref)))
    result: dict[str, object] = {
        "chips": len(chips),
        "max_abs_diff": worst,
        "max_pair_distance_error": dist_err,
        "tolerance": {m.name: m.tolerance for m in models},
        "passed": all(worst[m.name] <= m.tolerance for m in models),
    }
    if timing and chips:
        result["ms_per_embedding_1_thread"] = _timing(pipeline, embedders, [c for _, c in chips])
    return result


def _timing(pipeline: object, embedders: dict[str, LiteRtEmbedder], chips: list[np.ndarray]) -> dict[str, float]:
    """Mean ms per chip of the fastest of ROUNDS passes (the CPU is shared, so the best pass is the least disturbed)."""
    from dlib_reference import DlibPipeline  # noqa: PLC0415

    assert isinstance(pipeline, DlibPipeline)
    runners = {f"tflite_{name}": e.embed for name, e in embedders.items()} | {"dlib": pipeline.descriptor}
    for run in runners.values():
        run(chips[0])  # warm-up (XNNPACK packs weights on the first call)
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(ROUNDS):
        for name, run in runners.items():
            start = time.perf_counter()
            for chip in chips:
                run(chip)
            best[name] = min(best[name], 1000 * (time.perf_counter() - start) / len(chips))
    return {k: round(v, 2) for k, v in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces-dir", type=Path, default=DEFAULT_FACES_DIR)
    parser.add_argument("--timing", action="store_true", help="also time TFLite (1 thread) and dlib per chip")
    parser.add_argument("--quiet", action="store_true", help="summary only")
    args = parser.parse_args(argv)
    models = default_models()
    if not models:
        print("no face_embedder_dlib_resnet_v1_*.tflite in models/: run dlib_to_tflite.py first", file=sys.stderr)
        return 2
    if not args.faces_dir.is_dir():
        print(f"faces dir {args.faces_dir} not found (pass --faces-dir)", file=sys.stderr)
        return 2
    chips, misses = real_chips(args.faces_dir)
    if not chips:
        print("dlib found no face in any image", file=sys.stderr)
        return 2
    result = compare_with_dlib(models, chips, timing=args.timing, quiet=args.quiet)
    result["images_without_dlib_face"] = misses
    print(json.dumps(result, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
