"""``examgate face pad`` and ``examgate face pad-evaluate`` (issue 12 contract).

``pad IMG [IMG…] [--frames DIR …] --json`` prints one JSON list, images first then frame folders, in the order
given: {"image", "bona_fide_score", "decision", "signals", "model", "timings_ms"} (+ "error" for ``no_face``).
A missing or unreadable image is a ``no_face`` row with the image error; a missing model file stops the command
(exit 2, error JSON). Models load once per process.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import ExamGateError
from edge.vision.models import models_dir
from edge.vision.pad.analyse import PadAnalyser, PadResult
from edge.vision.pad.evaluate import bpcer_at_apcer, det_png, figures, read_labels
from edge.vision.pad.landmarks import FaceLandmarker
from edge.vision.pad.passive import PassivePad
from edge.vision.pad.settings import DEFAULT_THRESHOLD
from edge.vision.pipeline import FacePipeline
from edge.vision.settings import VisionSettings

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _analyser(settings: VisionSettings, args: argparse.Namespace) -> tuple[FacePipeline, PadAnalyser]:
    pipeline = FacePipeline.shared(settings)
    folder = models_dir(settings)
    passive, landmarker = PassivePad(folder), FaceLandmarker(folder)
    return pipeline, PadAnalyser(pipeline.detector, passive, settings, args.pad_threshold, landmarker)


def _row(name: str, result: PadResult, model: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "image": name,
        "bona_fide_score": round(result.bona_fide_score, 6),
        "decision": result.decision,
        "signals": result.signals,
        "model": model,
        "timings_ms": result.timings_ms,
    }
    if result.error is not None:
        row["error"] = result.error
    return row


def _one_image(pipeline: FacePipeline, pad: PadAnalyser, path: str) -> PadResult:
    try:
        rgb = pipeline.decode(Path(path))
    except ExamGateError as exc:
        return PadResult(0.0, "no_face", error=exc.to_dict())
    return pad.image(rgb)


def _decode_folder(pipeline: FacePipeline, folder: str) -> list[np.ndarray]:
    path = Path(folder)
    if not path.is_dir():
        raise ExamGateError(f"{folder} is not a folder", code="E_PAD_FRAMES_DIR", remedy="pass a folder of frames")
    return [pipeline.decode(p) for p in sorted(path.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]


def _one_folder(pipeline: FacePipeline, pad: PadAnalyser, folder: str) -> PadResult:
    try:
        return pad.frames(_decode_folder(pipeline, folder))
    except ExamGateError as exc:
        return PadResult(0.0, "no_face", error=exc.to_dict())


def pad_command(args: argparse.Namespace, settings: VisionSettings) -> list[dict[str, Any]]:
    if not args.images and not args.frames:
        raise ExamGateError("give at least one IMG or --frames DIR", code="E_USAGE", remedy="see examgate face pad -h")
    pipeline, pad = _analyser(settings, args)
    model = pad.passive.model_version
    rows = [_row(p, _one_image(pipeline, pad, p), model) for p in args.images]
    rows += [_row(d, _one_folder(pipeline, pad, d), model) for d in args.frames or []]
    return rows


def evaluate_command(args: argparse.Namespace, settings: VisionSettings) -> dict[str, Any]:
    labels_path = Path(args.labels)
    items = read_labels(labels_path)
    pipeline, pad = _analyser(settings, args)
    base = labels_path.parent
    scores, rows = [], []
    for item in items:
        p = Path(item.image) if Path(item.image).is_absolute() else base / item.image
        result = _one_folder(pipeline, pad, str(p)) if p.is_dir() else _one_image(pipeline, pad, str(p))
        scores.append(result.bona_fide_score)
        rows.append(
            {**_row(item.image, result, pad.passive.model_version), "label": item.label, "species": item.species}
        )
    s = np.array(scores, dtype=np.float64)
    lab, spc = [i.label for i in items], [i.species for i in items]
    op = figures(s, lab, spc, args.pad_threshold)
    report = {
        "model": pad.passive.model_version,
        "counts": {
            "bona_fide": lab.count("bona_fide"),
            **{sp: spc.count(sp) for sp in sorted(set(spc)) if sp != "bona_fide"},
        },
        "operating_point": op,
        "bpcer_at_apcer_5pct": bpcer_at_apcer(s, lab, spc, 0.05),
        "bpcer_at_apcer_1pct": bpcer_at_apcer(s, lab, spc, 0.01),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    det_png(s, lab, spc, op, out / "det.png")
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "scores.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return {**report, "det_png": str(out / "det.png")}


def register(
    face_sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    run: Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]],
    settings: Callable[[argparse.Namespace], VisionSettings],
) -> None:
    def _pad(args: argparse.Namespace) -> int:
        rows = pad_command(args, settings(args))
        text = "\n".join(f"{r['image']}: {r['decision']} {r['bona_fide_score']:.3f}" for r in rows)
        print(json.dumps(rows, ensure_ascii=False) if args.json else text)
        return 0

    def _evaluate(args: argparse.Namespace) -> int:
        report = evaluate_command(args, settings(args))
        op = report["operating_point"]
        text = f"APCER {op['apcer']:.3f} BPCER {op['bpcer']:.3f} ACER {op['acer']:.3f} at t={op['threshold']}"
        print(json.dumps(report, ensure_ascii=False) if args.json else text)
        return 0

    pad = face_sub.add_parser("pad", parents=[common], help="presentation-attack detection on images / frame folders")
    pad.add_argument("images", nargs="*", metavar="IMG")
    pad.add_argument("--frames", action="append", default=None, metavar="DIR", help="a folder of frames (repeatable)")
    pad.add_argument("--pad-threshold", type=float, default=DEFAULT_THRESHOLD, help="bona fide if score >= this")
    pad.set_defaults(func=run(_pad))
    ev = face_sub.add_parser("pad-evaluate", parents=[common], help="ISO/IEC 30107-3 figures from a labels CSV")
    ev.add_argument("--labels", required=True, help="CSV image,label,species (paths relative to its folder)")
    ev.add_argument("--out", required=True, help="folder for report.json, scores.json and det.png")
    ev.add_argument("--pad-threshold", type=float, default=DEFAULT_THRESHOLD, help="operating threshold")
    ev.set_defaults(func=run(_evaluate))
