"""``TfliteFaceVerifier``: the lane's ``edge.devices.FaceVerifier`` built on MediaPipe detection + dlib ResNet (TFLite).

verify(live frames, references):
1. References (chip DG2, roster photo) are decoded, checked with the reference-photo gates and embedded.
   Unreadable / faceless -> ``E_CHIP_PHOTO_UNUSABLE`` / ``E_ROSTER_PHOTO_UNUSABLE`` (no score for it);
   a face that fails a reference gate is still scored but flagged ``E_CHIP_PHOTO_POOR`` / ``E_ROSTER_PHOTO_POOR``.
2. Live frames newer than ``frame_window_s`` before the newest one are analysed with the live gates; the
   ``max_frames_embedded`` best-ranked frames that pass every gate are embedded and scored.
   No reference at all -> ``E_NO_REFERENCE``.
3. The frame with the highest fused score (``edge.vision.match.fuse_scores``) wins: its scores, its image.
   No usable live frame -> similarity None and the gate reasons of the frame that came closest.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from edge.devices import FaceResult, Frame, ReferenceImage, RgbImage
from edge.errors import ImageError
from edge.vision.embed import Embedding
from edge.vision.match import E_ROSTER_DISAGREES, cosine_similarity, fuse_scores
from edge.vision.pipeline import FaceAnalysis, FacePipeline
from edge.vision.quality import E_NO_FACE, GateProfile
from edge.vision.settings import VisionSettings
from edge.vision.thresholds import Thresholds, check_model_version

E_NO_REFERENCE = "E_NO_REFERENCE"
E_CHIP_PHOTO_UNUSABLE = "E_CHIP_PHOTO_UNUSABLE"
E_CHIP_PHOTO_POOR = "E_CHIP_PHOTO_POOR"
E_ROSTER_PHOTO_UNUSABLE = "E_ROSTER_PHOTO_UNUSABLE"
E_ROSTER_PHOTO_POOR = "E_ROSTER_PHOTO_POOR"
_UNUSABLE = {"chip": E_CHIP_PHOTO_UNUSABLE, "roster": E_ROSTER_PHOTO_UNUSABLE}
_POOR = {"chip": E_CHIP_PHOTO_POOR, "roster": E_ROSTER_PHOTO_POOR}
# Reasons that are evidence for a proctor's review even when a score exists (for the lane's policy).
REVIEW_EVIDENCE = frozenset({E_ROSTER_DISAGREES, E_CHIP_PHOTO_UNUSABLE, E_CHIP_PHOTO_POOR, E_ROSTER_PHOTO_UNUSABLE})


def _add(timings: dict[str, float], key: str, value_ms: float) -> None:
    timings[key] = round(timings.get(key, 0.0) + value_ms, 3)


class TfliteFaceVerifier:
    """Face verification for one lane; construct once (models load once), call ``verify`` per candidate."""

    def __init__(
        self,
        thresholds: Thresholds,
        settings: VisionSettings | None = None,
        pipeline: FacePipeline | None = None,
    ) -> None:
        self._settings = settings or VisionSettings()
        self._pipeline = pipeline or FacePipeline.shared(self._settings)
        self._thresholds = thresholds
        _ = self._pipeline.embedder  # load now: fail at start-up, not at the first candidate
        if self._pipeline.family.uses_face_mesh:
            _ = self._pipeline.landmarker  # its chip's landmarks: the same
        self._model_version = self._pipeline.model_version
        check_model_version(thresholds, self._model_version)

    @property
    def model_version(self) -> str:
        return self._model_version

    def _reference_embeddings(
        self, references: Sequence[ReferenceImage], timings: dict[str, float], reasons: list[str]
    ) -> dict[str, Embedding]:
        out: dict[str, Embedding] = {}
        for ref in references:
            start = time.perf_counter()
            try:
                image = self._pipeline.decode(ref.data)
            except ImageError:
                reasons.append(_UNUSABLE[ref.label])
                continue
            finally:
                _add(timings, "decode_ms", (time.perf_counter() - start) * 1000.0)
            analysis = self._pipeline.analyse(image, GateProfile.REFERENCE)
            for key, value in analysis.timings_ms.items():
                _add(timings, key, value)
            if not analysis.has_face:
                reasons.append(_UNUSABLE[ref.label])
                continue
            if analysis.reasons:
                reasons.append(_POOR[ref.label])
            vector, embed_ms = self._pipeline.embed(analysis)
            _add(timings, "embed_ms", embed_ms)
            out[ref.label] = vector
        return out

    def _live_analyses(self, live: Sequence[Frame], timings: dict[str, float]) -> list[tuple[Frame, FaceAnalysis]]:
        if not live:
            return []
        newest = max(frame.captured_monotonic_s for frame in live)
        recent = [f for f in live if f.captured_monotonic_s >= newest - self._settings.frame_window_s]
        analyses = []
        for frame in recent:
            try:
                analysis = self._pipeline.analyse(frame.image, GateProfile.LIVE)
            except ImageError:
                continue  # a malformed camera frame counts as no frame
            for key, value in analysis.timings_ms.items():
                _add(timings, key, value)
            analyses.append((frame, analysis))
        return analyses

    def verify(self, live: Sequence[Frame], references: Sequence[ReferenceImage]) -> FaceResult:
        start_total = time.perf_counter()
        timings: dict[str, float] = {}
        reasons: list[str] = []
        refs = self._reference_embeddings(references, timings, reasons)
        if not references:
            reasons.append(E_NO_REFERENCE)
        analysed = self._live_analyses(live, timings)
        usable = [(f, a) for f, a in analysed if a.usable]
        usable.sort(key=lambda fa: fa[1].quality.rank_score if fa[1].quality else 0.0, reverse=True)
        chosen = usable[: self._settings.max_frames_embedded]

        best: tuple[float, dict[str, float], RgbImage] | None = None
        best_reasons: tuple[str, ...] = ()
        if not chosen:
            # the frame that came closest: one with a face before one without, then the fewest failed gates
            closest = min(analysed, key=lambda fa: (not fa[1].has_face, len(fa[1].reasons)), default=None)
            reasons = [*(closest[1].reasons if closest else (E_NO_FACE,)), *reasons]
        elif refs:
            for frame, analysis in chosen:
                vector, embed_ms = self._pipeline.embed(analysis)
                _add(timings, "embed_ms", embed_ms)
                start = time.perf_counter()
                scores = {label: round(cosine_similarity(vector, ref), 6) for label, ref in refs.items()}
                fused = fuse_scores(scores, self._thresholds.review)
                _add(timings, "match_ms", (time.perf_counter() - start) * 1000.0)
                if fused.similarity is not None and (best is None or fused.similarity > best[0]):
                    best = (fused.similarity, scores, frame.image)
                    best_reasons = fused.reasons
        timings["total_ms"] = round((time.perf_counter() - start_total) * 1000.0, 3)
        return FaceResult(
            similarity=best[0] if best else None,
            scores=best[1] if best else {},
            reasons=tuple(dict.fromkeys([*reasons, *best_reasons])),
            frames_used=len(chosen) if refs else 0,
            model_version=self._model_version,
            timings_ms=timings,
            best_frame=best[2] if best else (chosen[0][0].image if chosen else None),
        )
