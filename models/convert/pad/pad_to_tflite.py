"""Build the two MiniFASNet TFLite files, verify them against the original PyTorch code, install them.

    python models/convert/pad/pad_to_tflite.py --source SFAS_CHECKOUT [--faces-dir ../shared/data/faces]

SFAS_CHECKOUT is a clone of minivision-ai/Silent-Face-Anti-Spoofing (weights in resources/anti_spoof_models/,
model code in src/, detector in resources/detection_model/). For every face image the original pipeline runs
(its RetinaFace detector, its CropImage, its MiniFASNet module with torch.load'ed weights) and its softmax is
compared with the TFLite file fed by our crop (edge/vision/pad/crop.py) on the same box. Exit 1 above tolerance
(nothing installed). Also writes tests/data/pad_reference/reference.json for the CI test.
"""

# ruff: noqa: PLC0415, N813  # torch, TF and the original code are imported only where used, after sys.path is set
from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path[:0] = [str(HERE), str(REPO)]

from minifasnet import parse  # noqa: E402
from pth_legacy import load_state_dict  # noqa: E402

from edge.vision.pad.crop import context_crop  # noqa: E402

MODELS = {  # our file name: (published weights, original class name, scale)
    "pad_minifasnet_v2_s2.7.tflite": ("2.7_80x80_MiniFASNetV2.pth", "MiniFASNetV2", 2.7),
    "pad_minifasnet_v1se_s4.0.tflite": ("4_0_0_80x80_MiniFASNetV1SE.pth", "MiniFASNetV1SE", 4.0),
}
TOLERANCE = 1e-4  # largest |TFLite - PyTorch| over the 3 softmax outputs of any one image
REFERENCE_IMAGES = ("tests/data/faces/obama.jpg", "tests/data/faces/obama2.jpg", "tests/data/faces/biden.jpg")
REFERENCE_JSON = REPO / "tests/data/pad_reference/reference.json"


def original_models(source: Path) -> dict[str, object]:
    import torch

    sys.path.insert(0, str(source))
    from src.model_lib import MiniFASNet as orig  # type: ignore[import-not-found]

    out = {}
    for name, (pth, cls, _) in MODELS.items():
        model = getattr(orig, cls)(conv6_kernel=(5, 5))
        sd = torch.load(source / "resources/anti_spoof_models" / pth, map_location="cpu", weights_only=True)
        model.load_state_dict({k.removeprefix("module."): v for k, v in sd.items()})
        model.eval()
        out[name] = model
    return out


class RetinaFace:
    """The original project's detector and box rule (anti_spoof_predict.Detection)."""

    def __init__(self, source: Path) -> None:
        d = source / "resources/detection_model"
        self.net = cv2.dnn.readNetFromCaffe(str(d / "deploy.prototxt"), str(d / "Widerface-RetinaFace.caffemodel"))

    def box(self, bgr: np.ndarray) -> tuple[list[int], float]:
        h, w = bgr.shape[:2]
        ar = w / h
        small = cv2.resize(bgr, (int(192 * math.sqrt(ar)), int(192 / math.sqrt(ar)))) if w * h >= 192 * 192 else bgr
        self.net.setInput(cv2.dnn.blobFromImage(small, 1, mean=(104, 117, 123)), "data")
        o = self.net.forward("detection_out").squeeze()
        i = int(np.argmax(o[:, 2]))
        left, top, right, bottom = o[i, 3] * w, o[i, 4] * h, o[i, 5] * w, o[i, 6] * h
        return [int(left), int(top), int(right - left + 1), int(bottom - top + 1)], float(o[i, 2])


def tflite_probs(path: Path):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]

    def run(crop_bgr: np.ndarray) -> np.ndarray:
        it.set_tensor(inp, crop_bgr[None].astype(np.float32))
        it.invoke()
        return np.array(it.get_tensor(out)[0], dtype=np.float64)

    return run


def torch_probs(model: object, source: Path, bgr: np.ndarray, box: list[int], scale: float) -> np.ndarray:
    import torch

    sys.path.insert(0, str(source))
    from src.generate_patches import CropImage  # type: ignore[import-not-found]

    crop = CropImage().crop(bgr, box, scale, 80, 80, True)
    x = torch.from_numpy(crop.transpose(2, 0, 1).astype(np.float32))[None]  # its ToTensor: HWC->CHW, no /255
    with torch.no_grad():
        return torch.softmax(model(x), dim=1).numpy()[0].astype(np.float64)  # type: ignore[operator]


def images(faces_dir: Path) -> list[Path]:
    return sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def verify(built: dict[str, Path], source: Path, files: list[Path]) -> dict[str, dict[str, float]]:
    det, originals = RetinaFace(source), original_models(source)
    runners = {name: tflite_probs(p) for name, p in built.items()}
    worst = dict.fromkeys(built, 0.0)
    count = dict.fromkeys(built, 0)
    for f in files:
        bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        box, conf = det.box(bgr)
        if conf < 0.6 or box[2] < 32 or box[3] < 32:
            continue
        for name, (_, _, scale) in MODELS.items():
            try:
                ours = context_crop(bgr[:, :, ::-1], (box[0], box[1], box[2], box[3]), scale)
            except Exception:  # noqa: BLE001  # crops our runtime refuses are not part of the numeric check
                continue
            ref = torch_probs(originals[name], source, bgr, box, scale)
            worst[name] = max(worst[name], float(np.abs(runners[name](ours.pixels_bgr) - ref).max()))
            count[name] += 1
    return {n: {"images": count[n], "max_abs_diff": worst[n]} for n in built}


def write_reference(built: dict[str, Path], source: Path) -> None:
    det, originals = RetinaFace(source), original_models(source)
    entries = []
    for rel in REFERENCE_IMAGES:
        bgr = cv2.imread(str(REPO / rel), cv2.IMREAD_COLOR)
        box, _ = det.box(bgr)
        probs = {n: torch_probs(originals[n], source, bgr, box, s).round(7).tolist() for n, (_, _, s) in MODELS.items()}
        entries.append({"image": rel, "box_xywh": box, "torch_probs": probs})
    REFERENCE_JSON.parent.mkdir(parents=True, exist_ok=True)
    meta = {"tolerance": TOLERANCE, "models": {n: sha256(p) for n, p in built.items()}, "images": entries}
    REFERENCE_JSON.write_text(json.dumps(meta, indent=1) + "\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sums(updates: dict[str, str]) -> None:
    sums = REPO / "models/SHA256SUMS"
    lines = sums.read_text().splitlines() if sums.exists() else []
    kept = [ln for ln in lines if ln.strip() and ln.split(maxsplit=1)[1].strip() not in updates]
    kept += [f"{digest}  {name}" for name, digest in sorted(updates.items())]
    sums.write_text("\n".join(kept) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="checkout of Silent-Face-Anti-Spoofing")
    ap.add_argument("--faces-dir", type=Path, default=REPO.parent / "shared/data/faces")
    args = ap.parse_args(argv)
    from tf_minifasnet import to_tflite

    with tempfile.TemporaryDirectory() as tmp:
        built: dict[str, Path] = {}
        for name, (pth, _, _) in MODELS.items():
            net = parse(load_state_dict(args.source / "resources/anti_spoof_models" / pth))
            built[name] = Path(tmp) / name
            built[name].write_bytes(to_tflite(net, name.removesuffix(".tflite")))
        files = images(args.faces_dir) if args.faces_dir.is_dir() else []
        files += [REPO / r for r in REFERENCE_IMAGES]
        report = verify(built, args.source, files)
        print(json.dumps(report, indent=1))
        if any(r["images"] == 0 or r["max_abs_diff"] > TOLERANCE for r in report.values()):
            print(f"FAIL: above tolerance {TOLERANCE} (or nothing checked); models/ left untouched")
            return 1
        for name, path in built.items():
            shutil.copyfile(path, REPO / "models" / name)
        write_sums({n: sha256(REPO / "models" / n) for n in built})
        write_reference({n: REPO / "models" / n for n in built}, args.source)
    print("installed into models/, SHA256SUMS and tests/data/pad_reference/reference.json updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
