"""The proctor console for a review PAD asked for (issue 12): the running lane (simulators, a scripted PAD in enforce
mode) opens a PAD_SUSPECTED / PAD_UNAVAILABLE / PAD_CHALLENGE_FAILED review; the API gives its PAD score, thresholds
and signals with the live frame, and Chromium shows each reason explained in Vietnamese first, then English."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from api_env import CHROMIUM, PASSWORDS, Env, browser_page, build_env

from edge.api.i18n import TEXTS
from edge.devices import RgbImage
from edge.lane import ChallengeIssued, Notice

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "api"
SIGNALS = {"blink": 0.02, "nonrigid_motion": 0.004, "planar_residual": 0.001}


class ScriptedPad:
    """The lane's PAD port with fixed answers: a passive score (or unavailable), multi-frame signals, a challenge."""

    model_version = "scripted@0"
    challenge_timeout_s = 2.0
    challenge_ready = True

    def __init__(self, score: float | None, *, unavailable: bool = False, challenge_passed: bool = True) -> None:
        self.score, self.unavailable, self.challenge_passed = score, unavailable, challenge_passed

    def __call__(self, frame: RgbImage) -> tuple[float | None, bool]:
        return self.score, self.unavailable

    def signals(self, frames: Sequence[RgbImage]) -> dict[str, float]:
        return {} if self.unavailable else dict(SIGNALS)

    def challenge(self, action: str, capture: Callable[[], RgbImage]) -> tuple[bool, dict[str, float]] | None:
        capture()
        return self.challenge_passed, {"yaw_change": 0.01}


@pytest.fixture
def pad_env(tmp_path: Path) -> Iterator[Env]:
    env = build_env(tmp_path)
    lane = env.gate.lane
    lane.params = dataclasses.replace(lane.params, pad_mode="enforce", pad_threshold=0.8, pad_attack_threshold=0.05)
    lane.settings = dataclasses.replace(lane.settings, frames_per_attempt=2)  # two frames: multi-frame signals
    try:
        yield env
    finally:
        env.lane.stop()
        env.gate.close()


def pad_review(env: Env, pad: ScriptedPad, *, challenge: bool = False) -> dict[str, object]:
    """Tap binh's card with a face that matches; return the console's view of the review PAD opened."""
    env.gate.lane.pad = pad
    env.gate.lane.params = dataclasses.replace(env.gate.lane.params, pad_challenge=challenge)
    client, _ = env.login("proctor1")
    env.tap("binh", "high")
    attempt = env.wait_review()
    (item,) = client.get("/api/reviews").json()["items"]
    assert item["attempt_id"] == attempt and item["resolvable"] is True
    image = client.get(f"/api/reviews/{attempt}/images/live")  # the frame PAD scored, kept for the review
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    return dict(item)


def test_suspected_attack_review_carries_score_thresholds_and_signals(pad_env: Env) -> None:
    item = pad_review(pad_env, ScriptedPad(0.3))
    assert "PAD_SUSPECTED" in item["reasons"]  # type: ignore[operator]
    assert item["pad_score"] == pytest.approx(0.3)
    assert item["pad"] == {
        "reasons": ["PAD_SUSPECTED"],
        "score": pytest.approx(0.3),
        "threshold": 0.8,
        "attack_threshold": 0.05,
        "mode": "enforce",
    }
    assert item["pad_signals"] == pytest.approx(SIGNALS)


def test_unavailable_pad_review_says_so(pad_env: Env) -> None:
    item = pad_review(pad_env, ScriptedPad(None, unavailable=True))
    assert item["pad"] is not None and item["pad"]["reasons"] == ["PAD_UNAVAILABLE"]  # type: ignore[index]
    assert item["pad_score"] is None and item["pad_signals"] == {}


def test_failed_challenge_review_shows_the_challenge_signals(pad_env: Env) -> None:
    told: list[Notice] = []
    pad_env.gate.lane.listen(told.append)
    item = pad_review(pad_env, ScriptedPad(0.95, challenge_passed=False), challenge=True)
    assert item["pad"] is not None and item["pad"]["reasons"] == ["PAD_CHALLENGE_FAILED"]  # type: ignore[index]
    signals = item["pad_signals"]
    assert isinstance(signals, dict) and signals["challenge_passed"] == 0.0 and "challenge_yaw_change" in signals
    assert any(isinstance(n, ChallengeIssued) for n in told)  # the kiosk was asked to show the prompt


def test_a_face_review_has_no_pad_section(pad_env: Env) -> None:
    pad_env.gate.lane.pad = ScriptedPad(0.99)
    client, _ = pad_env.login("proctor1")
    pad_env.tap("binh", "grey")
    pad_env.wait_review()
    (item,) = client.get("/api/reviews").json()["items"]
    assert item["reasons"] == ["FACE_GREY_ZONE"] and item["pad"] is None


def test_every_pad_review_reason_is_explained_in_both_languages() -> None:
    for code in ("PAD_SUSPECTED", "PAD_UNAVAILABLE", "PAD_CHALLENGE_FAILED"):
        vi, en = TEXTS[f"pad.{code}"]
        assert vi and en and vi != en


@pytest.mark.parametrize(("lang", "heading"), [("vi", "Nghi ngờ giả mạo"), ("en", "Presentation attack suspected")])
def test_chromium_shows_the_pad_review(pad_env: Env, lang: str, heading: str) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with browser_page(pad_env.app, 1280, 1000) as (url, page):
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{url}/login?lang={lang}")
        page.fill("#username", "proctor1")
        page.fill("#password", PASSWORDS["proctor1"])
        page.click("#login-submit")
        page.wait_for_url(f"{url}/console")
        errors.clear()  # the console page's own errors from here (the login page's favicon is absent)
        hub = pad_env.app.state.hub
        deadline = time.monotonic() + 10
        while hub.console.count == 0 and time.monotonic() < deadline:  # the page listens before the tap
            time.sleep(0.02)
        pad_env.gate.lane.pad = ScriptedPad(0.3)
        pad_env.tap("binh", "high")
        page.wait_for_selector("article.review section.pad:not([hidden])", timeout=15_000)
        section = page.locator("article.review section.pad")
        reason = section.locator("li[data-reason=PAD_SUSPECTED]").inner_text()
        assert reason.startswith(heading) and reason.endswith("(PAD_SUSPECTED)")
        text = section.inner_text()
        assert "0.300" in text and "0.800 / 0.050" in text
        blink = section.locator("tr[data-signal=blink]").inner_text()
        assert ("Chớp mắt" if lang == "vi" else "Blink") in blink and "0.020" in blink
        page.wait_for_function("document.querySelector('img[data-kind=live]').naturalWidth > 0")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"console-pad-review-{lang}.png"), full_page=True)
        assert errors == [], errors
