import random

import numpy as np
import numpy.typing as npt
import pytest

from edge.vision.pad import challenge as ch
from edge.vision.pad.landmarks import LEFT_EYE_IDX, RIGHT_EYE_IDX


def mesh(yaw: float = 0.0, ear: float = 0.3) -> npt.NDArray[np.float64]:
    pts = np.zeros((468, 2))
    # candidate faces the camera: their right cheek at image x=100, left cheek at x=200
    pts[ch.RIGHT_CHEEK] = (100.0, 150.0)
    pts[ch.LEFT_CHEEK] = (200.0, 150.0)
    pts[ch.NOSE_TIP] = (150.0 + 100.0 * yaw, 160.0)
    for cx, idx in ((125.0, RIGHT_EYE_IDX), (175.0, LEFT_EYE_IDX)):
        outer, inner, u1, l1, u2, l2 = idx
        pts[outer], pts[inner] = (cx - 10, 130.0), (cx + 10, 130.0)
        h = ear * 20.0  # EAR = (h + h) / (2 * width 20)
        for u, lo, dx in ((u1, l1, -3), (u2, l2, 3)):
            pts[u], pts[lo] = (cx + dx, 130.0 - h / 2), (cx + dx, 130.0 + h / 2)
    return pts


def test_prompts_and_pick() -> None:
    assert ch.PROMPTS_VI["turn_left"] == "Quay đầu sang trái"
    assert ch.PROMPTS_VI["turn_right"] == "Quay đầu sang phải"
    assert ch.PROMPTS_VI["blink"] == "Chớp mắt"
    picks = {ch.pick_action(random.Random(s)) for s in range(50)}
    assert picks == set(ch.ACTIONS)


@pytest.mark.parametrize(
    ("action", "end", "ok"),
    [("turn_left", 0.25, True), ("turn_left", -0.25, False), ("turn_right", -0.25, True), ("turn_right", 0.05, False)],
)
def test_turn(action: ch.Action, end: float, ok: bool) -> None:
    frames = [mesh(yaw=end * k / 4) for k in range(5)]
    res = ch.check_challenge(action, frames)
    assert res.passed is ok
    assert res.signals["turn"] == pytest.approx(max(0.0, end if action == "turn_left" else -end))


def test_blink_needs_drop_and_recovery() -> None:
    assert ch.check_challenge("blink", [mesh(ear=e) for e in (0.3, 0.1, 0.3)]).passed
    assert not ch.check_challenge("blink", [mesh(ear=e) for e in (0.3, 0.3, 0.3)]).passed
    assert not ch.check_challenge("blink", [mesh(ear=e) for e in (0.3, 0.1, 0.1)]).passed
    assert not ch.check_challenge("turn_left", []).passed


def test_only_the_asked_action_counts() -> None:
    # a generic clip: turn left, back, turn right, back: fails whichever turn was asked
    both_ways = [mesh(yaw=y) for y in (0.0, 0.25, 0.0, -0.25, 0.0)]
    assert not ch.check_challenge("turn_left", both_ways).passed
    assert not ch.check_challenge("turn_right", both_ways).passed
    # a head that starts turned right and comes back to frontal is not a left turn
    back = [mesh(yaw=y) for y in (-0.25, -0.12, 0.0)]
    result = ch.check_challenge("turn_left", back)
    assert not result.passed and result.signals["turn"] == pytest.approx(0.25)
    # a blink with a head turn in the same clip is not the asked blink
    blink_and_turn = [mesh(ear=0.3), mesh(ear=0.1), mesh(ear=0.3, yaw=0.25)]
    assert not ch.check_challenge("blink", blink_and_turn).passed
