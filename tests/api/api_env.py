"""Shared by tests/api (imported as a plain module: tests/ is not a package).

A real gate on simulators (card fixtures, image-folder camera, virtual turnstile, score-table verifier) with its lane
running in a background event loop, and the API in front of it: the daemon's shape, minus the hardware."""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from lane_helpers import sim_gate, write_card

from edge.api.accounts import AccountStore
from edge.api.app import CSRF_HEADER, create_app
from edge.api.settings import ApiSettings
from edge.devices import FaceResult, Frame, ReferenceImage
from edge.lane import CandidateReport, on_done
from edge.reviews import ReviewAnswer
from edge.store import RosterRow
from edge.wiring import Gate
from firmware_bridge.camera.folder import FolderCamera
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile

FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"
SESSION = "SES1"
PASSWORDS = {
    "proctor1": "proctor-pass-1",
    "proctor2": "proctor-pass-2",
    "tech1": "tech-pass-12",
    "view1": "viewer-pass-1",
}
ROLES = {"proctor1": "proctor", "proctor2": "proctor", "tech1": "technician", "view1": "viewer"}
KIOSK_TOKEN = "kiosk-token-0123456789abcdef"
METRICS_TOKEN = "metrics-token-0123456789abcdef"


def _card(tmp: Path, name: str, pid: str, photo: str = "person01/img4.jpg") -> None:
    write_card(tmp / "cards", name, pid, name.title(), FACES / photo, sex="M")


def _scene(tmp: Path, name: str, image: str) -> None:
    folder = tmp / "camera" / name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FACES / image, folder / f"{name}.jpg")


class FramingVerifier(ScoreTableVerifier):
    """The score-table verifier, also handing back the frame it scored (as the real verifier does)."""

    def verify(self, live: Sequence[Frame], references: Sequence[ReferenceImage]) -> FaceResult:
        result = super().verify(live, references)
        if result.similarity is None or not live:
            return result
        return dataclasses.replace(result, best_frame=live[0].image)


class LaneThread:
    """The lane's event loop in a thread of its own (the API runs in another loop, as a browser would see it)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name="lane", daemon=True)
        self.started = threading.Event()
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            self.started.set()
            await self.gate.lane.run(self.stop_event)

        try:
            self.loop.run_until_complete(main())
        except BaseException as exc:  # noqa: BLE001 - surfaced by stop()
            self.error = exc
        finally:
            self.loop.close()

    def start(self) -> None:
        self.thread.start()
        assert self.started.wait(5)

    def stop(self) -> None:
        for attempt_id in self.gate.reviews.pending():  # a lane waiting on a proctor would not stop
            self.gate.reviews.resolve(attempt_id, ReviewAnswer(False, "teardown", "test finished"))
        if self.stop_event is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)
        assert not self.thread.is_alive(), "lane did not stop"
        if self.error is not None:
            raise self.error


@dataclass
class Env:
    gate: Gate
    app: FastAPI
    tmp: Path
    lane: LaneThread
    reports: queue.Queue[CandidateReport] = field(default_factory=queue.Queue)

    @property
    def turnstile(self) -> VirtualTurnstile:
        inner = self.gate.turnstile
        assert isinstance(inner, VirtualTurnstile)
        return inner

    @property
    def accounts(self) -> AccountStore:
        accounts = self.app.state.accounts
        assert isinstance(accounts, AccountStore)
        return accounts

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")

    def login(self, username: str, client: TestClient | None = None) -> tuple[TestClient, str]:
        client = client or self.client()
        response = client.post("/api/login", json={"username": username, "password": PASSWORDS[username]})
        assert response.status_code == 200, response.text
        return client, str(response.json()["csrf_token"])

    def tap(self, card: str, scene: str) -> None:
        reader = self.gate.reader
        camera = self.gate.camera
        assert isinstance(reader, FixtureCardReader) and isinstance(camera, FolderCamera)
        camera.set_folder(self.tmp / "camera" / scene)
        reader.tap(card)

    def next_report(self, timeout_s: float = 10.0) -> CandidateReport:
        return self.reports.get(timeout=timeout_s)

    def wait_review(self, timeout_s: float = 10.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pending = self.gate.reviews.pending()
            if pending and self.app.state.hub.item(pending[0]) is not None:
                return pending[0]
            time.sleep(0.02)
        raise AssertionError("no review request appeared")


def csrf_headers(token: str) -> dict[str, str]:
    return {CSRF_HEADER: token}


def make_gate(tmp_path: Path) -> Gate:
    """A gate on simulators with a roster of three; its lane tuned for speed."""
    (tmp_path / "cards").mkdir()
    _card(tmp_path, "an", "001099012345")
    _card(tmp_path, "binh", "079301004567")
    _card(tmp_path, "stranger", "034095001357")
    scores = {"high": 0.9, "grey": 0.55, "low": 0.1}
    for name in scores:
        _scene(tmp_path, name, "person01/img5.jpg")
    gate = sim_gate(tmp_path, FramingVerifier(scores), session_id=SESSION)
    gate.store.ensure_session(SESSION, name="Test session")
    gate.store.replace_roster(
        SESSION,
        [
            RosterRow("SBD-1", "001099012345", "Nguyễn Văn An", photo=(FACES / "person01" / "img6.jpg").read_bytes()),
            RosterRow("SBD-2", "079301004567", "Trần Thị Bình", photo=(FACES / "person01" / "img6.jpg").read_bytes()),
            RosterRow("SBD-4", "001099000444", "Lê Không Thẻ", photo=(FACES / "person01" / "img6.jpg").read_bytes()),
        ],
    )
    gate.lane.settings = dataclasses.replace(
        gate.lane.settings,
        capture_window_s=0.0,
        frames_per_attempt=1,
        passage_timeout_s=0.5,
        review_timeout_s=30.0,
        poll_timeout_s=0.05,
    )
    return gate


def build_env(tmp_path: Path, **settings: object) -> Env:
    gate = make_gate(tmp_path)
    for path, token in (("kiosk.token", KIOSK_TOKEN), ("metrics.token", METRICS_TOKEN)):
        (tmp_path / path).write_text(token, encoding="utf-8")
        (tmp_path / path).chmod(0o600)
    api_settings = ApiSettings.model_validate(
        {
            "kiosk_token_file": tmp_path / "kiosk.token",
            "metrics_token_file": tmp_path / "metrics.token",
            "kiosk_result_s": 1.0,
            "sse_heartbeat_s": 1.0,
            **settings,
        }
    )
    app = create_app(gate, api_settings)
    accounts = app.state.accounts
    for username, password in PASSWORDS.items():
        accounts.add_user(username, ROLES[username], password, actor="test")
    lane = LaneThread(gate)
    env = Env(gate, app, tmp_path, lane)
    gate.lane.listen(on_done(env.reports.put))  # after the hub: its state is updated when a report arrives
    lane.start()
    app.state.hub.bind_lane_loop(lane.loop)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app behind a real uvicorn on a free port, in a thread of its own (SSE and browser tests)."""

    def __init__(self, app: FastAPI) -> None:
        import uvicorn  # noqa: PLC0415

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def browser_page(app: FastAPI, width: int, height: int) -> Iterator[tuple[str, Any]]:
    """``app`` behind a LiveServer and a page of headless Chromium (Playwright) of that size: yields the server's URL
    and the page; closes the browser, then stops the server. Callers skip first without Playwright or Chromium."""
    from playwright import sync_api  # noqa: PLC0415

    server = LiveServer(app)
    server.start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            try:
                yield server.url, browser.new_context(viewport={"width": width, "height": height}).new_page()
            finally:
                browser.close()
    finally:
        server.stop()
