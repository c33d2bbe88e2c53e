"""A real Chromium opens the brief, prints it to A4 and takes a screenshot (artifacts/report/, gitignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli.main import main

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "report"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip install playwright) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def test_chromium_shows_and_prints_the_brief(demo_db: Path, tmp_path: Path) -> None:
    assert main(["report", "brief", "--db", str(demo_db), "--out", str(tmp_path)]) == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto((tmp_path / "brief.html").as_uri())
            assert page.locator("h2").count() == 6
            det = page.locator("img[alt=DET]")
            assert det.evaluate("img => img.naturalWidth") > 0  # the embedded DET decodes
            assert page.locator("svg").count() >= 3
            page.screenshot(path=str(ARTIFACTS / "brief-vi.png"), full_page=True)
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
