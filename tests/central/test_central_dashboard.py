"""The province dashboard on real PostgreSQL filled by a real worker from a real mosquitto; the console's accounts;
Debian's Chromium driven by Playwright logs in and reads it (screenshots in artifacts/central/)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from central_helpers import SITE, admitted, close, publish, publisher, wait_until, worker
from fastapi.testclient import TestClient
from mqtt_broker import Mosquitto

from edge.api.accounts import AccountStore
from edge.central import db
from edge.central.dashboard import create_app
from edge.events.models import DeviceFault, ReviewResolved, Subject
from edge.mqtt.status import make_status
from edge.mqtt.topics import status_topic
from edge.store import open_store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "central"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "centre-viewer-pass-1"


def accounts_file(tmp_path: Path) -> Path:
    path = tmp_path / "centre-accounts.db"
    open_store(path).close()
    accounts = AccountStore(path)
    accounts.add_user("tinh.viewer", "viewer", PASSWORD, actor="test")
    accounts.close()
    return path


def fill(broker: Mosquitto, dsn: str) -> None:
    """Two gates online, one review resolved by a proctor, a camera fault, all through a worker."""
    db.migrate(dsn)
    pub = publisher(broker.port)
    ing = worker(broker, dsn, "dash", f"g-{uuid.uuid4().hex[:6]}")
    try:
        for gate in ("gate-a", "gate-b"):
            birth = make_status("online", SITE, gate, versions={"examgate": "0.1.0", "model": "mfn-2"})
            pub.publish(status_topic(SITE, gate), birth.payload(), qos=1, retain=True).wait_for_publish(5)
        for n in range(6):
            publish(
                pub,
                admitted(f"C{n}", gate_id="gate-a" if n % 2 else "gate-b", timings_ms={"total_ms": 3000.0 + n * 200}),
            )
        publish(
            pub,
            ReviewResolved(
                site_id=SITE,
                gate_id="gate-a",
                session_id="S1",
                attempt_id="att-x",
                subject=Subject(candidate_id="C9"),
                approved=True,
                operator="gv.lan",
                reason="ok",
            ),
        )
        publish(
            pub,
            DeviceFault(
                site_id=SITE,
                gate_id="gate-b",
                session_id="S1",
                device="camera",
                code="E_CAMERA",
                message="m",
                remedy="r",
            ),
        )
        assert wait_until(
            lambda: ing.counters.snapshot()["stored"] >= 8 and ing.counters.snapshot()["statuses"] >= 2, 10
        )
    finally:
        for gate in ("gate-a", "gate-b"):  # clear the retained births: the broker is shared with other tests
            pub.publish(status_topic(SITE, gate), b"", qos=1, retain=True).wait_for_publish(5)
        close(pub)
        ing.stop()


def test_dashboard_requires_login_and_shows_the_province(broker: Mosquitto, pg_dsn: str, tmp_path: Path) -> None:
    fill(broker, pg_dsn)
    client = TestClient(create_app(pg_dsn, accounts_file(tmp_path)))
    first = client.get("/", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login"
    bad = client.post("/login", data={"username": "tinh.viewer", "password": "wrong-password"}, follow_redirects=False)
    assert bad.headers["location"] == "/login?failed=1"
    ok = client.post("/login", data={"username": "tinh.viewer", "password": PASSWORD}, follow_redirects=False)
    assert ok.status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "Bảng điều khiển tỉnh" in html  # Vietnamese first
    assert 'id="count-online">Trực tuyến: <b>2</b>' in html
    assert "S1" in html
    assert "E_CAMERA" in html
    assert "gv.lan" in html
    assert '<td class="num">1</td><td>0.1.0 / mfn-2</td>' in html  # gate-b: one camera fault
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "Province dashboard" in client.get("/?lang=en").text


class Server:
    def __init__(self, app: object) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_a: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


def test_dashboard_in_chromium(broker: Mosquitto, pg_dsn: str, tmp_path: Path, browser: object) -> None:
    fill(broker, pg_dsn)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with Server(create_app(pg_dsn, accounts_file(tmp_path))) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.goto(url + "/")
        assert page.url.endswith("/login")
        page.fill("#username", "tinh.viewer")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#gates-summary")
        assert page.locator("#count-online b").inner_text() == "2"
        assert page.locator(".gate-row").count() == 2
        assert page.locator(".session-row").first.inner_text().startswith("S1")
        assert page.locator("svg rect.bar-online").get_attribute("width") == "400"
        page.screenshot(path=str(ARTIFACTS / "dashboard-vi.png"), full_page=True)
        page.goto(url + "/?lang=en")
        assert "Province dashboard" in page.title()
        page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)
