"""Offline comparison of the face embedders (dlib ResNet vs MobileFaceNet) and of the alignments each can be fed.

    python bench/face_models.py [--faces-dir ../shared/data/faces] [--mobilefacenet FILE] [--json OUT]

Every image of every DEV set goes once through the gate's own detector (BlazeFace with its retries, reference
profile) and, for the mouth corners, the 468-point face mesh (``models/face_landmark.tflite``). Then:
- dlib: the gate's 150x150 chip (``edge.vision.align``), as shipped;
- MobileFaceNet: 112x112 chips with a similarity transform onto one of these landmark sets / templates
  (ArcFace 5-point template = the layout of the MS1M training faces; "loose" = foamliu's LFW evaluation crop,
  the same template with 25% inner padding), optionally with the horizontally flipped chip's embedding added.
- gate_mobilefacenet: what the gate computes with ``vision.embedder = "mobilefacenet"`` (its own analysis: mesh
  landmarks, BlazeFace's where the mesh sees no face).
Per set and pair list (pairs.csv, every pair of identities.csv, the pairs of the half-B identities only): AUC, EER,
TAR at FAR 1% and 0.1%. Then, per system, thresholds chosen on half A (every set, the rule of ``examgate face
calibrate``: match at FAR 0.1%, review at min(FAR 1%, FRR 1%)) and the decisions on half B per population; last,
the gate's two families at their committed thresholds files. ``bench/face.py`` is the full bench (reference,
latency, RSS); this one is the alignment study behind ``edge.vision.embedders``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import numpy.typing as npt
from face import DEFAULT_FACES, REPO, _pairs_of, accuracy, chip_like, decisions, population_pairs

Points = npt.NDArray[np.float64]
Pairs = list[tuple[Path, Path, bool]]

# foamliu's LFW evaluation crop: the ArcFace template with 25% inner padding (align_face: inner_padding_factor 0.25)
LOOSE_FACTOR, LOOSE_SHIFT_PX = 112.0 / 168.0, 28.0


def warp(image: npt.NDArray[np.uint8], src: Points, dst: Points, size: int) -> npt.NDArray[np.uint8]:
    """The gate's warp (``edge.vision.align.warp_to_template``): ``src`` points onto ``dst`` in a size px chip."""
    from edge.vision.align import warp_to_template  # noqa: PLC0415

    return warp_to_template(image, src, dst, size).chip


ALIGNMENTS = ("arcface_bf4", "loose_bf4", "arcface_bf3+mesh_mouth", "arcface_mesh5", "loose_bf3+mesh_mouth")
SYSTEMS = ("dlib", "gate_mobilefacenet", *(f"mfn_{a}{flip}" for a in ALIGNMENTS for flip in ("", "+flip")))
# the systems the gate runs (vision.embedder), scored at their committed thresholds files
GATE_SYSTEMS = {"dlib": "dlib_resnet_v1", "gate_mobilefacenet": "mobilefacenet"}


def landmark_sets(kp: Points, mesh: Points) -> dict[str, tuple[Points, Points]]:
    """name -> (source points, 112 px template points) for every alignment in ``ALIGNMENTS``.

    ``arcface_mesh5`` is what the gate's ``mobilefacenet`` family does (``edge.vision.embedders``)."""
    from edge.vision.detect import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE  # noqa: PLC0415
    from edge.vision.embedders import ARCFACE_112_XY, arcface_points  # noqa: PLC0415

    arcface = ARCFACE_112_XY
    loose = (arcface + LOOSE_SHIFT_PX) * LOOSE_FACTOR
    bf4 = kp[[RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH]]
    mesh5 = arcface_points(mesh)
    bf3_mouth = np.vstack([bf4[:3], mesh5[3:]])
    return {
        "arcface_bf4": (bf4, np.vstack([arcface[:3], arcface[3:].mean(axis=0)])),
        "loose_bf4": (bf4, np.vstack([loose[:3], loose[3:].mean(axis=0)])),
        "arcface_bf3+mesh_mouth": (bf3_mouth, arcface),
        "arcface_mesh5": (mesh5, arcface),
        "loose_bf3+mesh_mouth": (bf3_mouth, loose),
    }


class LiteRt:
    """One TFLite model, one thread: float32 [1,S,S,3] RGB 0..255 -> raw embedding."""

    def __init__(self, path: Path) -> None:
        from edge.vision.embed import _interpreter_class  # noqa: PLC0415

        self.interp = _interpreter_class()(model_path=str(path), num_threads=1)
        self.interp.allocate_tensors()
        self.inp = self.interp.get_input_details()[0]
        self.out = self.interp.get_output_details()[0]
        self.ms: list[float] = []

    def __call__(self, chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        start = time.perf_counter()
        self.interp.set_tensor(self.inp["index"], chip.astype(np.float32)[None])
        self.interp.invoke()
        vec = np.array(self.interp.get_tensor(self.out["index"])[0], dtype=np.float64)
        self.ms.append((time.perf_counter() - start) * 1000.0)
        return vec


def unit(v: npt.NDArray[np.float64]) -> list[float]:
    return (v / np.linalg.norm(v)).tolist()


def embed_all(paths: list[Path], mfn_path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """system name -> {image path -> {"encoding": list | None}}, and p50 ms per embedding per model."""
    from edge.vision.pad.landmarks import FaceLandmarker  # noqa: PLC0415
    from edge.vision.pipeline import FacePipeline  # noqa: PLC0415
    from edge.vision.quality import GateProfile  # noqa: PLC0415
    from edge.vision.settings import VisionSettings  # noqa: PLC0415

    pipeline = FacePipeline(VisionSettings(embed_num_threads=1))
    gate_mfn = FacePipeline(VisionSettings(embedder="mobilefacenet", embed_num_threads=1))
    mesher = FaceLandmarker(REPO / "models", num_threads=1)
    dlib = LiteRt(pipeline.embedder_path)
    mfn = LiteRt(mfn_path)
    systems: dict[str, dict[str, Any]] = {name: {} for name in SYSTEMS}
    mesh_ms: list[float] = []

    def put(system: str, path: Path, vec: list[float] | None) -> None:
        systems[system][str(path)] = {"encoding": vec}

    for path in paths:
        try:
            image = pipeline.decode(path)
            analysis = pipeline.analyse(image, GateProfile.REFERENCE)
        except Exception:  # noqa: BLE001 - an unreadable image is a failure to enrol for every system
            analysis = None
        if analysis is None or analysis.face is None or analysis.aligned is None:
            for name in SYSTEMS:
                put(name, path, None)
            continue
        put("dlib", path, unit(dlib(analysis.aligned.chip)))
        gate_analysis = gate_mfn.analyse(image, GateProfile.REFERENCE)  # its own chip: mesh, BlazeFace fallback
        put("gate_mobilefacenet", path, gate_mfn.embed(gate_analysis)[0].tolist() if gate_analysis.has_face else None)
        start = time.perf_counter()
        mesh = mesher.mesh(image, analysis.face)
        mesh_ms.append((time.perf_counter() - start) * 1000.0)
        for name, (src, dst) in landmark_sets(analysis.face.keypoints_xy, mesh.points_xy).items():
            chip = warp(image, src, dst, 112)
            vec = mfn(chip)
            put(f"mfn_{name}", path, unit(vec))
            put(f"mfn_{name}+flip", path, unit(vec + mfn(np.ascontiguousarray(chip[:, ::-1]))))
    ms = {"dlib": statistics.median(dlib.ms), "mobilefacenet": statistics.median(mfn.ms)}
    return systems, {**ms, "face_mesh": statistics.median(mesh_ms)}


def score_lists(pairs: Pairs, images: dict[str, Any]) -> tuple[Any, Any, int]:
    from face import _scores  # noqa: PLC0415

    return _scores(pairs, images, "cosine")


def half_a_thresholds(sets: list[Path], images: dict[str, Any]) -> tuple[float, float]:
    """(match, review) from every set's half-A identity pairs, by ``examgate face calibrate``'s rule."""
    from face import _identities  # noqa: PLC0415

    from edge.vision.calibrate import PairScores, choose_thresholds  # noqa: PLC0415
    from edge.vision.compare import identity_half  # noqa: PLC0415

    pairs: Pairs = []
    for d in sets:
        names = _identities(d)
        pairs += [t for t in _pairs_of(d)["all pairs"] if identity_half(names[t[0]]) == "A"]
    g, i, failed = score_lists(pairs, images)
    return choose_thresholds(PairScores(g, i, failed), target_far=0.001, target_frr=0.01)


def report(sets: list[Path], systems: dict[str, dict[str, Any]], chips: dict[Path, Path]) -> dict[str, Any]:
    out: dict[str, Any] = {"sets": {}, "populations": {}}
    row: Callable[..., str] = "{:<10} {:<11} {:<32} {:>7} {:>7} {:>7} {:>8} {:>10}".format
    print(row("set", "pairs", "system", "AUC", "EER", "TAR@1%", "TAR@.1%", "gen/imp"))
    for d in sets:
        for list_name, pairs in _pairs_of(d).items():
            for system, images in systems.items():
                m = accuracy(pairs, images, "cosine")
                out["sets"].setdefault(d.name, {}).setdefault(list_name, {})[system] = m
                print(
                    row(
                        d.name,
                        list_name,
                        system,
                        f"{m['auc']:.4f}",
                        f"{m['eer']:.4f}",
                        f"{m['tar_far_1pct']:.3f}",
                        f"{m['tar_far_0_1pct']:.3f}",
                        f"{int(m['n_genuine'])}/{int(m['n_impostor'])}",
                    )
                )
    pops = population_pairs(sets)
    pops["Asian chip-like"] = [(chips[a], b, same) for a, b, same in pops["Asian"]]
    print("\ndecisions on half B at thresholds chosen on half A (match FAR 0.1%, review min(FAR 1%, FRR 1%))")
    for system, images in systems.items():
        match, review = half_a_thresholds(sets, images)
        out.setdefault("thresholds_half_a", {})[system] = {"match": match, "review": review}
        out["populations"][system] = decision_rows(system, pops, images, match, review)
    from edge.vision.models import default_thresholds_path  # noqa: PLC0415
    from edge.vision.settings import VisionSettings  # noqa: PLC0415
    from edge.vision.thresholds import load_thresholds  # noqa: PLC0415

    print("\nthe gate's decisions at the committed thresholds file of each embedder (vision.embedder)")
    for system, family in GATE_SYSTEMS.items():
        path = default_thresholds_path(VisionSettings(embedder=family))
        t = load_thresholds(path)
        print(f"  {system}: {path.name} {t.version} (calibrated on half A of every set)")
        out.setdefault("gate", {})[system] = decision_rows(system, pops, systems[system], t.match, t.review)
    return out


def decision_rows(system: str, pops: dict[str, Pairs], images: dict[str, Any], match: float, review: float) -> Any:
    """Print and return, per population, the gate's decisions at (match, review)."""
    from edge.vision.metrics import auc, tar_at_far  # noqa: PLC0415

    drow: Callable[..., str] = "{:<27} {:<32} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>10}".format
    print(
        drow(
            "population", "system", "match", "review", "AUC", "TAR@.1%", "FMR", "gen.rev", "FNMR", "rev/100", "gen/imp"
        )
    )
    out = {}
    for pop, pairs in pops.items():
        g, i, _ = score_lists(pairs, images)
        if g.size == 0 and i.size == 0:
            continue
        dec = decisions(g, i, match, review)
        a = auc(g, i) if g.size and i.size else float("nan")
        tar = tar_at_far(g, i, 0.001)[0] if g.size and i.size else float("nan")
        out[pop] = {**dec, "auc": a, "tar_far_0_1pct": tar, "match": match, "review": review}
        cells = (f"{match:.4f}", f"{review:.4f}", f"{a:.4f}", f"{tar:.3f}", f"{dec['fmr_match']:.4f}")
        cells += (f"{dec['gen_review']:.3f}", f"{dec['fnmr_no_match']:.3f}", f"{100 * dec['gen_review']:.1f}")
        print(drow(pop, system, *cells, f"{g.size}/{i.size}"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces-dir", type=Path, default=DEFAULT_FACES)
    parser.add_argument(
        "--mobilefacenet", type=Path, default=REPO / "models" / "face_embedder_mobilefacenet_fp32.tflite"
    )
    parser.add_argument("--only", default="", help="comma list of system names to keep (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure as JSON here")
    args = parser.parse_args(argv)
    sets = sorted(d for d in args.faces_dir.iterdir() if (d / "identities.csv").is_file())
    paths = sorted({p for d in sets for a, b, _ in _pairs_of(d)["all pairs"] for p in (a, b)})
    print(f"sets: {', '.join(d.name for d in sets)}; {len(paths)} images (+ as many chip-like copies); 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        chips = {p: chip_like(p, Path(tmp) / "chip_like") for p in paths}
        systems, ms = embed_all(paths + list(chips.values()), args.mobilefacenet)
    if args.only:
        keep = set(args.only.split(","))
        systems = {k: v for k, v in systems.items() if k in keep}
    print("p50 ms per call (1 thread): " + ", ".join(f"{k} {v:.2f}" for k, v in ms.items()))
    out = report(sets, systems, chips)
    out["ms_per_embedding_p50"] = ms
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
