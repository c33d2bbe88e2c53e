"""Convert foamliu/MobileFaceNet (PyTorch checkpoint) to TFLite and verify it against onnxruntime on real faces.

    python models/convert/mobilefacenet_to_tflite.py --source-dir DIR   # build fp32 + fp16, verify, install
    python models/convert/mobilefacenet_to_tflite.py --source-dir DIR --check   # rebuild, compare with committed

DIR holds ``mobilefacenet.pt`` and ``MobileFaceNet.onnx`` (+ ``MobileFaceNet.onnx.data``) from the repository's
``weights/`` folder (README.md says where); both are checked against the SHA-256 pinned below first.
The network is rebuilt from the checkpoint's tensors (pad/pth_legacy.py + mobilefacenet_tf.py, no PyTorch); the
ONNX file, exported from the same checkpoint with PyTorch by the repository's contributor, is the reference and
runs under onnxruntime. Both see the same 112x112 chips: every face the gate's detector finds under --faces-dir
(aligned onto the ArcFace 5-point template), plus seeded random chips. A model is installed into models/ (and its
line in SHA256SUMS replaced) only if its largest |TFLite - onnxruntime| over the L2-normalised 128 components is
within TOLERANCE; otherwise the exit code is 1 and models/ is left untouched.

Model contract: input float32 [1,112,112,3] RGB chip, values 0..255 (the model applies the training
normalisation itself: /255, ImageNet mean/std); output float32 [1,128], not normalised.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from dlib_to_tflite import MODELS_DIR, install, read_sums, sha256
from verify import DEFAULT_FACES_DIR, IMAGE_SUFFIXES

REPO_ROOT = Path(__file__).resolve().parents[2]
KINDS = ("fp32", "fp16")
TOLERANCE = {"fp32": 1e-5, "fp16": 3e-3}  # max |diff| of one component of the unit-length embedding
SOURCE_SHA256 = {
    "mobilefacenet.pt": "90a00ba1d8b0b688af3deb731ed53dca582e6106805d1bc3cfdef55f570493f4",
    "MobileFaceNet.onnx": "b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
}
ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)
RANDOM_CHIPS = 4


def model_name(kind: str) -> str:
    return f"face_embedder_mobilefacenet_{kind}.tflite"


def check_sources(source_dir: Path) -> None:
    for name, want in SOURCE_SHA256.items():
        path = source_dir / name
        if not path.is_file():
            raise SystemExit(f"{path} not found: see models/convert/README.md (MobileFaceNet) for where to get it")
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != want:
            raise SystemExit(f"{path}: sha256 {got} is not the pinned {want}")


def real_chips(faces_dir: Path) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """112x112 chips of every face the gate's detector finds (reference profile), ArcFace template from BlazeFace's
    eyes, nose tip and mouth centre; and the names of the images without a face."""
    sys.path.insert(0, str(REPO_ROOT))
    import cv2  # noqa: PLC0415

    from edge.vision.align import similarity_transform  # noqa: PLC0415
    from edge.vision.detect import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE  # noqa: PLC0415
    from edge.vision.pipeline import FacePipeline  # noqa: PLC0415
    from edge.vision.quality import GateProfile  # noqa: PLC0415

    pipeline = FacePipeline()
    template = np.vstack([ARCFACE_112[:3], ARCFACE_112[3:].mean(axis=0)])
    chips, misses = [], []
    for path in sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        name = str(path.relative_to(faces_dir))
        image = pipeline.decode(path)
        analysis = pipeline.analyse(image, GateProfile.REFERENCE)
        if analysis.face is None:
            misses.append(name)
            continue
        matrix = similarity_transform(analysis.face.keypoints_xy[[RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH]], template)
        chips.append((name, np.asarray(cv2.warpAffine(image, matrix, (112, 112), flags=cv2.INTER_LINEAR))))
    return chips, misses


class OnnxReference:
    """The exported ONNX model under onnxruntime, fed the training normalisation (NCHW)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime  # noqa: PLC0415
        from mobilefacenet_tf import IMAGENET_MEAN, IMAGENET_STD  # noqa: PLC0415

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.mean, self.std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)

    def __call__(self, chip: np.ndarray) -> np.ndarray:
        x = ((chip.astype(np.float64) / 255.0 - self.mean) / self.std).astype(np.float32)
        return np.array(self.session.run(None, {self.input: x.transpose(2, 0, 1)[None]})[0][0], dtype=np.float64)


class LiteRt:
    def __init__(self, path: Path) -> None:
        from litert_embed import _interpreter_class  # noqa: PLC0415

        self.interp = _interpreter_class()(model_path=str(path), num_threads=1)
        self.interp.allocate_tensors()
        self.inp, self.out = self.interp.get_input_details()[0], self.interp.get_output_details()[0]
        if list(self.inp["shape"]) != [1, 112, 112, 3] or list(self.out["shape"]) != [1, 128]:
            raise ValueError(f"{path}: unexpected contract {self.inp['shape']} -> {self.out['shape']}")

    def __call__(self, chip: np.ndarray) -> np.ndarray:
        self.interp.set_tensor(self.inp["index"], chip.astype(np.float32)[None])
        self.interp.invoke()
        return np.array(self.interp.get_tensor(self.out["index"])[0], dtype=np.float64)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def compare(models: dict[str, Path], reference: OnnxReference, chips: list[tuple[str, np.ndarray]]) -> dict[str, Any]:
    """Per model: max |diff| of unit embeddings vs onnxruntime, max |change| of the cosine of consecutive chips,
    and ms per embedding (1 thread, median)."""
    ref = [unit(reference(c)) for _, c in chips]
    out: dict[str, Any] = {"chips": len(chips)}
    for kind, path in models.items():
        run = LiteRt(path)
        ms, worst, worst_name, ours = [], 0.0, "", []
        for (name, chip), r in zip(chips, ref, strict=True):
            start = time.perf_counter()
            v = unit(run(chip))
            ms.append((time.perf_counter() - start) * 1000.0)
            ours.append(v)
            diff = float(np.max(np.abs(v - r)))
            if diff > worst:
                worst, worst_name = diff, name
        pairs = zip(ours[:-1], ours[1:], ref[:-1], ref[1:], strict=True)
        pair_shift = max(abs(float(a @ b) - float(p @ q)) for a, b, p, q in pairs)
        out[kind] = {
            "max_abs_diff": worst,
            "worst_chip": worst_name,
            "max_pair_cosine_shift": pair_shift,
            "tolerance": TOLERANCE[kind],
            "passed": worst <= TOLERANCE[kind],
            "ms_per_embedding_p50": float(np.median(ms)),
            "bytes": path.stat().st_size,
        }
    return out


def build(source_dir: Path, kinds: tuple[str, ...], out_dir: Path) -> dict[str, Path]:
    from mobilefacenet_tf import to_tflite  # noqa: PLC0415 - TensorFlow import is slow; only when building
    from pad.pth_legacy import load_state_dict  # noqa: PLC0415 - the legacy-format reader the PAD conversion uses

    state = load_state_dict(source_dir / "mobilefacenet.pt")
    built = {}
    for kind in kinds:
        built[kind] = out_dir / model_name(kind)
        built[kind].write_bytes(to_tflite(state, kind))
    return built


def verification_chips(faces_dir: Path) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    chips, misses = real_chips(faces_dir)
    rng = np.random.default_rng(20261204)
    chips += [(f"random{i}", rng.integers(0, 256, (112, 112, 3)).astype(np.uint8)) for i in range(RANDOM_CHIPS)]
    return chips, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-dir", type=Path, required=True, help="folder with mobilefacenet.pt + the ONNX")
    parser.add_argument("--faces-dir", type=Path, default=DEFAULT_FACES_DIR)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma list of fp32,fp16 (default both)")
    parser.add_argument("--check", action="store_true", help="rebuild to a temp dir and compare with committed files")
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if unknown := set(kinds) - set(KINDS):
        parser.error(f"unknown kinds {sorted(unknown)}")
    check_sources(args.source_dir)
    started = time.perf_counter()
    chips, misses = verification_chips(args.faces_dir)
    if len(chips) <= RANDOM_CHIPS:
        print(f"no face found under {args.faces_dir}; pass --faces-dir", file=sys.stderr)
        return 1
    reference = OnnxReference(args.source_dir / "MobileFaceNet.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        built = build(args.source_dir, kinds, Path(tmp))
        summary = compare(built, reference, chips)
        summary["images_without_face"] = misses
        if args.check:
            sums = read_sums()
            for kind, path in built.items():
                committed = MODELS_DIR / model_name(kind)
                listed = sums.get(committed.name)
                ok = committed.exists() and listed == sha256(committed)
                summary[kind]["committed_matches_sha256sums"] = ok
                summary[kind]["rebuilt_byte_identical"] = ok and sha256(path) == listed
                if ok and not summary[kind]["rebuilt_byte_identical"]:
                    ok = compare({kind: committed}, reference, chips)[kind]["passed"]
                summary[kind]["passed"] = bool(summary[kind]["passed"] and ok)
        passed = all(summary[k]["passed"] for k in kinds)
        summary["passed"] = passed
        summary["total_s"] = round(time.perf_counter() - started, 1)
        print(json.dumps(summary, indent=2))
        if not passed:
            print("FAILED verification; models/ left untouched", file=sys.stderr)
            return 1
        if not args.check:
            print(json.dumps({"written": install(built, model_name)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
