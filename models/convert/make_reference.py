"""Write the dlib reference chips that CI uses to check the committed TFLite embedder without dlib.

The face images in ``shared/data/faces`` may not be redistributed, so the committed chips come from
scikit-image's ``astronaut`` sample (NASA photo of Eileen Collins, "No known copyright restrictions,
released into the public domain" per scikit-image's docstring), in several photometric and geometric
variants, each detected and aligned by dlib; plus two synthetic chips (seeded uniform noise, flat
grey) that exercise the extremes of the input range.  Each chip is stored as PNG with dlib's
descriptor in ``reference.json``.  Needs dlib and scikit-image (conversion venv only).

    python models/convert/make_reference.py [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from dlib_reference import DlibPipeline, versions
from PIL import Image, ImageOps

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "data" / "embedder_reference"


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def _gamma(img: Image.Image, gamma: float) -> Image.Image:
    arr = np.asarray(img, dtype=np.float64) / 255.0
    return Image.fromarray(np.clip(255.0 * arr**gamma + 0.5, 0, 255).astype(np.uint8))


VARIANTS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "astronaut": lambda im: im,
    "astronaut_mirrored": ImageOps.mirror,
    "astronaut_rotated12": lambda im: im.rotate(12, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0)),
    "astronaut_small40pct": lambda im: im.resize((205, 205), Image.Resampling.LANCZOS),
    "astronaut_dark_gamma2": lambda im: _gamma(im, 2.0),
    "astronaut_jpeg_q20": lambda im: _jpeg(im, 20),
    "astronaut_bgr_swapped": lambda im: Image.fromarray(np.asarray(im)[:, :, ::-1].copy()),
}


def synthetic_chips() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20260101)
    return {
        "noise_uniform_seed20260101": rng.integers(0, 256, (150, 150, 3), dtype=np.uint8),
        "flat_grey128": np.full((150, 150, 3), 128, dtype=np.uint8),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    from skimage import data  # noqa: PLC0415 - conversion-venv only

    pipeline = DlibPipeline()
    source = Image.fromarray(data.astronaut())  # type: ignore[no-untyped-call]
    chips: dict[str, np.ndarray] = {}
    for name, variant in VARIANTS.items():
        chip = pipeline.chip(np.asarray(variant(source).convert("RGB"), dtype=np.uint8))
        if chip is None:
            print(f"dlib found no face in variant {name}", file=sys.stderr)
            return 1
        chips[name] = chip
    chips.update(synthetic_chips())

    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, chip in chips.items():
        file = f"{name}.png"
        Image.fromarray(chip).save(args.out / file, optimize=True)
        with Image.open(args.out / file) as img:  # describe what was written, byte-for-byte
            stored = np.asarray(img.convert("RGB"), dtype=np.uint8)
        if not np.array_equal(stored, chip):
            raise RuntimeError(f"PNG round trip changed {file}")
        descriptor = pipeline.descriptor(stored)
        entries.append({"file": file, "dlib_descriptor": [float(v) for v in descriptor]})
    meta = {
        "what": "dlib face_recognition_model_v1.compute_face_descriptor(chip) for each 150x150 RGB chip",
        "chip": {"size": 150, "padding": 0.25, "aligner": "dlib 5-point shape predictor + get_face_chip"},
        "versions": versions(),
        "chips": entries,
    }
    (args.out / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({"written": [e["file"] for e in entries], "out": str(args.out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
