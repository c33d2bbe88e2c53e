"""``examgate face …``: compare, embed, detect and calibrate from the command line.

Models load once per process. With ``--json`` errors print ``{"code","message","remedy"}`` and exit 2.
In ``compare --pairs`` a row whose image is missing or unreadable does not stop the batch: it gets
``"decision": "no_face"``, ``"similarity": null`` and the image error code in ``reasons``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edge.errors import ConfigError, ExamGateError
from edge.vision.calibrate import score_pairs, write_calibration
from edge.vision.compare import Comparer, pairs_from_identities, read_pairs
from edge.vision.models import default_thresholds_path
from edge.vision.pad.cli import register as register_pad
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import GateProfile
from edge.vision.settings import VisionSettings
from edge.vision.thresholds import Thresholds, check_model_version, load_thresholds

EXIT_OK, EXIT_ERROR = 0, 2


class NoFaceError(ExamGateError):
    code = "E_NO_FACE"
    remedy = "use a photo where one face is clearly visible, looking at the camera"


def _settings(args: argparse.Namespace) -> VisionSettings:
    data: dict[str, Any] = {}
    if args.config is not None:
        try:
            data = dict(tomllib.loads(Path(args.config).read_text(encoding="utf-8")).get("vision", {}))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {args.config}: {exc}") from exc
        if isinstance(data.get("models_dir"), str) and not Path(data["models_dir"]).is_absolute():
            data["models_dir"] = str(Path(args.config).resolve().parent / data["models_dir"])
    if args.models_dir is not None:
        data["models_dir"] = args.models_dir
    if args.threads is not None:
        data["embed_num_threads"] = args.threads
    try:
        return VisionSettings.model_validate(data)
    except ValidationError as exc:
        problems = [(".".join(["vision", *map(str, e["loc"])]), e["msg"]) for e in exc.errors()]
        raise ConfigError("; ".join(f"{p}: {m}" for p, m in problems), problems) from exc


def _thresholds(args: argparse.Namespace, settings: VisionSettings) -> Thresholds:
    path = Path(args.thresholds) if args.thresholds else default_thresholds_path(settings)
    return load_thresholds(path)


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(text)


def _run(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Wrap a handler so every ExamGateError becomes the error JSON (or a line on stderr) and exit code 2."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ExamGateError as exc:
            if getattr(args, "json", False):
                print(json.dumps(exc.to_dict(), ensure_ascii=False))
            else:
                print(f"error: {exc}\nremedy: {exc.remedy}", file=sys.stderr)
            return EXIT_ERROR

    return wrapped


def _describe_row(row: dict[str, Any]) -> str:
    sim = "null" if row["similarity"] is None else f"{row['similarity']:.4f}"
    reasons = ",".join(row["reasons"]) or "-"
    return f"{row['image_a']}\t{row['image_b']}\t{sim}\t{row['decision']}\t{reasons}"


# ------------------------------------------------------------------ handlers
def _compare(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.pairs is None and (args.image_a is None or args.image_b is None):
        raise ExamGateError(
            "give IMG_A IMG_B or --pairs FILE", code="E_USAGE", remedy="see `examgate face compare --help`"
        )
    if args.pairs is not None and args.image_a is not None:
        raise ExamGateError(
            "give either IMG_A IMG_B or --pairs, not both", code="E_USAGE", remedy="see `examgate face compare --help`"
        )
    thresholds = _thresholds(args, settings)
    pipeline = FacePipeline.shared(settings)
    check_model_version(thresholds, pipeline.model_version)
    comparer = Comparer(pipeline, thresholds)
    if args.pairs is not None:
        pairs = read_pairs(Path(args.pairs))
        rows = [comparer.compare(p.path_a, p.path_b, p.image_a, p.image_b) for p in pairs]
        _emit(args, rows, "\n".join(_describe_row(r) for r in rows))
        return EXIT_OK
    path_a, path_b = Path(args.image_a), Path(args.image_b)
    for path in (path_a, path_b):
        comparer.pipeline.decode(path)  # a single pair: an unreadable image is an error, not a row
    row = comparer.compare(path_a, path_b, args.image_a, args.image_b)
    _emit(args, row, _describe_row(row))
    return EXIT_OK


def _embed(args: argparse.Namespace) -> int:
    pipeline = FacePipeline.shared(_settings(args))
    image = pipeline.decode(Path(args.image))
    analysis = pipeline.analyse(image, GateProfile(args.profile))
    if analysis.face is None:
        raise NoFaceError(f"{args.image}: no face found")
    vector, embed_ms = pipeline.embed(analysis)
    payload = {
        "image": args.image,
        "embedding": [round(float(v), 7) for v in vector],
        "norm": "l2",
        "model_version": pipeline.model_version,
        "face": analysis.face.to_json(),
        "reasons": list(analysis.reasons),
        "timings_ms": {**analysis.timings_ms, "embed_ms": embed_ms},
    }
    _emit(args, payload, " ".join(f"{v:.5f}" for v in vector))
    return EXIT_OK


def _detect(args: argparse.Namespace) -> int:
    pipeline = FacePipeline.shared(_settings(args))
    image = pipeline.decode(Path(args.image))
    analysis = pipeline.analyse(image, GateProfile(args.profile))
    width, height = analysis.image_size_wh
    payload = {
        "image": args.image,
        "width": width,
        "height": height,
        "faces": [d.to_json() for d in analysis.detections],
        "retry": analysis.retry,
        "profile": args.profile,
        "quality": analysis.quality.to_json() if analysis.quality else None,
        "reasons": list(analysis.reasons),
        "timings_ms": analysis.timings_ms,
    }
    text = f"{args.image}: {len(analysis.detections)} face(s); reasons: {','.join(analysis.reasons) or '-'}"
    _emit(args, payload, text)
    return EXIT_OK


def _half_label(half: str | None) -> str:
    return "all pairs" if half is None else f"identities of half {half}, all pairs"


def _calibrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    pipeline = FacePipeline.shared(settings)
    comparer = Comparer(pipeline, None)
    pair_files = [Path(p) for p in args.pairs or []]
    identity_files = [Path(p) for p in args.identities or []]
    if not pair_files and not identity_files:
        raise ExamGateError(
            "give --pairs and/or --identities", code="E_USAGE", remedy="see `examgate face calibrate --help`"
        )
    pairs = [pair for path in pair_files for pair in read_pairs(path)]
    pairs += [pair for path in identity_files for pair in pairs_from_identities(path, args.half)]
    scores = score_pairs(comparer, pairs)
    outcome = write_calibration(
        scores,
        target_far=args.target_far,
        target_frr=args.target_frr,
        review_far=args.review_far,
        pairs_file=",".join(
            [f"{p.parent.name}/{p.name}" for p in pair_files]
            + [f"{p.parent.name}/{p.name} ({_half_label(args.half)})" for p in identity_files]
        ),
        model_version=pipeline.model_version,
        out=Path(args.out),
        plots=not args.no_plots,
    )
    t = outcome.thresholds
    payload = {
        "out": str(outcome.toml_path),
        "version": t.version,
        "match": t.match,
        "review": t.review,
        "model_version": t.model_version,
        "calibration": t.calibration.model_dump(),
        "n_no_face": scores.n_no_face,
        "plots": [str(p) for p in outcome.plot_paths],
    }
    text = f"wrote {outcome.toml_path}: version {t.version}, match {t.match:.4f}, review {t.review:.4f}"
    _emit(args, payload, text)
    return EXIT_OK


# ------------------------------------------------------------------ parser
def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON (errors as {code,message,remedy})")
    common.add_argument("--config", default=None, help="device config TOML; its [vision] section is used")
    common.add_argument("--models-dir", default=None, help="folder with the models (default: <repo>/models)")
    common.add_argument("--thresholds", default=None, help="thresholds TOML (default: models/thresholds.toml)")
    common.add_argument("--threads", type=int, default=None, help="TFLite threads for the embedder")
    common.add_argument("--verbose", action="store_true", help="also show MediaPipe/LiteRT log lines")
    return common


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``face`` command group to the ``examgate`` CLI."""
    common = _common()
    face = sub.add_parser("face", help="face detection, comparison and threshold calibration")
    face_sub = face.add_subparsers(dest="face_command", required=True)

    compare = face_sub.add_parser("compare", parents=[common], help="similarity of two images, or of each CSV row")
    compare.add_argument("image_a", nargs="?", default=None, metavar="IMG_A")
    compare.add_argument("image_b", nargs="?", default=None, metavar="IMG_B")
    compare.add_argument("--pairs", default=None, help="CSV image_a,image_b[,same]; paths relative to its folder")
    compare.set_defaults(func=_run(_compare))

    for name, handler, text in (
        ("embed", _embed, "128-D L2-normalised embedding of the largest face"),
        ("detect", _detect, "faces, keypoints and quality reasons"),
    ):
        leaf = face_sub.add_parser(name, parents=[common], help=text)
        leaf.add_argument("image", metavar="IMG")
        leaf.add_argument("--profile", choices=[p.value for p in GateProfile], default="live", help="quality gates")
        leaf.set_defaults(func=_run(handler))

    calibrate = face_sub.add_parser("calibrate", parents=[common], help="thresholds from labelled pairs")
    calibrate.add_argument("--pairs", action="append", help="labelled pairs CSV image_a,image_b,same (repeatable)")
    calibrate.add_argument(
        "--identities", action="append", help="CSV image,identity: every pair of its images is used (repeatable)"
    )
    calibrate.add_argument(
        "--half",
        choices=["A", "B"],
        default=None,
        help="use only the identities of this half of each --identities file (split by identity; report on the other)",
    )
    calibrate.add_argument("--target-far", type=float, default=0.001, help="false accept rate at `match`")
    calibrate.add_argument("--target-frr", type=float, default=0.01, help="at most this FRR below `review`")
    calibrate.add_argument(
        "--review-far", type=float, default=None, help="`review` reaches down to this FAR (default 10x target)"
    )
    calibrate.add_argument("--out", required=True, help="thresholds TOML to write (plots go next to it)")
    calibrate.add_argument("--no-plots", action="store_true", help="skip the DET / histogram PNGs")
    calibrate.set_defaults(func=_run(_calibrate))
    register_pad(face_sub, common, _run, _settings)
