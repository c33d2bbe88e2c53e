"""Face pipeline bench: accuracy per DEV set of both embedder families (dlib ResNet, MobileFaceNet) vs the reference
``face_recognition`` (dlib HOG + the dlib ResNet), the gate's decisions at each family's shipped thresholds per
population, per-frame latency (detect + align + quality [+ mesh] + embed) on one thread, peak RSS holding every
model, 1:N search time.

    python bench/face.py [--faces-dir ../shared/data/faces] [--reference-python /path/to/python] [--markdown]

The reference needs dlib + face_recognition. When they are not importable here, pass ``--reference-python`` (an
interpreter that has them): this script re-runs itself there as a worker (``--reference-worker``) that needs only
numpy + face_recognition. Without either, the reference columns are marked unavailable.
Accuracy: ours = cosine similarity of L2-normalised embeddings; reference = -(Euclidean distance), as
face_recognition compares faces. AUC / EER / TAR@FAR over the set's pairs.csv and over every pair of its
identities.csv; failure to enrol (FTE) = images without a usable face / encoding.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# One BLAS thread, like the lane (the device's cores are busy with camera, detector and embedder threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FACES = REPO.parent / "shared" / "data" / "faces"
WARMUP_IMAGES = 2


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


# ----------------------------------------------------------------------------- reference worker (other venv)
def reference_worker(image_list: Path) -> dict[str, Any]:
    """Encode each image with face_recognition (HOG, upsample 1, 'small' landmarks, 1 jitter); time each."""
    import face_recognition  # noqa: PLC0415

    paths = [line for line in image_list.read_text().splitlines() if line]
    out: dict[str, Any] = {}
    for warm in paths[:WARMUP_IMAGES]:
        face_recognition.face_encodings(face_recognition.load_image_file(warm))
    for path in paths:
        try:
            image = face_recognition.load_image_file(path)
        except Exception as exc:  # noqa: BLE001 - report any decode failure as a failed enrolment
            out[path] = {"encoding": None, "ms": None, "error": type(exc).__name__}
            continue
        start = time.perf_counter()
        boxes = face_recognition.face_locations(image)
        encoding = None
        if boxes:
            largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
            encoding = face_recognition.face_encodings(image, known_face_locations=[largest])[0].tolist()
        out[path] = {"encoding": encoding, "ms": (time.perf_counter() - start) * 1000.0}
    import dlib  # noqa: PLC0415

    return {"images": out, "versions": {"dlib": dlib.__version__, "face_recognition": face_recognition.__version__}}


def run_reference(paths: list[Path], reference_python: str | None, tmp_dir: Path) -> dict[str, Any] | None:
    listing = tmp_dir / "bench_face_images.txt"
    listing.write_text("\n".join(str(p) for p in paths) + "\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if reference_python is None:
        try:
            import face_recognition  # noqa: F401, PLC0415
        except ImportError:
            return None
        reference_python = sys.executable
    proc = subprocess.run(
        [reference_python, __file__, "--reference-worker", str(listing)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        print(f"note: reference worker failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
        return None
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ----------------------------------------------------------------------------- ours
def run_ours(paths: list[Path], embedder: str = "dlib_resnet_v1") -> dict[str, Any]:
    from edge.vision.image import decode_image  # noqa: PLC0415
    from edge.vision.pipeline import FacePipeline  # noqa: PLC0415
    from edge.vision.quality import GateProfile  # noqa: PLC0415
    from edge.vision.settings import VisionSettings  # noqa: PLC0415

    pipeline = FacePipeline(VisionSettings(embed_num_threads=1, embedder=embedder))  # type: ignore[arg-type]
    images = {}
    for path in paths[:WARMUP_IMAGES]:
        analysis = pipeline.analyse(decode_image(path), GateProfile.REFERENCE)
        if analysis.has_face:
            pipeline.embed(analysis)
    for path in paths:
        try:
            image = decode_image(path)
        except Exception as exc:  # noqa: BLE001
            images[str(path)] = {"encoding": None, "ms": None, "error": type(exc).__name__}
            continue
        start = time.perf_counter()
        analysis = pipeline.analyse(image, GateProfile.REFERENCE)
        stages = dict(analysis.timings_ms)
        encoding = None
        if analysis.has_face:
            vector, stages["embed_ms"] = pipeline.embed(analysis)
            encoding = vector.tolist()
        ms = (time.perf_counter() - start) * 1000.0
        images[str(path)] = {
            "encoding": encoding,
            "ms": ms,
            "stages": stages,
            "pixels": image.shape[0] * image.shape[1],
        }
    from edge.vision.models import default_thresholds_path  # noqa: PLC0415

    return {
        "images": images,
        "model_version": pipeline.model_version,
        "thresholds": default_thresholds_path(pipeline.settings),
    }


# ----------------------------------------------------------------------------- accuracy
def _pairs_of(set_dir: Path) -> dict[str, list[tuple[Path, Path, bool]]]:
    """Pair lists of one set: its pairs.csv (if any), every pair of identities.csv, and the pairs of the identities
    of half B only (held out: ``examgate face calibrate --half A`` tunes on half A, see edge.vision.compare)."""
    from edge.vision.compare import identity_half  # noqa: PLC0415

    out: dict[str, list[tuple[Path, Path, bool]]] = {}
    if (set_dir / "pairs.csv").is_file():
        with (set_dir / "pairs.csv").open(newline="") as fh:
            out["pairs.csv"] = [
                (set_dir / r["image_a"], set_dir / r["image_b"], r["same"].strip() == "1") for r in csv.DictReader(fh)
            ]
    with (set_dir / "identities.csv").open(newline="") as fh:
        ids = [(set_dir / r["image"], r["identity"]) for r in csv.DictReader(fh)]
    out["all pairs"] = [(a, b, ia == ib) for (a, ia), (b, ib) in itertools.combinations(ids, 2)]
    held = [(a, ia) for a, ia in ids if identity_half(ia) == "B"]
    out["held-out B"] = [(a, b, ia == ib) for (a, ia), (b, ib) in itertools.combinations(held, 2)]
    return out


def _identities(set_dir: Path) -> dict[Path, str]:
    with (set_dir / "identities.csv").open(newline="") as fh:
        return {set_dir / r["image"]: r["identity"] for r in csv.DictReader(fh)}


def population_pairs(sets: list[Path]) -> dict[str, list[tuple[Path, Path, bool]]]:
    """Held-out (half B) pairs per population: Asian = asian_dev; Vietnamese = asian_dev pairs with a ``vn_``
    identity on either side (every half: its few identities are too few to split, so it is NOT held out);
    other = the remaining sets."""
    out: dict[str, list[tuple[Path, Path, bool]]] = {"Asian": [], "Vietnamese (not held out)": [], "other": []}
    for d in sets:
        lists = _pairs_of(d)
        if d.name.startswith("asian"):
            names = _identities(d)
            out["Asian"] += lists["held-out B"]
            vn = [t for t in lists["all pairs"] if names[t[0]].startswith("vn_") or names[t[1]].startswith("vn_")]
            out["Vietnamese (not held out)"] += vn
        else:
            out["other"] += lists["held-out B"]
    return out


def chip_like(path: Path, out_dir: Path) -> Path:
    """A simulated chip photo: longest side 320 px, JPEG 2000 at 1:25 (a DG2 is typically 10-20 KB)."""
    from PIL import Image, ImageOps  # noqa: PLC0415

    out = out_dir / path.parent.name / (path.stem + ".jp2")
    out.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(path) as img:
        small = ImageOps.exif_transpose(img).convert("RGB")
        small.thumbnail((320, 320), Image.Resampling.LANCZOS)
        small.save(out, format="JPEG2000", quality_mode="rates", quality_layers=[25])
    return out


def _scores(pairs: list[tuple[Path, Path, bool]], images: dict[str, Any], kind: str) -> tuple[Any, Any, int]:
    from edge.vision.metrics import as_scores  # noqa: PLC0415

    genuine, impostor, failed = [], [], 0
    for a, b, same in pairs:
        ea, eb = images[str(a)]["encoding"], images[str(b)]["encoding"]
        if ea is None or eb is None:
            failed += 1
            continue
        va, vb = np.array(ea), np.array(eb)
        if kind == "cosine":
            score = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
        else:
            score = -float(np.linalg.norm(va - vb))
        (genuine if same else impostor).append(score)
    return as_scores(genuine), as_scores(impostor), failed


def accuracy(pairs: list[tuple[Path, Path, bool]], images: dict[str, Any], kind: str) -> dict[str, float]:
    from edge.vision.metrics import auc, eer, tar_at_far  # noqa: PLC0415

    g, i, failed = _scores(pairs, images, kind)
    return {
        "auc": auc(g, i),
        "eer": eer(g, i),
        "tar_far_1pct": tar_at_far(g, i, 0.01)[0],
        "tar_far_0_1pct": tar_at_far(g, i, 0.001)[0],
        "n_genuine": float(g.size),
        "n_impostor": float(i.size),
        "pairs_failed": float(failed),
    }


def decisions(g: Any, i: Any, match: float, review: float) -> dict[str, float]:
    """Shares of the gate's decisions: impostors decided match (FMR) / review; genuine decided review / no_match."""

    def share(x: Any) -> float:
        return float(np.mean(x)) if x.size else float("nan")

    return {
        "fmr_match": share(i >= match),
        "imp_review": share((i >= review) & (i < match)),
        "gen_match": share(g >= match),
        "gen_review": share((g >= review) & (g < match)),
        "fnmr_no_match": share(g < review),
    }


def fte(paths: list[Path], images: dict[str, Any]) -> float:
    return sum(images[str(p)]["encoding"] is None for p in paths) / len(paths)


def population_report(
    sets: list[Path], chips: dict[Path, Path], ours: dict[str, Any], ref: dict[str, Any] | None
) -> None:
    """Per population: accuracy and the gate's decisions at each family's shipped thresholds (reference: distance <=
    0.6). ``ours``: family name -> run_ours result (with its ``thresholds`` file)."""
    from edge.vision.metrics import auc, tar_at_far  # noqa: PLC0415
    from edge.vision.thresholds import load_thresholds  # noqa: PLC0415

    cuts: dict[str, tuple[float, float]] = {}
    for name, run in ours.items():
        t = load_thresholds(run["thresholds"])
        cuts[name] = (t.match, t.review)
        print(
            f"decisions of {name} at {run['thresholds'].name} {t.version}: "
            f"match >= {t.match:.4f}, review >= {t.review:.4f}"
        )
    print("  reference decides match at distance <= 0.6 (face_recognition's tolerance), no review zone")
    print("  FMR = impostor pairs decided match; FNMR = genuine decided no_match; reviews/100 = genuine sent to review")
    head = f"{'population':<27} {'system':<15} {'AUC':>7} {'TAR@1%':>7} {'TAR@.1%':>8} {'FMR':>7} {'imp.rev':>7}"
    print(head + f" {'gen.rev':>7} {'FNMR':>7} {'rev/100':>7} {'gen/imp':>10}")
    pops = population_pairs(sets)
    for name in list(pops):
        if name != "Vietnamese (not held out)":
            pops[f"{name} chip-like"] = [(chips[a], b, same) for a, b, same in pops[name]]
    systems = [(n, r["images"], "cosine") for n, r in ours.items()] + [("reference", ref and ref["images"], "l2")]
    for name, pairs in pops.items():
        for system, images, kind in systems:
            if images is None or not pairs:
                continue
            g, i, _ = _scores(pairs, images, kind)
            match, review = cuts[system] if kind == "cosine" else (-0.6, -0.6)
            d = decisions(g, i, match, review)
            print(
                f"{name:<27} {system:<15} {auc(g, i):7.4f} {tar_at_far(g, i, 0.01)[0]:7.3f} "
                f"{tar_at_far(g, i, 0.001)[0]:8.3f} {d['fmr_match']:7.4f} {d['imp_review']:7.4f} "
                f"{d['gen_review']:7.3f} {d['fnmr_no_match']:7.3f} {100 * d['gen_review']:7.1f} "
                f"{g.size:>4}/{i.size:<5}"
            )


# ----------------------------------------------------------------------------- memory / 1:N
def _peak_rss_mb() -> float:
    """VmHWM of this process (ru_maxrss would include the parent's peak carried over fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_worker(mode: str) -> dict[str, float]:
    """Peak RSS (MB) of this process: 'baseline' = numpy only; 'models' = every face model loaded and used once
    (detector, both embedders, the face mesh)."""
    if mode == "models":
        from edge.vision.embedders import FAMILIES  # noqa: PLC0415
        from edge.vision.pipeline import FacePipeline  # noqa: PLC0415
        from edge.vision.quality import GateProfile  # noqa: PLC0415
        from edge.vision.settings import VisionSettings  # noqa: PLC0415

        for family in FAMILIES:
            pipeline = FacePipeline.shared(VisionSettings(embedder=family))  # type: ignore[arg-type]
            image = pipeline.decode(REPO / "tests" / "data" / "faces" / "obama.jpg")
            pipeline.embed(pipeline.analyse(image, GateProfile.LIVE))
    return {"peak_rss_mb": _peak_rss_mb()}


def measure_rss(mode: str) -> float:
    proc = subprocess.run([sys.executable, __file__, "--rss-worker", mode], capture_output=True, text=True, check=True)
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def search_bench(n: int = 10_000, repeats: int = 300) -> dict[str, float]:
    from edge.vision.match import RosterIndex  # noqa: PLC0415

    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(n, 128)).astype(np.float32)
    index = RosterIndex([f"id{i}" for i in range(n)], matrix)
    queries = rng.normal(size=(repeats, 128)).astype(np.float32)
    ours, base = [], []
    for q in queries:
        start = time.perf_counter()
        index.search(q, top_k=5)
        ours.append((time.perf_counter() - start) * 1000.0)
        start = time.perf_counter()  # baseline: normalise every row per query, full sort
        sims = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)) @ (q / np.linalg.norm(q))
        np.argsort(-sims)[:5]
        base.append((time.perf_counter() - start) * 1000.0)
    return {
        "p50_ms": statistics.median(ours),
        "p95_ms": _percentile(ours, 95),
        "baseline_p50_ms": statistics.median(base),
    }


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces-dir", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--reference-python", default=None, help="python with dlib + face_recognition")
    parser.add_argument("--markdown", action="store_true", help="also print the model-card table")
    parser.add_argument(
        "--thresholds",
        type=Path,
        default=None,
        help="the default embedder's thresholds (default: models/thresholds.toml)",
    )
    parser.add_argument("--reference-worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rss-worker", choices=["baseline", "models"], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_worker is not None:
        print(json.dumps(reference_worker(args.reference_worker)))
        return 0
    if args.rss_worker is not None:
        print(json.dumps(rss_worker(args.rss_worker)))
        return 0

    if not args.faces_dir.is_dir():
        print(f"error: {args.faces_dir} not found (pass --faces-dir)")
        return 1
    sets = sorted(d for d in args.faces_dir.iterdir() if (d / "identities.csv").is_file())
    paths = sorted({p for d in sets for a, b, _ in _pairs_of(d)["all pairs"] for p in (a, b)})
    print(f"sets: {', '.join(d.name for d in sets)}; {len(paths)} images; TFLite threads 1; BLAS threads 1")
    print(
        f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (latency figures include contention)"
    )

    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        chips = {p: chip_like(p, Path(tmp) / "chip_like") for p in paths}
        all_paths = paths + list(chips.values())
        from edge.vision.embedders import FAMILIES  # noqa: PLC0415

        runs = {name: run_ours(all_paths, name) for name in FAMILIES}
        from edge.vision.settings import VisionSettings  # noqa: PLC0415

        if args.thresholds is not None:  # a site's operating point for the default embedder (docs/face.md)
            runs[VisionSettings().embedder]["thresholds"] = args.thresholds
        ref = run_reference(all_paths, args.reference_python, Path(tmp))
    ours = runs["dlib_resnet_v1"]
    if ref is None:
        print("note: reference face_recognition unavailable (not importable here; pass --reference-python)")
    else:
        print(f"reference: face_recognition {ref['versions']['face_recognition']}, dlib {ref['versions']['dlib']}")
    for name, run in runs.items():
        print(f"ours, {name}: {run['model_version']}")
    print(
        "'A chip-like' = pairs.csv (else held-out B) with image_a replaced by a simulated chip photo (320 px, "
        "JPEG 2000 1:25); 'held-out B' = pairs of the identities of half B (calibration uses half A)"
    )

    rows = []
    header = f"{'set':<10} {'pairs':<12} {'system':<10} {'AUC':>7} {'EER':>7} {'TAR@1%':>7} {'TAR@.1%':>8}"
    header += f" {'FTE':>6} {'gen/imp':>9}"
    print(header)
    for d in sets:
        set_paths = sorted({p for a, b, _ in _pairs_of(d)["all pairs"] for p in (a, b)})
        pair_lists = _pairs_of(d)
        chip_source = pair_lists.get("pairs.csv", pair_lists["held-out B"])
        pair_lists["A chip-like"] = [(chips[a], b, same) for a, b, same in chip_source]
        for pairs_name, pairs in pair_lists.items():
            fte_paths = [chips[p] for p in set_paths] if pairs_name == "A chip-like" else set_paths
            for system, images, kind in (
                *((name, run["images"], "cosine") for name, run in runs.items()),
                ("reference", ref and ref["images"], "l2"),
            ):
                if images is None:
                    print(f"{d.name:<10} {pairs_name:<12} {system:<10} {'unavailable':>7}")
                    continue
                m = accuracy(pairs, images, kind)
                f = fte(fte_paths, images)
                rows.append((d.name, pairs_name, system, m, f))
                print(
                    f"{d.name:<10} {pairs_name:<12} {system:<10} {m['auc']:7.4f} {m['eer']:7.4f} "
                    f"{m['tar_far_1pct']:7.3f} {m['tar_far_0_1pct']:8.3f} {f:6.3f} "
                    f"{int(m['n_genuine']):>4}/{int(m['n_impostor']):<4}"
                )

    population_report(sets, chips, runs, ref)

    originals = {str(p) for p in paths}
    for name, run in runs.items():
        run_ms = [v["ms"] for k, v in run["images"].items() if k in originals and v["ms"] is not None]
        print(
            f"latency {name} (detect+align+quality[+mesh]+embed, 1 thread, {len(run_ms)} images at native size): "
            f"p50 {statistics.median(run_ms):.1f} ms, p95 {_percentile(run_ms, 95):.1f} ms"
        )
        stage_names = ("detect_ms", "align_ms", "quality_ms", "mesh_align_ms", "embed_ms")
        stage_p50 = {
            k: statistics.median(
                [v["stages"].get(k, 0.0) for p, v in run["images"].items() if p in originals and "stages" in v]
            )
            for k in stage_names
        }
        print("  stages p50: " + ", ".join(f"{k[:-3]} {v:.1f} ms" for k, v in stage_p50.items()))
    ours_ms = [v["ms"] for k, v in ours["images"].items() if k in originals and v["ms"] is not None]
    latency = {"ours": (statistics.median(ours_ms), _percentile(ours_ms, 95))}
    if ref is not None:
        ref_ms = [v["ms"] for k, v in ref["images"].items() if k in originals and v["ms"] is not None]
        latency["reference"] = (statistics.median(ref_ms), _percentile(ref_ms, 95))
        agree = [
            float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            for path, v in ours["images"].items()
            if path in originals
            and v["encoding"] is not None
            and ref["images"].get(path, {}).get("encoding") is not None
            for a, b in [(np.array(v["encoding"]), np.array(ref["images"][path]["encoding"]))]
        ]
        print(
            f"alignment agreement (cosine of our vs dlib's embedding of the same image, {len(agree)} images): "
            f"median {statistics.median(agree):.4f}, min {min(agree):.4f}"
        )
        print(
            f"latency reference (HOG detect + landmarks + ResNet): p50 {latency['reference'][0]:.1f} ms, "
            f"p95 {latency['reference'][1]:.1f} ms; ratio ours/reference p50 "
            f"{latency['ours'][0] / latency['reference'][0]:.3f}"
        )

    rss_base, rss_models = measure_rss("baseline"), measure_rss("models")
    print(
        f"peak RSS: process holding every face model (detector, both embedders, face mesh) {rss_models:.0f} MB "
        f"(python+numpy baseline {rss_base:.0f} MB)"
    )
    search = search_bench()
    print(
        f"1:N search 10000 x 128 top-5: p50 {search['p50_ms']:.3f} ms, p95 {search['p95_ms']:.3f} ms "
        f"(baseline normalise+full sort per query p50 {search['baseline_p50_ms']:.3f} ms)"
    )

    if args.markdown:
        print("\n| set | pairs | system | AUC | EER | TAR@FAR 1% | TAR@FAR 0.1% | FTE | genuine / impostor |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, pairs_name, system, m, f in rows:
            print(
                f"| {name} | {pairs_name} | {system} | {m['auc']:.4f} | {m['eer']:.4f} | {m['tar_far_1pct']:.3f} | "
                f"{m['tar_far_0_1pct']:.3f} | {f:.3f} | {int(m['n_genuine'])} / {int(m['n_impostor'])} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
