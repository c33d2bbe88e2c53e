"""Helpers of the lane tests (imported as a plain module: tests/ is not a package; tests/api, tests/ops and
tests/privacy put this folder on sys.path in their conftest): a gate's config file, card fixtures, a gate on simulated
devices, candidates through its lane."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from edge.config import AppConfig, sample_config
from edge.devices import FaceVerifier
from edge.lane import CandidateReport, Notice, ReviewOpened, on_done
from edge.reviews import ReviewAnswer
from edge.wiring import Gate, build_gate
from firmware_bridge.camera.folder import FolderCamera
from firmware_bridge.sim.fixture_reader import FORMAT, FixtureCardReader
from firmware_bridge.turnstile.virtual import VirtualTurnstile


def gate_toml(
    site_id: str,
    thresholds_version: str,
    *,
    root: Path | None = None,
    db: str = "gate.db",
    store_extra: str = "",
    extra: str = "",
) -> str:
    """The config file of a gate on the simulated reader and the folder camera: database ``db``, cards and camera
    under ``root`` (relative paths without one); ``store_extra`` goes into [store], ``extra`` (more sections) last."""
    base = "" if root is None else f"{root}/"
    return f"""
[site]
site_id = "{site_id}"
gate_id = "lane-1"

[store]
path = "{base}{db}"
{store_extra}
[policy]
thresholds = {{ version = "{thresholds_version}", match = 0.6, review = 0.5 }}

[reader]
kind = "simulated"
cards_dir = "{base}cards"

[camera]
kind = "folder"
path = "{base}camera"
{extra}"""


def write_card(
    cards: Path, name: str, personal_id: str, full_name: str, face_image: str | Path, **extra: object
) -> None:
    """The card fixture ``cards/<name>.json`` (born 1999-01-01 unless ``extra`` says otherwise)."""
    card = {
        "format": FORMAT,
        "personal_id": personal_id,
        "full_name": full_name,
        "birth_date": "1999-01-01",
        "face_image": str(face_image),
        **extra,
    }
    (cards / f"{name}.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")


def sim_gate(
    root: Path, verifier: FaceVerifier, *, session_id: str = "SES1", scene: str = "high", cfg: AppConfig | None = None
) -> Gate:
    """A gate on the simulators: card fixtures in ``root/cards``, the camera on the folder ``root/camera/<scene>``,
    a virtual turnstile the candidate walks through at once; ``cfg`` defaults to the sample config over ``root``."""
    return build_gate(
        cfg or sample_config(root),
        session_id=session_id,
        reader=FixtureCardReader(root / "cards"),
        camera=FolderCamera(root / "camera" / scene, fps=1000),
        turnstile=VirtualTurnstile(pulse_ms=10, passage_after_s=0.01),
        verifier=verifier,
    )


def tap(gate: Gate, card_name: str, scene_name: str, *, proctor: ReviewAnswer | None = None) -> CandidateReport:
    """One candidate: the camera on scene ``scene_name``, card ``card_name`` tapped, the lane's decision; a review the
    attempt opens is answered by ``proctor`` (without one it waits for the lane's review timeout)."""
    reader = gate.reader
    camera = gate.camera
    assert isinstance(reader, FixtureCardReader) and isinstance(camera, FolderCamera)
    camera.set_folder(camera.folder.parent / scene_name)
    reader.tap(card_name)

    async def go() -> CandidateReport:
        gate.lane.reviews.bind(asyncio.get_running_loop())
        if proctor is not None:
            answer = proctor

            def proctor_answers(notice: Notice) -> None:
                if isinstance(notice, ReviewOpened):
                    gate.reviews.resolve(notice.report.attempt_id, answer)

            # the latest proctor answers from now on (one proctor listener per gate, as the old callback slot)
            kept = [f for f in gate.lane.listeners if getattr(f, "__name__", "") != "proctor_answers"]
            gate.lane.listeners[:] = [*kept, proctor_answers]
        polled = await asyncio.to_thread(reader.poll, 1.0)
        assert polled is not None
        return await gate.lane.process(polled)

    return asyncio.run(go())


def run_until(gate: Gate, *, taps: int, stop_after_reports: int, on_review_stop: bool = False) -> list[CandidateReport]:
    """Tap card ``an`` ``taps`` times and run the lane's loop until ``stop_after_reports`` candidates are decided
    (or, with ``on_review_stop``, until a review opens); returns the reports."""
    reader = gate.reader
    assert isinstance(reader, FixtureCardReader)
    reports: list[CandidateReport] = []

    async def go() -> None:
        stop = asyncio.Event()

        def done(report: CandidateReport) -> None:
            reports.append(report)
            if len(reports) >= stop_after_reports:
                stop.set()

        gate.lane.listen(on_done(done))
        if on_review_stop:
            # SIGTERM while the proctor has not answered
            gate.lane.listen(lambda notice: stop.set() if isinstance(notice, ReviewOpened) else None)
        for _ in range(taps):
            reader.tap("an")
        await asyncio.wait_for(gate.lane.run(stop), timeout=30)

    asyncio.run(go())
    return reports
