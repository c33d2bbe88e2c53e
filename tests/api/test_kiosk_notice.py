"""The kiosk shows the personal-data notice, in Vietnamese, before any capture (Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_env import KIOSK_TOKEN, LiveServer, build_env

from edge.privacy.notice import load_notice

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "api"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_kiosk_shows_the_notice_while_idle_and_hides_it_during_capture(tmp_path: Path) -> None:
    env = build_env(tmp_path)
    server = LiveServer(env.app)
    server.start()
    notice = load_notice(env.gate.cfg.privacy.notice_file)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                kiosk = browser.new_context(viewport={"width": 1024, "height": 600}).new_page()
                kiosk.goto(f"{server.url}/kiosk?token={KIOSK_TOKEN}")
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
                browser.close()
    finally:
        server.stop()
        env.lane.stop()
        env.gate.close()
