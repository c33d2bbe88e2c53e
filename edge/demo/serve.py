"""`examgate demo --serve HOST:PORT`: the demo lane kept running with the console, kiosk and metrics served.

The scenario's candidates come round again and again (anti-passback is off so they can), starting with the grey-zone
one, so a review waits in the console at once. Nobody answers reviews but the people at the console: the demo's
scripted proctor is not used here. Accounts get fresh random passwords on every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge.api.accounts import AccountStore
from edge.api.errors import ApiError
from edge.api.live import LiveHub
from edge.api.serve import make_server, run_server
from edge.api.settings import ApiSettings
from edge.demo.runner import Scenario, Step, default_data_dir, load_roster, load_scenario, prepare_workdir
from edge.lane import CandidateReport, on_done
from edge.reviews import ReviewAnswer
from edge.wiring import Gate, build_gate

DEMO_ACCOUNTS: tuple[tuple[str, str], ...] = (("giamthi", "proctor"), ("kythuat", "technician"), ("quansat", "viewer"))
PAUSE_BETWEEN_CANDIDATES_S = 4.0


@dataclass(frozen=True)
class DemoServeInfo:
    url: str
    kiosk_url: str
    accounts: dict[str, tuple[str, str]]  # username -> (role, password)
    database: Path


def parse_host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ApiError(
            f"--serve expects HOST:PORT, got {text!r}",
            code="E_API_SERVE_ADDRESS",
            remedy="for example --serve 127.0.0.1:8080 (or 0.0.0.0:8080 to reach it from another machine)",
        )
    return host.strip("[]"), int(port)


def _accounts(store_path: Path) -> dict[str, tuple[str, str]]:
    accounts = AccountStore(store_path)
    made: dict[str, tuple[str, str]] = {}
    try:
        existing = {u.username for u in accounts.users()}
        for username, role in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            if username in existing:
                accounts.set_password(username, password, actor="demo")
            else:
                accounts.add_user(username, role, password, actor="demo")
            made[username] = (role, password)
    finally:
        accounts.close()
    return made


def prepare(workdir: Path, host: str, port: int, data_dir: Path | None = None) -> tuple[Gate, Scenario, DemoServeInfo]:
    scenario = load_scenario(data_dir or default_data_dir())
    cfg = prepare_workdir(scenario, workdir)
    token_file = workdir / "kiosk.token"
    token_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
    token_file.chmod(0o600)
    api = ApiSettings(host=host, port=port, kiosk_token_file=token_file)
    cfg = cfg.model_copy(
        update={"api": api, "policy": cfg.policy.model_copy(update={"anti_passback": False})}  # candidates repeat
    )
    gate = build_gate(cfg)
    load_roster(gate, scenario)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only choosing what to print
    url = f"http://{shown_host}:{port}"
    info = DemoServeInfo(
        url=f"{url}/console",
        kiosk_url=f"{url}/kiosk?token={token_file.read_text(encoding='utf-8')}",
        accounts=_accounts(cfg.store.path),
        database=cfg.store.path,
    )
    return gate, scenario, info


def demo_order(scenario: Scenario) -> list[int]:
    """Step indexes, grey-zone (review) steps first so the console has something to show at once."""
    indexes = list(range(len(scenario.steps)))
    return sorted(indexes, key=lambda i: scenario.steps[i].expect != "review")


async def _drive(
    gate: Gate,
    scenario: Scenario,
    stop: asyncio.Event,
    pause_s: float,
) -> None:
    """Tap the scenario's cards one after another, each when the previous candidate is finished."""
    from firmware_bridge.camera.folder import FolderCamera  # noqa: PLC0415
    from firmware_bridge.sim.fixture_reader import FixtureCardReader  # noqa: PLC0415

    camera, reader = gate.camera, gate.reader
    assert isinstance(camera, FolderCamera)
    assert isinstance(reader, FixtureCardReader)
    loop = asyncio.get_running_loop()
    finished: asyncio.Queue[CandidateReport] = asyncio.Queue()

    def on_report(report: CandidateReport) -> None:
        loop.call_soon_threadsafe(finished.put_nowait, report)

    gate.lane.listen(on_done(on_report))
    camera_root = camera.folder.parent
    order = demo_order(scenario)
    turn = 0
    while not stop.is_set():
        index = order[turn % len(order)]
        step: Step = scenario.steps[index]
        camera.set_folder(camera_root / f"step-{index:02d}")
        reader.tap(step.card)
        waiter = asyncio.create_task(finished.get())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not waiter.done():
            waiter.cancel()
            return
        turn += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause_s)


async def serve_demo(
    gate: Gate,
    scenario: Scenario,
    *,
    stop: asyncio.Event | None = None,
    pause_s: float = PAUSE_BETWEEN_CANDIDATES_S,
) -> None:
    """Run lane, API and candidate driver in one event loop until Ctrl-C, SIGTERM or ``stop`` is set."""
    assert gate.cfg.api is not None
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    api_stop = asyncio.Event()
    handled: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    hub = LiveHub(kiosk_result_s=gate.cfg.api.kiosk_result_s)
    server = make_server(gate, gate.cfg.api, hub=hub)
    api = asyncio.create_task(run_server(server, api_stop))
    lane = asyncio.create_task(gate.lane.run(stop))
    driver = asyncio.create_task(_drive(gate, scenario, stop, pause_s))
    try:
        await stop.wait()
        for attempt_id in gate.reviews.pending():  # nobody will answer now: let the lane finish
            gate.reviews.resolve(attempt_id, ReviewAnswer(False, "system", "demo stopped"))
        await driver
        await lane
    finally:
        api_stop.set()
        await api
        for sig in handled:
            loop.remove_signal_handler(sig)


def run(workdir: Path, address: str, out: Callable[[str], None] = print) -> int:
    host, port = parse_host_port(address)
    gate, scenario, info = prepare(workdir, host, port)
    try:
        out("ExamGate demo with the console: one lane on simulated hardware, real face matching, served at")
        out(f"  proctor console: {info.url}")
        out(f"  kiosk screen:    {info.kiosk_url}")
        out("accounts (new random passwords on every start):")
        for username, (role, password) in info.accounts.items():
            out(f"  {role:<10} {username:<8} {password}")
        out(f"A candidate taps every {PAUSE_BETWEEN_CANDIDATES_S:.0f} s; grey-zone ones wait for you in the console.")
        out(f"Database: {info.database}. Stop with Ctrl-C.")
        asyncio.run(serve_demo(gate, scenario))
    finally:
        gate.close()
    return 0
