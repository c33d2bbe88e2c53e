"""A real browser (Debian's Chromium driven by Playwright) against a real uvicorn and a running lane: a proctor logs in,
sees the review the lane asked for, approves it, and sees the gate open; the kiosk shows the candidate through.
Screenshots go to artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_env import KIOSK_TOKEN, PASSWORDS, Env, LiveServer, build_env

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "api"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Env, LiveServer]]:
    env = build_env(tmp_path, kiosk_result_s=30.0)
    server = LiveServer(env.app)
    server.start()
    try:
        yield env, server
    finally:
        server.stop()
        env.lane.stop()
        env.gate.close()


def test_proctor_approves_a_review_in_the_browser_and_the_gate_opens(served: tuple[Env, LiveServer]) -> None:
    env, server = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            kiosk_context = browser.new_context(viewport={"width": 1024, "height": 600})
            kiosk = kiosk_context.new_page()
            kiosk.goto(f"{server.url}/kiosk?token={KIOSK_TOKEN}")
            assert kiosk.url == f"{server.url}/kiosk"  # the token left the address bar
            kiosk.wait_for_selector("#kiosk[data-state=idle]")
            assert "Chạm thẻ CCCD vào đầu đọc" in kiosk.inner_text("#kiosk-text")
            kiosk.screenshot(path=str(ARTIFACTS / "kiosk-idle.png"))

            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{server.url}/console")
            assert "/login" in page.url
            page.fill("#username", "proctor1")
            page.fill("#password", PASSWORDS["proctor1"])
            page.click("#login-submit")
            page.wait_for_url(f"{server.url}/console")
            page.wait_for_selector("#queue-empty")

            env.tap("binh", "grey")
            card = page.wait_for_selector("article.review", timeout=15_000)
            assert card is not None
            assert "Trần Thị Bình" in card.inner_text() and "0793******67" in card.inner_text()
            assert "0.550" in card.inner_text() and "FACE_GREY_ZONE" in card.inner_text()
            for kind in ("live", "chip", "roster"):
                page.wait_for_function(
                    f"document.querySelector('img[data-kind={kind}]').naturalWidth > 0", timeout=10_000
                )
            kiosk.wait_for_selector("#kiosk[data-state=wait]")
            page.screenshot(path=str(ARTIFACTS / "console-review.png"), full_page=True)

            page.click("button.approve")  # without a reason: refused in the page, nothing sent
            assert page.inner_text("article.review .error") != ""
            assert env.gate.reviews.pending()
            page.fill("article.review .reason", "checked the card and the face by hand")
            page.click("button.approve")
            page.wait_for_selector("#gate-banner:not([hidden])", timeout=10_000)
            page.wait_for_selector("#decisions li.outcome-pass", timeout=10_000)
            assert page.query_selector("article.review") is None
            assert "proctor1" in page.inner_text("#decisions")
            page.screenshot(path=str(ARTIFACTS / "console-approved.png"), full_page=True)

            kiosk.wait_for_selector("#kiosk[data-state=pass]")
            assert kiosk.inner_text("#kiosk-text") == "Mời qua cổng"
            assert kiosk.inner_text("#kiosk-name") == "Trần Thị Bình"
            assert "0.55" not in kiosk.content()
            kiosk.screenshot(path=str(ARTIFACTS / "kiosk-pass.png"))

            # officer-assisted admission: the form asks for the confirmation each credential needs
            page.click("a[href='/assisted']")
            page.wait_for_selector("#assisted-form")
            assert page.is_visible("#vneid-row") and not page.is_visible("#commitment-row")
            page.check("input[value=manual_lost_card]")
            assert page.is_visible("#commitment-row") and not page.is_visible("#vneid-row")
            page.fill("#personal_id", "00109900044")
            page.click("#assisted-submit")
            assert page.inner_text("#assisted-error") != ""  # 11 digits: refused in the page
            page.fill("#personal_id", "001099000444")
            page.click("#assisted-submit")
            assert page.inner_text("#assisted-error") != ""  # no signed commitment yet
            page.check("#commitment_signed")
            page.fill("#note", "mất thẻ, có giấy xác nhận của công an phường")
            env.gate.camera.set_folder(env.tmp / "camera" / "high")  # type: ignore[attr-defined]
            page.click("#assisted-submit")
            page.wait_for_selector("#assisted-result:has-text('Cho vào')", timeout=15_000)
            assert "Lê Không Thẻ" in page.inner_text("#assisted-result")
            page.screenshot(path=str(ARTIFACTS / "assisted-admitted.png"), full_page=True)
            page.goto(f"{server.url}/reports/SES1?lang=en")
            assert "Lost CCCD card" in page.inner_text("#report")
            page.screenshot(path=str(ARTIFACTS / "report-en.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
    assert len(env.turnstile.pulses) == 2
    assert env.next_report().reviewed_by == "proctor1"
