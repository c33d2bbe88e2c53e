"""Issue 14 fault 1: the PN532's serial link goes away (USB adapter pulled, pty closed) and comes back.

The port is a symlink, as udev's ``/dev/serial/by-id/…`` name is: the adapter comes back under the same name on
a new tty. The reader reports a typed fault while it is gone and opens the port again by itself; the lane
reports ``device.fault`` once per code, keeps serving, and reads the next tap on the new link.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from cryptography import x509
from PIL import Image

from edge.config import sample_config
from edge.device_config import Pn532ReaderConfig
from edge.devices import AccessKey, CardTap
from edge.identity.trust_store import NO_VNM, TrustStore
from edge.lane import CandidateReport, on_done
from edge.store import RosterRow
from edge.wiring import Gate, build_gate
from firmware_bridge.pn532.errors import Pn532Error
from firmware_bridge.reader import open_reader
from firmware_bridge.sim.identity_builder import build_identity
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.sim.vchip.card import load_identity_card
from firmware_bridge.sim.virtual_pn532 import VirtualPn532
from firmware_bridge.turnstile.virtual import VirtualTurnstile

pytestmark = pytest.mark.timeout(60)

PERSONAL_ID = "001099012345"
CAN = "012345"
FACES = Path(__file__).resolve().parents[2] / "demo" / "faces"


class CanKeys:
    """The access key the QR camera would have read off the card."""

    def key_for(self, tap: CardTap) -> AccessKey | None:
        return AccessKey(can=CAN)


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrustStore]:
    folder = tmp_path_factory.mktemp("identity")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(5).integers(0, 255, (200, 160, 3), dtype=np.uint8)).save(buffer, "JPEG")
    (folder / "face.jpg").write_bytes(buffer.getvalue())
    document = build_identity(
        full_name="Nguyễn Văn An",
        personal_id=PERSONAL_ID,
        birth_date=dt.date(1999, 1, 1),
        expiry_date=dt.date(2039, 1, 1),
        sex="M",
        face_image_path=folder / "face.jpg",
        out_path=folder / "pace.json",
    )
    trust = TrustStore.from_certificates([x509.load_pem_x509_certificate(document["csca_certificate_pem"].encode())])
    return folder / "pace.json", trust


def wait_until(check: Callable[[], object], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.1)


def _point(link: Path, sim: VirtualPn532) -> None:
    tmp = link.with_suffix(".new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(sim.slave_path)
    tmp.replace(link)


def test_reader_reopens_the_port_when_the_adapter_comes_back(tmp_path: Path, identity: tuple[Path, TrustStore]) -> None:
    path, trust = identity
    link = tmp_path / "ttyPN532"
    first = VirtualPn532(None)
    first.start()
    _point(link, first)
    reader = open_reader(Pn532ReaderConfig(port=str(link)), trust=trust)
    try:
        assert reader.poll(0.3) is None  # connected, no card
        first.unplug()
        with pytest.raises(Pn532Error) as gone:
            reader.poll(0.3)
        assert gone.value.code == "E_PN532_FAULT" and gone.value.remedy
        with pytest.raises(Pn532Error):  # still gone: the port does not open, typed again
            reader.poll(0.3)
        with VirtualPn532(load_identity_card(path)) as second:
            _point(link, second)
            tap = reader.poll(2.0)
            assert tap is not None
            assert reader.read(tap, AccessKey(can=CAN)).personal_id == PERSONAL_ID
    finally:
        reader.close()
        first.stop()


def lane_gate(tmp_path: Path, link: Path, trust: TrustStore) -> Gate:
    """A lane on the PN532 reader at ``link``; the camera and the face score are simulated (the face matches)."""
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copyfile(FACES / "person01" / "img5.jpg", camera / "grey.jpg")
    gate = build_gate(
        sample_config(tmp_path),
        session_id="S",
        reader=open_reader(Pn532ReaderConfig(port=str(link)), trust=trust),
        verifier=ScoreTableVerifier({"grey": 0.95}),  # type: ignore[arg-type]
        turnstile=VirtualTurnstile(pulse_ms=10, passage_after_s=0.01),
    )
    gate.store.replace_roster("S", [RosterRow("SBD-1", PERSONAL_ID, "Nguyễn Văn An")])
    gate.lane.keys = CanKeys()
    gate.lane.settings = dataclasses.replace(gate.lane.settings, frames_per_attempt=1, capture_window_s=0.0)
    return gate


def reader_faults(gate: Gate) -> list[str]:
    rows = [json.loads(r.payload) for r in gate.store.outbox_all() if r.event_type == "device.fault"]
    return [row["code"] for row in rows if row["device"] == "reader"]


def test_lane_reports_the_fault_and_reads_the_next_tap_on_the_new_link(
    tmp_path: Path, identity: tuple[Path, TrustStore]
) -> None:
    path, trust = identity
    link = tmp_path / "ttyPN532"
    first = VirtualPn532(None)
    first.start()
    _point(link, first)
    gate = lane_gate(tmp_path, link, trust)
    reports: list[CandidateReport] = []
    second = VirtualPn532(load_identity_card(path))

    def fault_codes() -> list[str]:
        return reader_faults(gate)

    async def go() -> None:
        stop = asyncio.Event()
        gate.lane.listen(on_done(lambda report: (reports.append(report), stop.set())))
        run = asyncio.create_task(gate.lane.run(stop))
        await asyncio.sleep(0.5)  # polling the first link, no card
        assert not fault_codes()
        await asyncio.to_thread(first.unplug)
        await asyncio.to_thread(wait_until, fault_codes, 10.0)
        assert fault_codes(), "no device.fault for the reader after the link went away"
        second.start()
        _point(link, second)  # the adapter is back under the same name; a card is on it
        await asyncio.wait_for(run, timeout=30)

    try:
        asyncio.run(go())
        codes = fault_codes()
        rows = [json.loads(r.payload) for r in gate.store.outbox_all() if r.event_type == "device.status"]
    finally:
        gate.close()
        first.stop()
        second.stop()
    assert codes[0] == "E_PN532_FAULT"
    assert len(reports) == 1
    assert reports[0].id_masked is not None  # the chip was read on the new link
    assert (reports[0].outcome, reports[0].passed) == ("pass", True), reports[0]
    assert {"reader": "ok"} in [row.get("details") for row in rows]  # said when the reader came back


def test_link_pulled_mid_read_fails_that_candidate_safely_and_the_next_is_read(
    tmp_path: Path, identity: tuple[Path, TrustStore]
) -> None:
    path, trust = identity
    link = tmp_path / "ttyPN532"
    first = VirtualPn532(load_identity_card(path), unplug_after_apdus=20)  # PACE done, data groups next
    first.start()
    _point(link, first)
    gate = lane_gate(tmp_path, link, trust)
    turnstile = gate.turnstile
    assert isinstance(turnstile, VirtualTurnstile)
    reports: list[CandidateReport] = []
    second = VirtualPn532(load_identity_card(path))

    async def go() -> None:
        stop = asyncio.Event()

        def done(report: CandidateReport) -> None:
            reports.append(report)
            if len(reports) == 2:
                stop.set()

        gate.lane.listen(on_done(done))
        run = asyncio.create_task(gate.lane.run(stop))
        await asyncio.to_thread(wait_until, lambda: reports and reader_faults(gate), 15.0)
        assert reports, "the candidate whose read broke off was not finished"
        second.start()
        _point(link, second)
        await asyncio.wait_for(run, timeout=30)

    try:
        asyncio.run(go())
        codes = reader_faults(gate)
    finally:
        gate.close()
        first.stop()
        second.stop()
    broken, next_one = reports
    assert broken.passed is not True and broken.outcome != "pass", broken  # never admitted on a half read
    assert "E_CHIP_READER_LINK" in broken.reasons, broken
    assert codes and codes[0] == "E_PN532_FAULT"  # the next poll found the port gone
    assert (next_one.outcome, next_one.passed) == ("pass", True), next_one
    assert len(turnstile.pulses) == 1  # one release: the candidate read in full


def test_a_reader_without_trust_store_says_so_at_start(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 14 day one: the daemon's console says plainly that every candidate will go to review."""
    with caplog.at_level(logging.WARNING):
        reader = open_reader(Pn532ReaderConfig(port="/dev/null"))  # nothing opened yet
    reader.close()
    assert f"reader.csca_dir is not set: {NO_VNM}" in caplog.text
    assert NO_VNM == "no CSCA for VNM: every candidate goes to review"
