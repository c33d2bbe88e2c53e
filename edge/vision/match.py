"""Matching: cosine similarity of L2-normalised embeddings, the chip/roster fusion rule, and 1:N roster search.

Cosine similarity is the dot product of unit vectors, in [-1, 1]; higher = more alike. For dlib's descriptors
dlib's "Euclidean distance < 0.6" rule corresponds to cosine > 1 - 0.6²/2 = 0.82 on unit vectors, but the
thresholds ExamGate uses are calibrated (``edge/vision/calibrate.py``), never fixed.

Fusion (1:1 against several references): the chip photo (signed, DG2) is authoritative; its score is the fused
score. A roster photo only adds evidence: its score is reported, and when it disagrees with the chip across the
review threshold the reason ``E_ROSTER_DISAGREES`` is raised, which the policy turns into a review. When no chip
score exists (officer-assisted paths without a chip) the roster score is the fused score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.errors import ExamGateError
from edge.vision.embed import EMBEDDING_DIM, Embedding

E_ROSTER_DISAGREES = "E_ROSTER_DISAGREES"
CHIP, ROSTER = "chip", "roster"


class EmbeddingMismatchError(ExamGateError):
    """Two embeddings of different sizes come from different models: their similarity means nothing."""

    code = "E_EMBEDDING_MISMATCH"
    remedy = (
        "embeddings from another model or model size cannot be compared: re-enrol the roster with the current model"
    )


def _same_size(a: npt.NDArray[np.floating], b_size: int, what: str) -> None:
    if a.ndim != 1 or a.shape[0] != b_size:
        raise EmbeddingMismatchError(f"{what}: embedding of shape {a.shape} against {b_size}-D embeddings")


def cosine_similarity(a: Embedding, b: Embedding) -> float:
    """Cosine of two embeddings (they are normalised here too, so raw vectors are fine)."""
    _same_size(np.asarray(a), int(np.asarray(b).size), "cosine similarity")
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na <= 1e-12 or nb <= 1e-12:
        raise ValueError("zero-length embedding")
    return float(np.dot(a, b) / (na * nb))


@dataclass(frozen=True)
class FusedScore:
    similarity: float | None
    reasons: tuple[str, ...]


def fuse_scores(scores: Mapping[str, float], review_threshold: float) -> FusedScore:
    """Apply the fusion rule above to per-reference scores (keys ``chip`` / ``roster``)."""
    chip, roster = scores.get(CHIP), scores.get(ROSTER)
    if chip is None:
        return FusedScore(roster, ())
    reasons: tuple[str, ...] = ()
    if roster is not None and (chip >= review_threshold) != (roster >= review_threshold):
        reasons = (E_ROSTER_DISAGREES,)
    return FusedScore(chip, reasons)


class RosterIndex:
    """A matrix of unit embeddings (one row per enrolled person) for 1:N search with one matrix-vector product."""

    def __init__(self, ids: Sequence[str], embeddings: npt.NDArray[np.float32]) -> None:
        if embeddings.ndim != 2 or embeddings.shape[1] != EMBEDDING_DIM or embeddings.shape[0] != len(ids):
            raise ValueError(f"expected {len(ids)} x {EMBEDDING_DIM} embeddings, got {embeddings.shape}")
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        if np.any(norms <= 1e-12):
            raise ValueError("roster contains a zero-length embedding")
        self._ids = list(ids)
        self._matrix = np.ascontiguousarray(embeddings / norms, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: Embedding, top_k: int = 5) -> list[tuple[str, float]]:
        """The ``top_k`` most similar roster entries as (id, cosine similarity), best first."""
        if not self._ids:
            return []
        q = np.asarray(query, dtype=np.float32)
        _same_size(q, int(self._matrix.shape[1]), "roster search")
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        sims = self._matrix @ q
        k = min(top_k, len(self._ids))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self._ids[i], float(sims[i])) for i in top]
