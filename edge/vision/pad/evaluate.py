"""ISO/IEC 30107-3 figures from labelled PAD scores: APCER per species, BPCER, ACER, BPCER at APCER 5 % / 1 %, DET.

A presentation classified ``bona_fide`` when its score >= threshold. An item without a usable face scores 0.0: an
attack is then rejected (not an APCER error), a bona fide presentation is rejected (a BPCER error).
APCER (the ISO headline) is the worst species' APCER; ACER = (APCER + BPCER) / 2.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import ExamGateError
from edge.vision.plots import png_figure

LABELS = ("bona_fide", "attack")


class PadLabelsError(ExamGateError):
    code = "E_PAD_LABELS"
    remedy = "the labels CSV needs the header image,label,species; label is bona_fide or attack"


@dataclass(frozen=True)
class LabelledItem:
    image: str
    label: str
    species: str


def read_labels(path: Path) -> list[LabelledItem]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PadLabelsError(f"cannot read {path}: {exc}") from exc
    items = []
    for n, row in enumerate(rows, start=2):
        if not {"image", "label"} <= set(row) or row["label"] not in LABELS:
            raise PadLabelsError(f"{path}:{n}: need image,label[,species] with label bona_fide|attack, got {row}")
        species = (row.get("species") or "").strip() or ("bona_fide" if row["label"] == "bona_fide" else "unknown")
        items.append(LabelledItem(row["image"], row["label"], species))
    if not any(i.label == "bona_fide" for i in items) or not any(i.label == "attack" for i in items):
        raise PadLabelsError(f"{path}: both bona_fide and attack rows are needed")
    return items


def _rate(wrong: np.ndarray) -> float:
    return float(wrong.mean()) if wrong.size else 0.0


def figures(scores: np.ndarray, labels: list[str], species: list[str], threshold: float) -> dict[str, Any]:
    lab, spc = np.array(labels), np.array(species)
    bona = scores[lab == "bona_fide"]
    apcer = {s: _rate(scores[(lab == "attack") & (spc == s)] >= threshold) for s in sorted(set(spc[lab == "attack"]))}
    worst = max(apcer.values())
    bpcer = _rate(bona < threshold)
    return {
        "threshold": threshold,
        "apcer_per_species": apcer,
        "apcer": worst,
        "bpcer": bpcer,
        "acer": (worst + bpcer) / 2,
    }


def det_curve(scores: np.ndarray, labels: list[str], species: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, worst-species APCER, BPCER) over every distinct score and 1.0 + eps."""
    ths = np.unique(np.concatenate([scores, [np.nextafter(1.0, 2.0)]]))
    ap, bp = [], []
    for t in ths:
        f = figures(scores, labels, species, float(t))
        ap.append(f["apcer"])
        bp.append(f["bpcer"])
    return ths, np.array(ap), np.array(bp)


def bpcer_at_apcer(scores: np.ndarray, labels: list[str], species: list[str], target: float) -> dict[str, float]:
    """Lowest threshold whose worst-species APCER <= target, and the BPCER there."""
    ths, ap, bp = det_curve(scores, labels, species)
    ok = np.flatnonzero(ap <= target)
    i = int(ok[0])  # exists: above the highest score APCER is 0
    return {"threshold": float(ths[i]), "apcer": float(ap[i]), "bpcer": float(bp[i])}


def det_png(scores: np.ndarray, labels: list[str], species: list[str], op: dict[str, Any], out: Path) -> None:
    _, ap, bp = det_curve(scores, labels, species)
    with png_figure(out, (5, 5)) as ax:
        ax.step(ap * 100, bp * 100, where="post", label="DET (worst-species APCER)")
        ax.plot([op["apcer"] * 100], [op["bpcer"] * 100], "ro", label=f"operating point t={op['threshold']:.3f}")
        ax.set_xlabel("APCER (%)")
        ax.set_ylabel("BPCER (%)")
        ax.set_xlim(-1, 101)
        ax.set_ylim(-1, 101)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right")
