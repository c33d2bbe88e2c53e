"""Compare still images pairwise (CLI ``face compare``, calibration, bench), each image processed once.

Both images go through the reference-photo gates; their reason codes are reported but do not change the
decision, which comes from the similarity alone (match / review / no_match). ``no_face`` (similarity None) is
given when either image has no face *or cannot be read*; for unreadable images the error code
(E_IMAGE_NOT_FOUND, E_IMAGE_UNREADABLE, ...) is in ``reasons``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import ExamGateError, ImageError
from edge.vision.embed import Embedding
from edge.vision.match import cosine_similarity
from edge.vision.pipeline import FacePipeline
from edge.vision.quality import GateProfile
from edge.vision.thresholds import Thresholds

NO_FACE = "no_face"


class PairsFileError(ExamGateError):
    code = "E_PAIRS_INVALID"
    remedy = "give a CSV with the header image_a,image_b[,same]; paths are relative to the CSV's folder"


@dataclass(frozen=True)
class Pair:
    image_a: str  # as written in the CSV
    image_b: str
    path_a: Path
    path_b: Path
    same: bool | None


@dataclass
class ImageFace:
    embedding: Embedding | None
    reasons: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)


def _csv_rows(csv_path: Path, what: str) -> list[dict[str, str]]:
    """The rows of a CSV file (a BOM is allowed); E_PAIRS_INVALID when the ``what`` file is missing or unreadable."""
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise PairsFileError(f"{what} file not found: {csv_path}") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PairsFileError(f"{csv_path}: cannot read CSV ({exc})") from exc


def read_pairs(csv_path: Path) -> list[Pair]:
    """Rows of a pairs CSV (header ``image_a,image_b`` and optional ``same`` in 0/1/true/false)."""
    rows = _csv_rows(csv_path, "pairs")
    header = rows[0].keys() if rows else set()
    if not rows:
        raise PairsFileError(f"{csv_path}: no rows")
    if not {"image_a", "image_b"} <= set(header):
        raise PairsFileError(f"{csv_path}: header must contain image_a,image_b (got {','.join(header)})")
    base = csv_path.parent
    pairs = []
    for line_no, row in enumerate(rows, start=2):
        a, b = (row.get("image_a") or "").strip(), (row.get("image_b") or "").strip()
        if not a or not b:
            raise PairsFileError(f"{csv_path}:{line_no}: empty image_a or image_b")
        same_text = (row.get("same") or "").strip().lower()
        same: bool | None = None
        if same_text in ("1", "true", "yes"):
            same = True
        elif same_text in ("0", "false", "no"):
            same = False
        elif same_text:
            raise PairsFileError(f"{csv_path}:{line_no}: same must be 0 or 1, got {same_text!r}")
        pairs.append(Pair(a, b, base / a, base / b, same))
    return pairs


IDENTITY_HALVES = ("A", "B")


def identity_half(identity: str) -> str:
    """The split half ("A" or "B") of an identity: fixed by the SHA-256 of its label, so every image of one person
    falls in the same half and a set is split BY IDENTITY (calibrate on one half, report on the other)."""
    return IDENTITY_HALVES[hashlib.sha256(identity.encode("utf-8")).digest()[0] % 2]


def pairs_from_identities(csv_path: Path, half: str | None = None) -> list[Pair]:
    """Every pair of images from an ``image,identity`` CSV: same identity = genuine, else impostor.

    With ``half`` ("A"/"B") only the identities of that half (:func:`identity_half`) are paired."""
    rows = _csv_rows(csv_path, "identities")
    if not rows or not {"image", "identity"} <= set(rows[0].keys()):
        raise PairsFileError(
            f"{csv_path}: need a header image,identity and at least one row",
            remedy="give a CSV with the header image,identity; paths are relative to the CSV's folder",
        )
    items = [((r.get("image") or "").strip(), (r.get("identity") or "").strip()) for r in rows]
    if any(not image or not identity for image, identity in items):
        raise PairsFileError(f"{csv_path}: empty image or identity")
    if half is not None:
        if half not in IDENTITY_HALVES:
            raise PairsFileError(f"unknown half {half!r}", remedy="give --half A or --half B")
        items = [(image, identity) for image, identity in items if identity_half(identity) == half]
    base = csv_path.parent
    return [Pair(a, b, base / a, base / b, id_a == id_b) for (a, id_a), (b, id_b) in itertools.combinations(items, 2)]


class Comparer:
    """Scores image pairs with one pipeline, caching each image's embedding by its resolved path."""

    def __init__(self, pipeline: FacePipeline, thresholds: Thresholds | None) -> None:
        self.pipeline = pipeline
        self.thresholds = thresholds
        self._cache: dict[str, ImageFace] = {}

    def face_of(self, path: Path) -> ImageFace:
        key = str(path.resolve())
        if key in self._cache:
            return self._cache[key]
        timings: dict[str, float] = {}
        start = time.perf_counter()
        try:
            image = self.pipeline.decode(path)
        except ImageError as exc:
            result = ImageFace(None, (exc.code,), timings)
        else:
            timings["decode_ms"] = round((time.perf_counter() - start) * 1000.0, 3)
            analysis = self.pipeline.analyse(image, GateProfile.REFERENCE)
            timings.update(analysis.timings_ms)
            vector = None
            if analysis.has_face:
                vector, timings["embed_ms"] = self.pipeline.embed(analysis)
            result = ImageFace(vector, analysis.reasons, timings)
        self._cache[key] = result
        return result

    def similarity(self, path_a: Path, path_b: Path) -> float | None:
        a, b = self.face_of(path_a), self.face_of(path_b)
        if a.embedding is None or b.embedding is None:
            return None
        return cosine_similarity(a.embedding, b.embedding)

    def compare(
        self, path_a: Path, path_b: Path, name_a: str | None = None, name_b: str | None = None
    ) -> dict[str, Any]:
        """The CLI's JSON object for one pair (needs thresholds for the decision)."""
        if self.thresholds is None:
            raise ValueError("Comparer was built without thresholds")
        a, b = self.face_of(path_a), self.face_of(path_b)
        timings: dict[str, float] = {}
        for part in (a.timings_ms, b.timings_ms):
            for key, value in part.items():
                timings[key] = round(timings.get(key, 0.0) + value, 3)
        start = time.perf_counter()
        similarity = None
        if a.embedding is not None and b.embedding is not None:
            similarity = round(cosine_similarity(a.embedding, b.embedding), 6)
        timings["match_ms"] = round((time.perf_counter() - start) * 1000.0, 3)
        timings["total_ms"] = round(sum(v for k, v in timings.items() if k != "total_ms"), 3)
        decision = NO_FACE if similarity is None else self.thresholds.decide(similarity)
        return {
            "image_a": name_a if name_a is not None else str(path_a),
            "image_b": name_b if name_b is not None else str(path_b),
            "similarity": similarity,
            "decision": decision,
            "reasons": list(dict.fromkeys([*a.reasons, *b.reasons])),
            "timings_ms": timings,
        }
