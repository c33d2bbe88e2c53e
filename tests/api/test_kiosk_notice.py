"""The kiosk shows the personal-data notice, in Vietnamese, before any capture (Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_env import CHROMIUM, KIOSK_TOKEN, browser_page, build_env

from edge.privacy.notice import load_notice

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "api"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_kiosk_shows_the_notice_while_idle_and_hides_it_during_capture(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    notice = load_notice(env.gate.cfg.privacy.notice_file)
    try:
        with browser_page(env.app, 1024, 600) as (url, kiosk):
            kiosk.goto(f"{url}/kiosk?token={KIOSK_TOKEN}")
            kiosk.wait_for_selector("#kiosk[data-state=idle]")
            panel = kiosk.locator("#kiosk-notice")
            assert panel.is_visible()
            assert panel.get_attribute("lang") == "vi"
            assert panel.get_attribute("data-version") == notice.version
            text = panel.inner_text()
            for item in notice.items:
                assert item.heading in text
            assert "Ảnh khuôn mặt" in text and notice.version in text
            box = panel.bounding_box()
            assert box is not None and box["y"] + box["height"] <= 600  # fits the kiosk screen
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            kiosk.screenshot(path=str(ARTIFACTS / "kiosk-notice.png"))
            env.app.state.ctx.hub.set_kiosk("camera")  # the lane asks the candidate to look at the camera
            kiosk.wait_for_selector("#kiosk[data-state=camera]")
            assert not panel.is_visible()
    finally:
        env.lane.stop()
        env.gate.close()
