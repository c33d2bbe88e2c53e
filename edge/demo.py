"""The demo: one gate lane on simulated hardware, driven through a scripted queue of candidates.

Everything but the hardware is real: the store, the state machine, the face pipeline on real photos, the outbox.
The scenario (``demo/scenario.json``) names the people, their cards and what the camera sees at each tap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config import (
    AppConfig,
    LaneConfig,
    PolicyConfig,
    SiteConfig,
    StoreConfig,
    TfliteMatcherConfig,
)
from edge.device_config import FolderCameraConfig, SimulatedReaderConfig, SimulatedTurnstileConfig
from edge.devices import ChipIdentity, Frame
from edge.errors import ConfigError
from edge.lane import CandidateReport
from edge.mqtt.settings import MqttSettings
from edge.reviews import ReviewAnswer
from edge.store import RosterRow
from edge.vision.settings import VisionSettings
from edge.wiring import Gate, build_gate, build_link, repo_root

FIXTURE_FORMAT = "examgate-card-fixture/1"


@dataclass(frozen=True)
class Person:
    key: str
    full_name: str
    personal_id: str
    birth_date: dt.date
    sex: str
    card_photo: Path
    roster_photo: Path | None
    on_roster: bool


@dataclass(frozen=True)
class Step:
    card: str
    live: Path
    expect: str
    note: str
    proctor: str = "approve"


@dataclass(frozen=True)
class Scenario:
    session_id: str
    people: dict[str, Person]
    steps: tuple[Step, ...]


@dataclass
class DemoResult:
    reports: list[tuple[Step, CandidateReport]] = field(default_factory=list)
    workdir: Path | None = None


def default_data_dir() -> Path:
    return repo_root() / "demo"


def load_scenario(data_dir: Path) -> Scenario:
    path = data_dir / "scenario.json"
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"demo scenario {path} unreadable: {exc}", [("demo", "run from a checkout of ExamGate")]
        ) from None
    people = {
        key: Person(
            key=key,
            full_name=p["full_name"],
            personal_id=p["personal_id"],
            birth_date=dt.date.fromisoformat(p["birth_date"]),
            sex=p["sex"],
            card_photo=data_dir / p["card_photo"],
            roster_photo=(data_dir / p["roster_photo"]) if p.get("roster_photo") else None,
            on_roster=bool(p.get("on_roster", True)),
        )
        for key, p in raw["people"].items()
    }
    steps = tuple(
        Step(
            card=s["card"],
            live=data_dir / s["live"],
            expect=s["expect"],
            note=s["note"],
            proctor=s.get("proctor", "approve"),
        )
        for s in raw["steps"]
    )
    return Scenario(session_id=raw["session_id"], people=people, steps=steps)


def prepare_workdir(scenario: Scenario, workdir: Path, data_dir: Path) -> AppConfig:
    """Write card fixtures and camera folders; return the demo's config."""
    cards = workdir / "cards"
    camera = workdir / "camera"
    for folder in (cards, camera):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for person in scenario.people.values():
        fixture = {
            "format": FIXTURE_FORMAT,
            "personal_id": person.personal_id,
            "document_number": person.personal_id[-9:],
            "full_name": person.full_name,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "expiry_date": (person.birth_date.replace(year=person.birth_date.year + 40)).isoformat(),
            "face_image": str(person.card_photo.resolve()),
            "passive_auth": "valid",
            "clone_check": "valid",
        }
        (cards / f"{person.key}.json").write_text(json.dumps(fixture, ensure_ascii=False, indent=1), encoding="utf-8")
    for index, step in enumerate(scenario.steps):
        scene = camera / f"step-{index:02d}"
        scene.mkdir()
        shutil.copyfile(step.live, scene / step.live.name)
    return AppConfig(
        site=SiteConfig(site_id="demo-site", gate_id="lane-1"),
        store=StoreConfig(path=workdir / "examgate.db", synchronous="FULL"),
        policy=PolicyConfig(thresholds_file=repo_root() / "models" / "thresholds.toml"),
        lane=LaneConfig(session_id=scenario.session_id, frames_per_attempt=2, passage_timeout_s=2.0, qr_timeout_s=0.0),
        vision=VisionSettings(frame_window_s=0.2),
        reader=SimulatedReaderConfig(cards_dir=cards),
        camera=FolderCameraConfig(path=camera / "step-00", fps=30.0),
        turnstile=SimulatedTurnstileConfig(pulse_ms=300, passage_after_s=0.05),
        matcher=TfliteMatcherConfig(),
    )


def load_roster(gate: Gate, scenario: Scenario) -> None:
    rows = [
        RosterRow(
            candidate_id=f"SBD-{index + 1:04d}",
            personal_id=p.personal_id,
            full_name=p.full_name,
            birth_date=p.birth_date,
            photo=p.roster_photo.read_bytes() if p.roster_photo else None,
        )
        for index, p in enumerate(q for q in scenario.people.values() if q.on_roster)
    ]
    gate.store.ensure_session(scenario.session_id, name="Demo exam session", exam_date=dt.date.today())
    gate.store.replace_roster(scenario.session_id, rows, actor="demo")


async def _drive(
    gate: Gate,
    scenario: Scenario,
    steps: tuple[Step, ...],
    on_report: Callable[[Step, CandidateReport], None],
) -> list[tuple[Step, CandidateReport]]:
    from firmware_bridge.camera.folder import FolderCamera  # noqa: PLC0415
    from firmware_bridge.sim.fixture_reader import FixtureCardReader  # noqa: PLC0415

    reader = gate.reader
    camera = gate.camera
    assert isinstance(reader, FixtureCardReader)
    assert isinstance(camera, FolderCamera)
    done: asyncio.Queue[CandidateReport] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    current: dict[str, Step] = {}

    def proctor(report: CandidateReport, _identity: ChipIdentity | None, _frame: Frame | None) -> None:
        step = current["step"]
        approve = step.proctor == "approve"
        reason = "checked the ID card and the face by hand" if approve else "face does not match the card"

        def answer() -> None:
            gate.reviews.resolve(report.attempt_id, ReviewAnswer(approve, "demo-proctor", reason))

        threading.Timer(0.3, answer).start()

    previous = gate.lane.on_report  # e.g. the MQTT link's wake-up

    def reported(report: CandidateReport) -> None:
        if previous is not None:
            previous(report)
        loop.call_soon_threadsafe(done.put_nowait, report)

    gate.lane.on_report = reported
    gate.lane.on_review = proctor
    stop = asyncio.Event()
    runner = asyncio.create_task(gate.lane.run(stop))
    results: list[tuple[Step, CandidateReport]] = []
    camera_root = gate.cfg.camera.path.parent if isinstance(gate.cfg.camera, FolderCameraConfig) else None
    assert camera_root is not None
    for step in steps:
        index = scenario.steps.index(step)
        camera.set_folder(camera_root / f"step-{index:02d}")
        current["step"] = step
        reader.tap(step.card)
        report = await done.get()
        results.append((step, report))
        on_report(step, report)
    stop.set()
    await runner
    return results


def run_demo(
    workdir: Path,
    *,
    data_dir: Path | None = None,
    candidates: int | None = None,
    on_report: Callable[[Step, CandidateReport], None] = lambda _s, _r: None,
    prepare: Callable[[AppConfig], AppConfig] = lambda cfg: cfg,
    broker_url: str | None = None,
    drain_timeout_s: float = 30.0,
) -> tuple[Gate, DemoResult]:
    """Run the scenario (or its first ``candidates`` steps); the caller closes the returned gate.

    With ``broker_url`` the events are published there, and the run waits (up to ``drain_timeout_s``) until the broker
    has acknowledged every one."""
    data = data_dir or default_data_dir()
    scenario = load_scenario(data)
    cfg = prepare(prepare_workdir(scenario, workdir, data))
    if broker_url is not None:
        cfg = cfg.model_copy(
            update={"mqtt": MqttSettings(broker_url=broker_url, backoff_min_s=1, backoff_max_s=2, anti_passback=False)}
        )
    gate = build_gate(cfg)
    link = build_link(gate)
    if link is not None:
        link.start()
    try:
        load_roster(gate, scenario)
        steps = scenario.steps if candidates is None else scenario.steps[:candidates]
        results = asyncio.run(_drive(gate, scenario, steps, on_report))
        if link is not None:
            deadline = time.monotonic() + drain_timeout_s
            while gate.store.outbox_backlog() and time.monotonic() < deadline:
                link.wake()
                time.sleep(0.1)
    finally:
        if link is not None:
            link.stop()
    return gate, DemoResult(reports=results, workdir=workdir)
