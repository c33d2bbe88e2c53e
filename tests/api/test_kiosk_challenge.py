"""The active PAD challenge on the kiosk (issue 12): the lane's ChallengeIssued notice puts its Vietnamese prompt and a
countdown on the candidate's screen (the live hub, then Chromium through Playwright); never a score."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from api_env import CHROMIUM, KIOSK_TOKEN, browser_page, build_env

from edge.api.live import LiveHub
from edge.lane import CandidateDone, CandidateReport, ChallengeIssued, Notice
from edge.vision.pad.challenge import ACTIONS, PROMPTS_VI, Action

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "api"
KIOSK_KEYS = {"type", "state", "name", "hold_s", "prompt", "timeout_s"}


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def published(hub: LiveHub, *notices: Notice) -> list[dict[str, object]]:
    """What a connected kiosk screen receives when the lane tells ``notices``."""

    async def run() -> list[dict[str, object]]:
        key, queue = hub.kiosk.subscribe()
        try:
            for notice in notices:
                hub.notice(notice)
            await asyncio.sleep(0)
            return [json.loads(queue.get_nowait()) for _ in range(queue.qsize())]
        finally:
            hub.kiosk.unsubscribe(key)

    return asyncio.run(run())


@pytest.mark.parametrize("action", ACTIONS)
def test_the_kiosk_gets_the_lanes_vietnamese_prompt_and_its_seconds(action: Action) -> None:
    hub = LiveHub(kiosk_result_s=6.0, clock=Clock())
    (message,) = published(hub, ChallengeIssued(action, PROMPTS_VI[action], 5.0))
    assert message == {
        "type": "kiosk",
        "state": "challenge",
        "hold_s": 6.0,
        "prompt": PROMPTS_VI[action],
        "timeout_s": 5.0,
    }


def test_a_screen_that_connects_mid_challenge_gets_the_time_left_then_the_camera() -> None:
    clock = Clock()
    hub = LiveHub(kiosk_result_s=6.0, clock=clock)
    published(hub, ChallengeIssued("blink", "Chớp mắt", 5.0))
    clock.now_s += 2.0
    now = hub.kiosk_now()
    assert now["state"] == "challenge" and now["prompt"] == "Chớp mắt" and now["timeout_s"] == 3.0
    clock.now_s += 3.5  # the time is up: the lane is still judging what the camera saw
    assert hub.kiosk_now() == {"type": "kiosk", "state": "camera", "hold_s": 6.0}


def test_the_result_replaces_the_prompt_and_no_message_carries_a_score() -> None:
    clock = Clock()
    hub = LiveHub(kiosk_result_s=6.0, clock=clock)
    report = CandidateReport(
        attempt_id="a1",
        started_at=dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
        outcome="review",
        reasons=("PAD_CHALLENGE_FAILED",),
        face_score=0.97,
        pad_score=0.12,
        pad_signals={"challenge_passed": 0.0},
        reviewed_by="proctor1",
    )
    messages = published(hub, ChallengeIssued("turn_left", "Quay đầu sang trái", 4.0), CandidateDone(report))
    assert [m["state"] for m in messages] == ["challenge", "see_proctor"]
    assert "prompt" not in messages[-1] and "prompt" not in hub.kiosk_now()
    for message in messages:
        assert set(message) <= KIOSK_KEYS, message
        assert "score" not in json.dumps(message) and "PAD" not in json.dumps(message)


def test_chromium_shows_the_prompt_with_a_countdown(tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    env = build_env(tmp_path)
    try:
        with browser_page(env.app, 1024, 600) as (url, kiosk):
            kiosk.goto(f"{url}/kiosk?token={KIOSK_TOKEN}")
            kiosk.wait_for_selector("#kiosk[data-state=idle]")
            env.gate.lane.tell(ChallengeIssued("turn_left", "Quay đầu sang trái", 3.0))
            kiosk.wait_for_selector("#kiosk[data-state=challenge]")
            assert kiosk.inner_text("#kiosk-text") == "Quay đầu sang trái"
            assert kiosk.inner_text("#kiosk-countdown") in ("Còn 3 giây", "Còn 2 giây")
            assert not kiosk.locator("#kiosk-notice").is_visible()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            kiosk.screenshot(path=str(ARTIFACTS / "kiosk-challenge.png"))
            kiosk.wait_for_selector("#kiosk-countdown[data-left='1']", timeout=5000)  # it counts down
            kiosk.wait_for_selector("#kiosk-countdown[data-left='0']", timeout=5000)
            env.app.state.hub.set_kiosk("wait")  # the lane goes on to its decision
            kiosk.wait_for_selector("#kiosk[data-state=wait]")
            assert kiosk.inner_text("#kiosk-countdown") == ""
            assert kiosk.inner_text("#kiosk-text") == "Vui lòng chờ"
    finally:
        env.lane.stop()
        env.gate.close()
