"""Verification metrics on genuine / impostor similarity scores (higher = more alike): FAR, FRR, AUC, EER, TAR@FAR.

Convention: a pair is accepted when ``score >= threshold``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]


def as_scores(values: Sequence[float] | Scores) -> Scores:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ValueError("scores must be finite")
    return arr


def far_frr(genuine: Scores, impostor: Scores, threshold: float) -> tuple[float, float]:
    """(false accept rate, false reject rate) at ``threshold``."""
    far = float(np.mean(impostor >= threshold)) if impostor.size else math.nan
    frr = float(np.mean(genuine < threshold)) if genuine.size else math.nan
    return far, frr


def threshold_at_far(impostor: Scores, target_far: float) -> float:
    """Lowest threshold whose empirical FAR is <= ``target_far``.

    With ``k = floor(target_far * n)`` impostors allowed above it, this is just above the (k+1)-th highest
    impostor score. With fewer than ``1 / target_far`` impostors k is 0: the threshold sits just above the highest
    impostor and the real FAR is unknown below ``1 / n`` (say so when reporting it).
    """
    if impostor.size == 0:
        raise ValueError("no impostor scores")
    ordered = np.sort(impostor)[::-1]
    allowed = math.floor(target_far * impostor.size + 1e-9)
    return float(np.nextafter(ordered[min(allowed, ordered.size - 1)], math.inf))


def threshold_at_frr(genuine: Scores, target_frr: float) -> float:
    """Highest threshold whose empirical FRR is <= ``target_frr`` (at most floor(target_frr*n) genuine below)."""
    if genuine.size == 0:
        raise ValueError("no genuine scores")
    ordered = np.sort(genuine)
    allowed = math.floor(target_frr * genuine.size + 1e-9)
    return float(ordered[min(allowed, ordered.size - 1)])


def roc_points(genuine: Scores, impostor: Scores) -> tuple[Scores, Scores, Scores]:
    """(thresholds, FAR, FRR) at every distinct score, thresholds descending."""
    thresholds = np.unique(np.concatenate([genuine, impostor]))[::-1]
    far = np.array([np.mean(impostor >= t) for t in thresholds]) if impostor.size else np.full(len(thresholds), np.nan)
    frr = np.array([np.mean(genuine < t) for t in thresholds]) if genuine.size else np.full(len(thresholds), np.nan)
    return thresholds, far, frr


def auc(genuine: Scores, impostor: Scores) -> float:
    """Area under the ROC = P(genuine score > impostor score), ties counted half (Mann-Whitney)."""
    if genuine.size == 0 or impostor.size == 0:
        return math.nan
    greater = (genuine[:, None] > impostor[None, :]).sum()
    ties = (genuine[:, None] == impostor[None, :]).sum()
    return float((greater + 0.5 * ties) / (genuine.size * impostor.size))


def eer(genuine: Scores, impostor: Scores) -> float:
    """Equal error rate: FAR = FRR, interpolated between the two closest operating points."""
    if genuine.size == 0 or impostor.size == 0:
        return math.nan
    _, far, frr = roc_points(genuine, impostor)
    diff = far - frr  # rises from <= 0 to >= 0 as the threshold falls
    idx = int(np.argmax(diff >= 0))
    if idx == 0:
        return float((far[0] + frr[0]) / 2)
    d0, d1 = diff[idx - 1], diff[idx]
    w = 0.0 if d1 == d0 else float(-d0 / (d1 - d0))
    far_i = far[idx - 1] + w * (far[idx] - far[idx - 1])
    frr_i = frr[idx - 1] + w * (frr[idx] - frr[idx - 1])
    return float((far_i + frr_i) / 2)


def tar_at_far(genuine: Scores, impostor: Scores, target_far: float) -> tuple[float, float]:
    """(true accept rate, threshold) at the threshold from ``threshold_at_far``."""
    if genuine.size == 0 or impostor.size == 0:
        return math.nan, math.nan
    threshold = threshold_at_far(impostor, target_far)
    return float(np.mean(genuine >= threshold)), threshold
