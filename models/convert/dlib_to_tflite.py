"""Convert dlib's face-recognition ResNet (from the installed face_recognition_models package) to TFLite.

    python models/convert/dlib_to_tflite.py            # build fp32 + fp16 into models/, verify, write SHA256SUMS
    python models/convert/dlib_to_tflite.py --check    # rebuild into a temp dir and compare with the committed files

Model contract: input float32 [1,150,150,3] RGB chip, values 0..255 (the model subtracts dlib's mean
and divides by 256 itself); output float32 [1,128], dlib's raw descriptor (not re-normalised).

A new file only replaces the old one after it passed two checks, otherwise the exit code is 1:
(1) the committed dlib reference chips (tests/data/embedder_reference, no dlib needed), and
(2) unless --no-live-dlib, dlib itself on every face image under --faces-dir (see verify.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from dlib_dat import load
from dlib_reference import resnet_dat
from litert_embed import LiteRtEmbedder
from PIL import Image
from verify import DEFAULT_FACES_DIR, TOLERANCE, ModelUnderTest, compare_with_dlib, real_chips

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "models"
SUMS_FILE = MODELS_DIR / "SHA256SUMS"
REFERENCE_DIR = REPO_ROOT / "tests" / "data" / "embedder_reference"
KINDS = ("fp32", "fp16")


def model_name(kind: str) -> str:
    return f"face_embedder_dlib_resnet_v1_{kind}.tflite"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sums() -> dict[str, str]:
    sums = {}
    if SUMS_FILE.exists():
        for line in SUMS_FILE.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                sums[name.strip()] = digest
    return sums


def write_sums(updates: dict[str, str]) -> None:
    """Replace or add our lines, keeping every other line (the detector's) as it is."""
    lines = SUMS_FILE.read_text().splitlines() if SUMS_FILE.exists() else []
    kept = [ln for ln in lines if ln.strip() and ln.split(maxsplit=1)[1].strip() not in updates]
    kept += [f"{digest}  {name}" for name, digest in sorted(updates.items())]
    SUMS_FILE.write_text("\n".join(kept) + "\n")


def install(built: dict[str, Path], name_of: Callable[[str], str]) -> dict[str, str]:
    """Copy each verified build into models/ under ``name_of(kind)`` and record its SHA-256; returns name -> digest."""
    digests = {}
    for kind, path in built.items():
        target = MODELS_DIR / name_of(kind)
        target.write_bytes(path.read_bytes())
        digests[target.name] = sha256(target)
    write_sums(digests)
    return digests


def committed_reference() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, chip, dlib descriptor) for every committed reference chip."""
    meta = json.loads((REFERENCE_DIR / "reference.json").read_text())
    out = []
    for entry in meta["chips"]:
        with Image.open(REFERENCE_DIR / entry["file"]) as img:
            chip = np.asarray(img.convert("RGB"), dtype=np.uint8)
        out.append((entry["file"], chip, np.array(entry["dlib_descriptor"], dtype=np.float64)))
    return out


def check_committed_reference(path: Path) -> float:
    """Max |diff| of the model against the committed dlib descriptors (inf when none are committed)."""
    if not (REFERENCE_DIR / "reference.json").exists():
        return float("inf")
    embedder = LiteRtEmbedder(path)
    return max(
        float(np.max(np.abs(embedder.embed(chip).astype(np.float64) - ref))) for _, chip, ref in committed_reference()
    )


def build(kinds: tuple[str, ...], out_dir: Path) -> dict[str, Path]:
    from tf_graph import to_tflite  # noqa: PLC0415 - TensorFlow import is slow; only when building

    net = load(resnet_dat())
    built = {}
    for kind in kinds:
        path = out_dir / model_name(kind)
        path.write_bytes(to_tflite(net, kind))
        built[kind] = path
    return built


def _compare_outputs(a: Path, b: Path) -> float:
    """Max |diff| between two models on the committed chips plus seeded random chips."""
    ea, eb = LiteRtEmbedder(a), LiteRtEmbedder(b)
    rng = np.random.default_rng(20260101)
    chips = [c for _, c, _ in committed_reference()] + [rng.integers(0, 256, (150, 150, 3)) for _ in range(4)]
    return max(float(np.max(np.abs(ea.embed(c) - eb.embed(c)))) for c in chips)


def check(kinds: tuple[str, ...]) -> int:
    """Rebuild and compare with the committed files: bytes first, embeddings when bytes differ."""
    sums = read_sums()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        built = build(kinds, Path(tmp))
        for kind, path in built.items():
            name = model_name(kind)
            committed = MODELS_DIR / name
            digest = sha256(path)
            report: dict[str, object] = {"model": name, "rebuilt_sha256": digest, "listed_sha256": sums.get(name)}
            if sums.get(name) is None or not committed.exists() or sha256(committed) != sums[name]:
                report["result"] = "FAIL: committed file missing or not matching SHA256SUMS"
                failed = True
            elif digest == sums[name]:
                report["result"] = "OK: rebuilt file is byte-identical"
            else:
                diff = _compare_outputs(path, committed)
                tol = TOLERANCE[kind]
                report["max_abs_diff_vs_committed"] = diff
                ok = diff <= tol
                verdict = "OK" if ok else "FAIL"
                report["result"] = f"{verdict}: bytes differ, embeddings differ by {diff:.2e} (tol {tol})"
                failed |= not ok
            print(json.dumps(report))
    return 1 if failed else 0


def convert(kinds: tuple[str, ...], live_dlib: bool, faces_dir: Path) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        built = build(kinds, Path(tmp))
        convert_s = time.perf_counter() - started
        summary: dict[str, object] = {"conversion_s": round(convert_s, 1)}
        ok = True
        verified = live_dlib
        for kind, path in built.items():
            diff = check_committed_reference(path)
            summary[f"{kind}_committed_reference_max_abs_diff"] = diff
            summary[f"{kind}_bytes"] = path.stat().st_size
            if diff != float("inf"):
                verified = True
                ok &= diff <= TOLERANCE[kind]
        if live_dlib:
            chips, misses = real_chips(faces_dir)
            if not chips:
                print(f"no dlib-detected face under {faces_dir}; pass --faces-dir or --no-live-dlib", file=sys.stderr)
                return 1
            models = [ModelUnderTest(kind, path, TOLERANCE[kind]) for kind, path in built.items()]
            live = compare_with_dlib(models, chips, quiet=True)
            live["images_without_dlib_face"] = misses
            summary["live_dlib"] = live
            ok &= bool(live["passed"])
        if not verified:
            print("nothing to verify against: no committed reference and --no-live-dlib", file=sys.stderr)
            ok = False
        summary["passed"] = ok
        print(json.dumps(summary, indent=2))
        if not ok:
            print("conversion FAILED verification; committed models left untouched", file=sys.stderr)
            return 1
        digests = install(built, model_name)
        print(json.dumps({"written": digests, "total_s": round(time.perf_counter() - started, 1)}))
    return 0


def int8_report(out: Path, faces_dir: Path) -> int:
    """Build the dynamic-range int8 variant to ``out`` (never into models/) and print its error against dlib."""
    from tf_graph import to_tflite  # noqa: PLC0415

    out.write_bytes(to_tflite(load(resnet_dat()), "int8"))
    chips, _ = real_chips(faces_dir)
    result = compare_with_dlib([ModelUnderTest("int8", out, float("inf"))], chips, timing=True, quiet=True)
    result["committed_reference_max_abs_diff"] = check_committed_reference(out)
    result["bytes"] = out.stat().st_size
    result["tolerance"] = "none: report only, int8 is not installed into models/"
    print(json.dumps(result, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="rebuild to a temp dir and compare with committed files")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma list of fp32,fp16 (default both)")
    parser.add_argument("--faces-dir", type=Path, default=DEFAULT_FACES_DIR)
    parser.add_argument("--no-live-dlib", action="store_true", help="verify only against the committed dlib reference")
    parser.add_argument("--int8-report", type=Path, metavar="PATH", help="only build int8 to PATH and report its error")
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if unknown := set(kinds) - set(KINDS):
        parser.error(f"unknown kinds {sorted(unknown)}")
    if args.int8_report:
        return int8_report(args.int8_report, args.faces_dir)
    if args.check:
        return check(kinds)
    return convert(kinds, live_dlib=not args.no_live_dlib, faces_dir=args.faces_dir)


if __name__ == "__main__":
    sys.exit(main())
