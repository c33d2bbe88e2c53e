"""The demo: one gate lane on simulated hardware, driven through a scripted queue of candidates.

Everything but the hardware is real: the store, the state machine, the face pipeline on real photos, the outbox.
The scenario (``demo/scenario.json``) names the people, their cards and what the camera sees at each tap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import secrets
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
    PrivacyConfig,
    SiteConfig,
    StoreConfig,
    TfliteMatcherConfig,
)
from edge.device_config import (
    FolderCameraConfig,
    Pn532ReaderConfig,
    ReaderConfig,
    SimulatedReaderConfig,
    SimulatedTurnstileConfig,
)
from edge.errors import ConfigError
from edge.lane import CandidateReport, Notice, ReviewOpened, on_done
from edge.mqtt.errors import MqttError
from edge.mqtt.settings import MqttSettings
from edge.reviews import ReviewAnswer
from edge.store import RosterRow
from edge.vision.pad.settings import PadSettings
from edge.vision.settings import VisionSettings
from edge.wiring import Gate, build_gate, build_link, repo_root
from firmware_bridge.sim.virtual_pn532 import VirtualPn532

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

    @property
    def expiry_date(self) -> dt.date:
        return self.birth_date.replace(year=self.birth_date.year + 40)


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
    broker_error: MqttError | None = None  # why the broker was never reached, if it was not


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


def _write_fixture(person: Person, cards: Path) -> None:
    fixture = {
        "format": FIXTURE_FORMAT,
        "personal_id": person.personal_id,
        "document_number": person.personal_id[-9:],
        "full_name": person.full_name,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "expiry_date": person.expiry_date.isoformat(),
        "face_image": str(person.card_photo.resolve()),
        "passive_auth": "valid",
        "clone_check": "valid",
    }
    (cards / f"{person.key}.json").write_text(json.dumps(fixture, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_chip_cards(scenario: Scenario, cards: Path, csca_dir: Path) -> dict[str, str]:
    """One identity file per person (virtual CCCD chip with a signed SOD from a throw-away test CSCA, which goes into
    the gate's trust store). Returns each person's card QR text."""
    from firmware_bridge.sim.identity_builder import build_identity  # noqa: PLC0415
    from firmware_bridge.sim.pki import make_test_pki  # noqa: PLC0415

    pki = make_test_pki("VN")
    from edge.identity.trust_admin import import_file  # noqa: PLC0415

    csca_dir.parent.mkdir(parents=True, exist_ok=True)
    pem = csca_dir.parent / "demo-test-csca.pem"
    pem.write_bytes(pki.csca_pem)
    import_file(csca_dir, pem, [])  # the reader trusts only what the store's manifest lists
    qr: dict[str, str] = {}
    for person in scenario.people.values():
        document = build_identity(
            person.full_name,
            person.personal_id,
            person.birth_date,
            person.expiry_date,
            person.sex,
            person.card_photo,
            cards / f"{person.key}.identity.json",
            pki=pki,
        )
        qr[person.key] = str(document["qr_text"])
    return qr


def prepare_workdir(scenario: Scenario, workdir: Path, reader_port: str | None = None) -> AppConfig:
    """Write the cards and camera scenes; return the demo's config.

    With ``reader_port`` (a virtual PN532's pty) the cards are virtual CCCD chips read over PACE and secure messaging,
    and each scene starts with the card's QR code, which the lane camera reads for the CAN. Without it the cards are
    plain fixtures served by the simulated reader."""
    from PIL import Image  # noqa: PLC0415

    from edge.keys import qr_image  # noqa: PLC0415

    cards = workdir / "cards"
    camera = workdir / "camera"
    for folder in (cards, camera):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    qr: dict[str, str] = {}
    if reader_port is not None:
        qr = _write_chip_cards(scenario, cards, workdir / "csca")
    else:
        for person in scenario.people.values():
            _write_fixture(person, cards)
    for index, step in enumerate(scenario.steps):
        scene = camera / f"step-{index:02d}"
        scene.mkdir()
        if step.card in qr:
            Image.fromarray(qr_image(qr[step.card])).save(scene / "00-card-qr.png")
        shutil.copyfile(step.live, scene / f"01-face{step.live.suffix}")
    key_file = workdir / "data.key"  # a throw-away key: review/fail face images are kept encrypted, as on a gate
    if not key_file.exists():
        key_file.write_bytes(secrets.token_bytes(32))
    key_file.chmod(0o600)
    reader: ReaderConfig = (
        Pn532ReaderConfig(port=reader_port, baud=115200, target_baud=921600, csca_dir=workdir / "csca")
        if reader_port is not None
        else SimulatedReaderConfig(cards_dir=cards)
    )
    return AppConfig(
        site=SiteConfig(site_id="demo-site", gate_id="lane-1"),
        store=StoreConfig(path=workdir / "examgate.db", synchronous="FULL"),
        policy=PolicyConfig(thresholds_file=repo_root() / "models" / "thresholds.toml"),
        lane=LaneConfig(
            session_id=scenario.session_id,
            frames_per_attempt=2,
            passage_timeout_s=2.0,
            qr_timeout_s=3.0 if reader_port is not None else 0.0,
        ),
        vision=VisionSettings(frame_window_s=0.2),
        reader=reader,
        camera=FolderCameraConfig(path=camera / "step-00", fps=30.0),
        turnstile=SimulatedTurnstileConfig(pulse_ms=300, passage_after_s=0.05),
        matcher=TfliteMatcherConfig(),
        pad=PadSettings(mode="enforce"),  # the committed thresholds: a suspected attack never passes
        privacy=PrivacyConfig(retention_days=1, key_file=key_file),
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
    present: Callable[[str], None],
    take_away: Callable[[], None],
) -> list[tuple[Step, CandidateReport]]:
    from firmware_bridge.camera.folder import FolderCamera  # noqa: PLC0415

    camera = gate.camera
    assert isinstance(camera, FolderCamera)
    done: asyncio.Queue[CandidateReport] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    current: dict[str, Step] = {}

    def proctor(notice: Notice) -> None:
        if not isinstance(notice, ReviewOpened):
            return
        step = current["step"]
        approve = step.proctor == "approve"
        reason = "checked the ID card and the face by hand" if approve else "face does not match the card"
        attempt_id = notice.report.attempt_id

        def answer() -> None:
            gate.reviews.resolve(attempt_id, ReviewAnswer(approve, "demo-proctor", reason))

        threading.Timer(0.3, answer).start()

    # after the listeners wiring registered (e.g. the MQTT link's wake-up), as before
    def reported(report: CandidateReport) -> None:
        loop.call_soon_threadsafe(done.put_nowait, report)

    gate.lane.listen(on_done(reported))
    gate.lane.listen(proctor)
    stop = asyncio.Event()
    runner = asyncio.create_task(gate.lane.run(stop))
    results: list[tuple[Step, CandidateReport]] = []
    camera_root = gate.cfg.camera.path.parent if isinstance(gate.cfg.camera, FolderCameraConfig) else None
    assert camera_root is not None
    for step in steps:
        index = scenario.steps.index(step)
        camera.set_folder(camera_root / f"step-{index:02d}")
        current["step"] = step
        present(step.card)
        waiting = asyncio.ensure_future(done.get())
        await asyncio.wait({waiting, runner}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():  # the lane stopped (it raised): surface its error instead of waiting forever
            waiting.cancel()
            await runner
            raise RuntimeError("the demo lane stopped before the candidate was finished")
        report = waiting.result()
        take_away()
        results.append((step, report))
        on_report(step, report)
    stop.set()
    await runner
    return results


def _presenter(
    gate: Gate, workdir: Path, virtual_reader: VirtualPn532 | None
) -> tuple[Callable[[str], None], Callable[[], None]]:
    """How a candidate puts their card on the reader, and takes it away again."""
    if virtual_reader is not None:
        from firmware_bridge.sim.vchip.card import load_identity_card  # noqa: PLC0415

        def insert(key: str) -> None:
            virtual_reader.insert(load_identity_card(workdir / "cards" / f"{key}.identity.json"))

        return insert, virtual_reader.remove
    from firmware_bridge.sim.fixture_reader import FixtureCardReader  # noqa: PLC0415

    reader = gate.reader
    assert isinstance(reader, FixtureCardReader)
    return reader.tap, lambda: None


def run_demo(
    workdir: Path,
    *,
    data_dir: Path | None = None,
    candidates: int | None = None,
    on_report: Callable[[Step, CandidateReport], None] = lambda _s, _r: None,
    prepare: Callable[[AppConfig], AppConfig] = lambda cfg: cfg,
    broker_url: str | None = None,
    drain_timeout_s: float = 30.0,
    chip: bool = True,
) -> tuple[Gate, DemoResult]:
    """Run the scenario (or its first ``candidates`` steps); the caller closes the returned gate.

    With ``broker_url`` the events are published there, and the run waits (up to ``drain_timeout_s``) until the broker
    has acknowledged every one."""
    data = data_dir or default_data_dir()
    scenario = load_scenario(data)
    with contextlib.ExitStack() as stack:
        port: str | None = None
        virtual_reader: VirtualPn532 | None = None
        if chip:
            virtual_reader = stack.enter_context(VirtualPn532(uart_timing=True))
            port = virtual_reader.slave_path
        cfg = prepare(prepare_workdir(scenario, workdir, port))
        return _run(cfg, scenario, workdir, candidates, on_report, broker_url, drain_timeout_s, virtual_reader)


def _run(
    cfg: AppConfig,
    scenario: Scenario,
    workdir: Path,
    candidates: int | None,
    on_report: Callable[[Step, CandidateReport], None],
    broker_url: str | None,
    drain_timeout_s: float,
    virtual_reader: VirtualPn532 | None,
) -> tuple[Gate, DemoResult]:
    if broker_url is not None:
        mqtt = MqttSettings.from_options(broker_url=broker_url, backoff_min_s=1, backoff_max_s=2, anti_passback=False)
        cfg = cfg.model_copy(update={"mqtt": mqtt})
    gate = build_gate(cfg)
    link = build_link(gate)
    if link is not None:
        link.start()
    try:
        load_roster(gate, scenario)
        steps = scenario.steps if candidates is None else scenario.steps[:candidates]
        results = asyncio.run(_drive(gate, scenario, steps, on_report, *_presenter(gate, workdir, virtual_reader)))
        if link is not None:
            deadline = time.monotonic() + drain_timeout_s
            while gate.store.outbox_backlog() and time.monotonic() < deadline:
                link.wake()
                time.sleep(0.1)
        broker_error = link.connection.unreachable_error() if link is not None else None
    finally:
        if link is not None:
            link.stop()
    return gate, DemoResult(reports=results, workdir=workdir, broker_error=broker_error)
