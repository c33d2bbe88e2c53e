"""The lane end to end on simulators: card fixtures, image-folder camera, virtual turnstile, a score-table verifier.

The verifier here never looks at pixels (the real one is tested in tests/vision and in the demo test); what is under
test is the lane: which events it stores, when the relay fires, how faults and reviews are handled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lane_helpers import sim_gate, tap, write_card

from edge.lane import (
    REVIEW_FLAGS,
    AssistedRequest,
    CandidateDone,
    CandidateReport,
    GateReleased,
    Notice,
    ReviewOpened,
    TapSeen,
    on_done,
)
from edge.reviews import ReviewAnswer
from edge.store import RosterRow
from edge.vision.verifier import REVIEW_EVIDENCE
from edge.wiring import Gate
from firmware_bridge.camera.folder import FolderCamera
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile

FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"


def card(tmp: Path, name: str, pid: str, **extra: object) -> None:
    write_card(tmp / "cards", name, pid, name.title(), FACES / "person01" / "img4.jpg", sex="M", **extra)


def scene(tmp: Path, name: str, image: str) -> Path:
    folder = tmp / "camera" / name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FACES / image, folder / f"{name}.jpg")
    return folder


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    (tmp_path / "cards").mkdir()
    card(tmp_path, "an", "001099012345")
    card(tmp_path, "binh", "079301004567")
    card(tmp_path, "stranger", "034095001357")
    card(tmp_path, "pulled", "048300007788", fail_code="E_CHIP_CARD_REMOVED")
    scores = {"high": 0.9, "grey": 0.55, "low": 0.1}
    for name in scores:
        scene(tmp_path, name, "person01/img5.jpg")
    scene(tmp_path, "empty", "person01/img5.jpg")  # score table has no entry: no usable face
    built = sim_gate(tmp_path, ScoreTableVerifier(scores))
    built.store.replace_roster(
        "SES1",
        [
            RosterRow("SBD-1", "001099012345", "An"),
            RosterRow("SBD-2", "079301004567", "Binh"),
            RosterRow("SBD-3", "048300007788", "P"),
        ],
    )
    built.lane.settings = dataclasses.replace(
        built.lane.settings, capture_window_s=0.0, frames_per_attempt=1, passage_timeout_s=0.5, review_timeout_s=2.0
    )
    yield built
    built.close()


def tap_and_run_for(gate: Gate, card_name: str, seconds: float) -> None:
    """Tap a card, then run the lane's loop for ``seconds`` and stop it."""
    reader = gate.reader
    assert isinstance(reader, FixtureCardReader)

    async def go() -> None:
        stop = asyncio.Event()
        reader.tap(card_name)
        task = asyncio.create_task(gate.lane.run(stop))
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.wait_for(task, timeout=10)

    asyncio.run(go())


def events(gate: Gate) -> list[str]:
    return [row.event_type for row in gate.store.outbox_pending(1000)]


def pulses(gate: Gate) -> int:
    turnstile = gate.turnstile
    assert isinstance(turnstile, VirtualTurnstile)
    return len(turnstile.pulses)


def test_honest_candidate_passes_and_gate_pulses_once(gate: Gate) -> None:
    report = tap(gate, "an", "high")
    assert report.outcome == "pass" and report.passed is True
    assert report.id_masked == "0010******45"
    assert pulses(gate) == 1
    assert events(gate) == ["candidate.admitted", "gate.opened", "gate.passage_confirmed"]
    assert gate.store.is_admitted("SES1", "SBD-1")


def test_second_tap_is_flagged(gate: Gate) -> None:
    tap(gate, "an", "high")
    again = tap(gate, "an", "high")
    assert again.outcome == "fail" and again.reasons == ("E_ANTI_PASSBACK",)
    assert pulses(gate) == 1


def test_impostor_and_stranger_never_open(gate: Gate) -> None:
    assert tap(gate, "binh", "low").reasons == ("E_FACE_NO_MATCH",)
    assert tap(gate, "stranger", "high").reasons == ("E_NOT_ON_ROSTER",)
    assert pulses(gate) == 0
    assert events(gate) == ["candidate.rejected", "candidate.rejected"]


def test_grey_zone_goes_to_review_and_approval_opens(gate: Gate) -> None:
    report = tap(gate, "binh", "grey", proctor=ReviewAnswer(True, "proctor1", "checked the card by hand"))
    assert report.outcome == "pass" and report.reviewed_by == "proctor1"
    assert report.face_attempts == 3
    assert pulses(gate) == 1
    assert events(gate) == [
        "candidate.review_requested",
        "review.resolved",
        "gate.opened",
        "gate.passage_confirmed",
    ]


def test_review_denied_keeps_gate_shut(gate: Gate) -> None:
    report = tap(gate, "binh", "grey", proctor=ReviewAnswer(False, "proctor1", "not the same person"))
    assert report.outcome == "review" or report.outcome == "fail"
    assert pulses(gate) == 0
    assert "gate.opened" not in events(gate)


def test_review_timeout_is_a_denial_by_the_system(gate: Gate) -> None:
    report = tap(gate, "binh", "grey")
    assert report.reviewed_by == "system"
    assert pulses(gate) == 0


def test_no_face_in_every_attempt_goes_to_review(gate: Gate) -> None:
    report = tap(gate, "an", "empty", proctor=ReviewAnswer(False, "p", "no face"))
    assert report.reasons[0] == "E_FACE_CAPTURE_FAILED"
    assert "E_NO_FACE" in report.reasons


def test_card_pulled_mid_read_fails_cleanly_after_retry(gate: Gate) -> None:
    report = tap(gate, "pulled", "high")
    assert report.outcome == "fail"
    assert report.reasons == ("E_CHIP_READ_FAILED", "E_CHIP_CARD_REMOVED")
    reader = gate.reader
    assert isinstance(reader, FixtureCardReader) and reader.reads == 2  # retried once
    assert pulses(gate) == 0


def test_audit_chain_covers_every_decision(gate: Gate) -> None:
    tap(gate, "an", "high")
    tap(gate, "binh", "low")
    report = gate.store.verify_audit()
    assert report.ok
    assert report.rows == 1 + 1 + 2 + 1  # roster import, An's decision, gate opened + passage, Binh's decision


def test_run_loop_stops_after_current_candidate(gate: Gate) -> None:
    reader = gate.reader
    assert isinstance(reader, FixtureCardReader)

    async def go() -> list[CandidateReport]:
        stop = asyncio.Event()
        done: list[CandidateReport] = []

        def on_report(report: CandidateReport) -> None:
            done.append(report)
            stop.set()  # a SIGTERM arriving while this candidate was in progress

        gate.lane.listen(on_done(on_report))
        reader.tap("an")
        await asyncio.wait_for(gate.lane.run(stop), timeout=20)
        return done

    done = asyncio.run(go())
    assert len(done) == 1 and done[0].outcome == "pass" and done[0].passed is True
    assert events(gate)[0] == "device.status" and events(gate)[-1] == "device.status"


def test_fire_release_locks_the_lane(gate: Gate) -> None:
    turnstile = gate.turnstile
    assert isinstance(turnstile, VirtualTurnstile)
    turnstile.set_fire_release(True)
    tap_and_run_for(gate, "an", 1.5)
    assert not gate.store.is_admitted("SES1", "SBD-1")
    rows = [json.loads(r.payload) for r in gate.store.outbox_pending(100)]
    assert any(r["event_type"] == "device.status" and r["state"] == "locked" for r in rows)


def test_clock_going_backwards_is_reported(gate: Gate) -> None:
    gate.lane._last_wall += 3600
    asyncio.run(gate.lane.check_clock())
    faults = [json.loads(r.payload) for r in gate.store.outbox_pending(10)]
    assert faults[-1]["event_type"] == "device.fault" and faults[-1]["code"] == "E_CLOCK_BACKWARDS"


def assisted(gate: Gate, request: AssistedRequest, scene_name: str) -> CandidateReport:
    camera = gate.camera
    assert isinstance(camera, FolderCamera)
    camera.set_folder(camera.folder.parent / scene_name)

    async def go() -> CandidateReport:
        gate.lane.reviews.bind(asyncio.get_running_loop())
        return await gate.lane.process_assisted(request)

    return asyncio.run(go())


def test_officer_assisted_admission_is_logged_and_matched_on_the_roster_photo(gate: Gate) -> None:
    gate.store.upsert_roster(
        "SES1", [RosterRow("SBD-4", "001099000444", "No Card", photo=(FACES / "person01" / "img6.jpg").read_bytes())]
    )
    request = AssistedRequest("001099000444", "manual_lost_card", "officer1", commitment_signed=True, note="lost card")
    report = assisted(gate, request, "high")
    assert report.outcome == "pass" and pulses(gate) == 1
    rows = [json.loads(r.payload) for r in gate.store.outbox_pending(100)]
    admitted = next(r for r in rows if r["event_type"] == "candidate.admitted")
    assert admitted["credential"] == "manual_lost_card"
    assert "ASSISTED_MANUAL_LOST_CARD" in admitted["reason_codes"]
    assert admitted["subject"]["id_masked"] == "0010******44"
    conn = sqlite3.connect(gate.store.path)
    assert conn.execute("SELECT officer, commitment_signed FROM assisted_admissions").fetchall() == [("officer1", 1)]


def test_officer_assisted_without_roster_photo_goes_to_review(gate: Gate) -> None:
    request = AssistedRequest("079301004567", "vneid_level2", "officer1")
    report = assisted(gate, request, "high")
    assert report.reasons[0] == "E_FACE_CAPTURE_FAILED"  # nothing to match against: a person decides
    assert pulses(gate) == 0


def test_review_flags_match_the_verifier() -> None:
    assert REVIEW_FLAGS == REVIEW_EVIDENCE


# ---------------------------------------------------------------- notices to listeners
def run_one(gate: Gate, card_name: str, scene_name: str, *listeners: Callable[[Notice], None]) -> list[Notice]:
    """Serve one tapped card through the run loop; the notices the lane told, in order."""
    reader, camera = gate.reader, gate.camera
    assert isinstance(reader, FixtureCardReader) and isinstance(camera, FolderCamera)
    camera.set_folder(camera.folder.parent / scene_name)
    heard: list[Notice] = []

    async def go() -> None:
        stop = asyncio.Event()

        def collect(notice: Notice) -> None:
            heard.append(notice)
            if isinstance(notice, CandidateDone):
                stop.set()
            if isinstance(notice, ReviewOpened):
                gate.reviews.resolve(notice.report.attempt_id, ReviewAnswer(True, "proctor-1", "checked by hand"))

        for listener in (*listeners, collect):
            gate.lane.listen(listener)
        reader.tap(card_name)
        await asyncio.wait_for(gate.lane.run(stop), timeout=20)

    asyncio.run(go())
    return heard


def test_listeners_hear_tap_release_and_done_in_order(gate: Gate) -> None:
    heard = run_one(gate, "an", "high")
    assert [type(n) for n in heard] == [TapSeen, GateReleased, CandidateDone]
    released, done = heard[1], heard[2]
    assert isinstance(released, GateReleased) and isinstance(done, CandidateDone)
    assert released.attempt_id == done.report.attempt_id and released.direction == "entry"
    assert done.report.outcome == "pass" and done.report.passed is True


def test_review_notice_comes_before_the_proctors_release(gate: Gate) -> None:
    heard = run_one(gate, "an", "grey")
    assert [type(n) for n in heard] == [TapSeen, ReviewOpened, GateReleased, CandidateDone]
    opened = heard[1]
    assert isinstance(opened, ReviewOpened) and opened.identity is not None
    assert opened.identity.personal_id == "001099012345" and opened.report.candidate_id == "SBD-1"


def test_a_listener_that_raises_is_logged_and_the_lane_goes_on(gate: Gate, caplog: pytest.LogCaptureFixture) -> None:
    def broken(_notice: Notice) -> None:
        raise RuntimeError("001099012345 screen gone")  # the message is never logged

    with caplog.at_level("ERROR", logger="examgate.lane"):
        heard = run_one(gate, "an", "high", broken)
    assert [type(n) for n in heard] == [TapSeen, GateReleased, CandidateDone]
    done = heard[-1]
    assert isinstance(done, CandidateDone) and done.report.outcome == "pass"
    failures = [r.getMessage() for r in caplog.records if "lane listener failed" in r.getMessage()]
    assert len(failures) == 3 and "notice=CandidateDone" in failures[-1] and "error=RuntimeError" in failures[-1]
    assert "001099012345" not in caplog.text
    assert pulses(gate) == 1 and "candidate.admitted" in events(gate)


def test_a_locked_lane_tells_no_tap(gate: Gate) -> None:
    gate.lane.centre_lock = "exam paused"
    heard: list[Notice] = []
    gate.lane.listen(heard.append)
    tap_and_run_for(gate, "an", 1.0)
    assert heard == [] and pulses(gate) == 0
