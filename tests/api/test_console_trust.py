"""Issue 14: a PN532 gate without a valid Vietnamese CSCA says so on the proctor console, plainly."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.api.app import create_app
from edge.api.settings import ApiSettings
from edge.config import sample_config
from edge.device_config import Pn532ReaderConfig
from edge.identity import trust_admin
from edge.identity.trust_store import NO_VNM, vnm_gap
from edge.wiring import build_gate
from firmware_bridge.camera.folder import FolderCamera
from firmware_bridge.sim import pki as sim_pki
from firmware_bridge.sim.fixture_reader import FixtureCardReader
from firmware_bridge.sim.score_verifier import ScoreTableVerifier
from firmware_bridge.turnstile.virtual import VirtualTurnstile


def _store_with(tmp_path: Path, country: str) -> Path:
    pki = sim_pki.make_test_pki(country)
    pem = tmp_path / f"{country}.pem"
    pem.write_bytes(pki.csca_pem)
    trust_admin.import_file(tmp_path / f"store-{country}", pem, [])
    return tmp_path / f"store-{country}"


def test_vnm_gap(tmp_path: Path) -> None:
    assert vnm_gap(None) == NO_VNM
    assert vnm_gap(tmp_path / "missing") == NO_VNM
    assert vnm_gap(_store_with(tmp_path, "FR")) == NO_VNM
    vn = _store_with(tmp_path, "VN")
    assert vnm_gap(vn) is None
    assert vnm_gap(vn, now=dt.datetime(2200, 1, 1, tzinfo=dt.UTC)) == NO_VNM  # every VNM CSCA expired


def _console_html(tmp_path: Path, reader_cfg: Pn532ReaderConfig | None) -> str:
    (tmp_path / "cards").mkdir()
    (tmp_path / "camera").mkdir()
    shutil.copyfile(
        Path(__file__).resolve().parents[2] / "demo" / "faces" / "person01" / "img5.jpg", tmp_path / "camera" / "a.jpg"
    )
    cfg = sample_config(tmp_path)
    if reader_cfg is not None:
        cfg = cfg.model_copy(update={"reader": reader_cfg})
    gate = build_gate(
        cfg,
        session_id="SES1",
        reader=FixtureCardReader(tmp_path / "cards"),
        camera=FolderCamera(tmp_path / "camera", fps=1000),
        turnstile=VirtualTurnstile(pulse_ms=10, passage_after_s=0.01),
        verifier=ScoreTableVerifier({}),
    )
    for name in ("kiosk.token", "metrics.token"):
        (tmp_path / name).write_text("token-0123456789abcdef0123", encoding="utf-8")
        (tmp_path / name).chmod(0o600)
    settings = ApiSettings.model_validate(
        {"kiosk_token_file": tmp_path / "kiosk.token", "metrics_token_file": tmp_path / "metrics.token"}
    )
    app = create_app(gate, settings)
    app.state.accounts.add_user("proctor1", "proctor", "proctor-pass-1", actor="test")
    client = TestClient(app, base_url="http://testserver")
    assert client.post("/api/login", json={"username": "proctor1", "password": "proctor-pass-1"}).status_code == 200
    response = client.get("/console?lang=en")
    assert response.status_code == 200
    try:
        return response.text
    finally:
        gate.store.close()


@pytest.mark.parametrize(
    ("reader", "shown"),
    [("pn532-no-store", True), ("pn532-fr-only", True), ("pn532-vn", False), ("simulated", False)],
)
def test_console_banner(tmp_path: Path, reader: str, shown: bool) -> None:
    folders = {
        "pn532-no-store": None,
        "pn532-fr-only": _store_with(tmp_path, "FR") if reader == "pn532-fr-only" else None,
        "pn532-vn": _store_with(tmp_path, "VN") if reader == "pn532-vn" else None,
    }
    cfg = None if reader == "simulated" else Pn532ReaderConfig(port="/dev/null", csca_dir=folders[reader])
    html = _console_html(tmp_path, cfg)
    assert ('id="no-csca"' in html) is shown
    if shown:  # (the text itself is also in the page's boot JSON of screen texts, so only check it when shown)
        banner = html.split('id="no-csca"', 1)[1].split("</p>", 1)[0]
        assert "no CSCA for VNM: every candidate goes to review" in banner
