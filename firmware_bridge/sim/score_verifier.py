"""A stand-in face verifier for lane tests and bring-up: the score of each live frame comes from a table.

Scores are keyed by the live frame's source file stem (the folder camera sets ``Frame.source`` to
``folder:<file name>``).
It never looks at pixels; the gate says so in its output when it is in use. The real one is ``edge.vision``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from edge.devices import FaceResult, Frame, ReferenceImage


class ScoreTableVerifier:
    model_version = "simulated-score-table"

    def __init__(self, scores: Mapping[str, float | None]) -> None:
        self.scores = dict(scores)

    def verify(self, live: Sequence[Frame], references: Sequence[ReferenceImage]) -> FaceResult:
        if not references:
            return FaceResult(similarity=None, reasons=("E_NO_REFERENCE_PHOTO",), model_version=self.model_version)
        best: float | None = None
        for frame in live:
            score = self.scores.get(Path(frame.source.rsplit(":", 1)[-1]).stem)
            if score is not None and (best is None or score > best):
                best = score
        reasons = () if best is not None else ("E_NO_FACE",)
        scores: dict[str, float] = {ref.label: best for ref in references} if best is not None else {}
        return FaceResult(
            similarity=best, scores=scores, reasons=reasons, frames_used=len(live), model_version=self.model_version
        )
