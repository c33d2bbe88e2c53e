"""Calibrate match / review thresholds from labelled image pairs and write a versioned thresholds TOML.

Rule (see docs/face.md):
- ``match`` = the lowest threshold whose empirical FAR on the impostor pairs is <= target FAR. With fewer than
  1/target_far impostor pairs that is "just above the highest impostor score", and the real FAR is not measured.
- ``review`` = the lower of (a) the threshold at FAR = review FAR (default 10 x target FAR) and (b) the highest
  threshold whose empirical FRR is <= target FRR (default 1%). So at most 1% of genuine candidates fall below
  review (fail outright), and the grey zone reaches at least down to where 10x more impostors would pass; between
  review and match a proctor decides. Never above ``match``.
Pairs where either image has no usable face are left out of both score lists and counted as ``n_no_face``.
A DET curve and score histograms are written as PNG next to the TOML (``<stem>_det.png``, ``<stem>_hist.png``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.errors import ExamGateError
from edge.vision.compare import Comparer, Pair
from edge.vision.metrics import Scores, as_scores, far_frr, threshold_at_far, threshold_at_frr
from edge.vision.plots import png_figure
from edge.vision.thresholds import Thresholds, load_thresholds, render_thresholds


class CalibrationError(ExamGateError):
    code = "E_CALIBRATION_FAILED"
    remedy = "give pairs files with a 'same' column holding both genuine (1) and impostor (0) pairs with faces"


@dataclass(frozen=True)
class PairScores:
    genuine: Scores
    impostor: Scores
    n_no_face: int


@dataclass(frozen=True)
class CalibrationOutcome:
    thresholds: Thresholds
    toml_path: Path
    plot_paths: tuple[Path, ...]
    scores: PairScores


def score_pairs(comparer: Comparer, pairs: Sequence[Pair]) -> PairScores:
    genuine: list[float] = []
    impostor: list[float] = []
    no_face = 0
    for pair in pairs:
        if pair.same is None:
            raise CalibrationError(f"pair {pair.image_a},{pair.image_b} has no 'same' label")
        score = comparer.similarity(pair.path_a, pair.path_b)
        if score is None:
            no_face += 1
        elif pair.same:
            genuine.append(score)
        else:
            impostor.append(score)
    return PairScores(as_scores(genuine), as_scores(impostor), no_face)


def _review_far(target_far: float, review_far: float | None) -> float:
    """The FAR the review threshold is set at: as given, else 10 x the target FAR (at most 0.5)."""
    return min(10.0 * target_far, 0.5) if review_far is None else review_far


def choose_thresholds(
    scores: PairScores, target_far: float, target_frr: float, review_far: float | None = None
) -> tuple[float, float]:
    """(match, review) by the rule in the module docstring."""
    if scores.genuine.size == 0 or scores.impostor.size == 0:
        raise CalibrationError(
            f"need genuine and impostor scores, got {scores.genuine.size} genuine / {scores.impostor.size} impostor"
        )
    match = threshold_at_far(scores.impostor, target_far)
    review_far = _review_far(target_far, review_far)
    review = min(threshold_at_frr(scores.genuine, target_frr), threshold_at_far(scores.impostor, review_far), match)
    # 6 decimals in the file: round match up (never admit more impostors) and review down
    return math.ceil(match * 1e6) / 1e6, math.floor(review * 1e6) / 1e6


def _plot(scores: PairScores, match: float, review: float, stem: Path) -> tuple[Path, ...]:
    det_path = stem.with_name(stem.name + "_det.png")
    hist_path = stem.with_name(stem.name + "_hist.png")
    thresholds = np.unique(np.concatenate([scores.genuine, scores.impostor]))
    far = np.array([np.mean(scores.impostor >= t) for t in thresholds])
    frr = np.array([np.mean(scores.genuine < t) for t in thresholds])
    floor = 0.5 / max(scores.impostor.size, scores.genuine.size)
    with png_figure(det_path, (5, 5)) as ax:
        ax.loglog(np.maximum(far, floor), np.maximum(frr, floor), marker=".", lw=1)
        for value, label in ((match, "match"), (review, "review")):
            f, r = far_frr(scores.genuine, scores.impostor, value)
            ax.plot(max(f, floor), max(r, floor), "o", label=f"{label} {value:.3f}: FAR {f:.4f} FRR {r:.4f}")
        ax.set_xlabel("false accept rate (log)")
        ax.set_ylabel("false reject rate (log)")
        ax.set_title(f"DET ({scores.genuine.size} genuine / {scores.impostor.size} impostor pairs)")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)

    with png_figure(hist_path, (6, 4)) as ax:
        low = math.floor(float(min(scores.genuine.min(), scores.impostor.min(), review)) * 20) / 20
        bins = [float(b) for b in np.linspace(low, 1.0, 61)]
        ax.hist(scores.impostor, bins=bins, alpha=0.6, label="impostor")
        ax.hist(scores.genuine, bins=bins, alpha=0.6, label="genuine")
        ax.axvline(match, color="k", ls="--", label=f"match {match:.3f}")
        ax.axvline(review, color="gray", ls=":", label=f"review {review:.3f}")
        ax.set_xlabel("cosine similarity")
        ax.set_ylabel("pairs")
        ax.legend(fontsize=7)
    return det_path, hist_path


def write_calibration(
    scores: PairScores,
    *,
    target_far: float,
    target_frr: float,
    review_far: float | None = None,
    pairs_file: str,
    model_version: str,
    out: Path,
    plots: bool = True,
    now: dt.datetime | None = None,
) -> CalibrationOutcome:
    """Choose thresholds, write the TOML (and plots) to ``out``; returns what was written."""
    review_far = _review_far(target_far, review_far)
    if not 0.0 < target_far < 1.0 or not 0.0 <= target_frr < 1.0 or not target_far <= review_far < 1.0:
        raise CalibrationError(
            f"targets out of range: target_far={target_far}, target_frr={target_frr}, review_far={review_far}",
            remedy="use 0 < target_far <= review_far < 1 and 0 <= target_frr < 1",
        )
    match, review = choose_thresholds(scores, target_far, target_frr, review_far)
    far, frr = far_frr(scores.genuine, scores.impostor, match)
    stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    calibration: dict[str, object] = {
        "target_far": target_far,
        "pairs_file": pairs_file,
        "n_genuine": int(scores.genuine.size),
        "n_impostor": int(scores.impostor.size),
        "far_at_match": round(far, 6),
        "frr_at_match": round(frr, 6),
        "created_at": stamp.isoformat().replace("+00:00", "Z"),
    }
    notes = [
        f"review rule: min(threshold at FAR {review_far}, threshold at FRR {target_frr}, match)",
        f"pairs without a usable face (left out): {scores.n_no_face}",
        f"FAR resolution 1/n_impostor = {1.0 / scores.impostor.size:.6f}"
        + (
            " (coarser than target_far: match sits above the highest impostor)"
            if 1.0 / scores.impostor.size > target_far
            else ""
        ),
    ]
    text = render_thresholds(
        match=match,
        review=review,
        model_version=model_version,
        calibration=calibration,
        notes=notes,
        date_yyyymmdd=stamp.strftime("%Y%m%d"),
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CalibrationError(f"cannot write {out}: {exc}", remedy="choose a writable --out path") from exc
    plot_paths = _plot(scores, match, review, out.with_suffix("")) if plots else ()
    return CalibrationOutcome(load_thresholds(out), out, plot_paths, scores)
