"""Active PAD challenge checker (issue #12): pure functions on per-frame face meshes, no I/O.

Head turn: the nose tip (mesh point 1) is projected on the axis from the candidate's right cheek (point 234) to
their left cheek (point 454). ``yaw`` = projection - 0.5, so 0 is frontal and a POSITIVE yaw means the nose moved
towards the candidate's own LEFT (independent of camera mirroring, because it uses landmark identity, not image x).
Blink: the eye aspect ratio (``landmarks.eye_aspect_ratio``) drops below ``EAR_CLOSED`` and recovers above
``EAR_OPEN`` afterwards.

Only the asked action counts: a turn must start near frontal (``|yaw| <= FRONTAL_MAX`` in the first frame, so a
head that starts turned and comes back does not pass as the other turn) and fails when the head also turned the
other way; a blink fails when the head also turned. A clip that plays every action in a row therefore fails
whichever action was asked.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from edge.vision.pad.landmarks import eye_aspect_ratio

Action = Literal["turn_left", "turn_right", "blink"]
ACTIONS: tuple[Action, ...] = get_args(Action)
PROMPTS_VI: dict[Action, str] = {
    "turn_left": "Quay đầu sang trái",
    "turn_right": "Quay đầu sang phải",
    "blink": "Chớp mắt",
}
NOSE_TIP = 1
RIGHT_CHEEK = 234  # the candidate's right
LEFT_CHEEK = 454  # the candidate's left
TURN_MIN = 0.15  # yaw change from the first frame needed for a turn
FRONTAL_MAX = 0.1  # |yaw| of the first frame for a turn to count (the test photos' frontal face: 0.02)
EAR_CLOSED = 0.18
EAR_OPEN = 0.22


@dataclass(frozen=True)
class ChallengeResult:
    action: Action
    passed: bool
    signals: dict[str, float]


def pick_action(rng: random.Random) -> Action:
    return rng.choice(ACTIONS)


def yaw(points: npt.NDArray[np.float64]) -> float:
    """Nose position between the cheeks, -0.5..0.5; positive = towards the candidate's left."""
    right, left, nose = points[RIGHT_CHEEK], points[LEFT_CHEEK], points[NOSE_TIP]
    axis = left - right
    norm2 = float(np.dot(axis, axis))
    if norm2 < 1e-9:
        return 0.0
    return float(np.dot(nose - right, axis) / norm2) - 0.5


def check_challenge(action: Action, meshes: Sequence[npt.NDArray[np.float64]]) -> ChallengeResult:
    if not meshes:
        return ChallengeResult(action, False, {"frames": 0.0})
    signals: dict[str, float] = {"frames": float(len(meshes))}
    yaws = [yaw(m) for m in meshes]
    left = max(y - yaws[0] for y in yaws)  # towards the candidate's left, from the first frame
    right = max(yaws[0] - y for y in yaws)
    if action == "blink":
        ears = [eye_aspect_ratio(m) for m in meshes]
        low = int(np.argmin(ears))
        recovered = max(ears[low:])
        opened_before = max(ears[: low + 1])
        signals.update(ear_min=ears[low], ear_before=opened_before, ear_after=recovered, turn_any=max(left, right))
        blinked = ears[low] < EAR_CLOSED and opened_before >= EAR_OPEN and recovered >= EAR_OPEN
        return ChallengeResult(action, blinked and max(left, right) < TURN_MIN, signals)
    turn, other = (left, right) if action == "turn_left" else (right, left)
    signals.update(yaw_start=yaws[0], turn=turn, turn_other=other)
    passed = turn >= TURN_MIN and other < TURN_MIN and abs(yaws[0]) <= FRONTAL_MAX
    return ChallengeResult(action, passed, signals)
