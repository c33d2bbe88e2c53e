"""`examgate selftest`'s csca check: says plainly when no VNM CSCA is trusted, and a stale CRL is a warning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from edge.config import AppConfig, load_config
from edge.device_config import Pn532ReaderConfig
from edge.identity import trust_admin
from edge.selftest.checks_trust import NO_VNM, check_trust
from edge.selftest.model import SelftestContext
from edge.selftest.runner import run_check
from firmware_bridge.sim import pki as sim_pki

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC)


def _ctx(csca_dir: Path | None, now: dt.datetime = NOW) -> SelftestContext:
    base: AppConfig = load_config(REPO / "config" / "examgate.example.toml", environ={})
    cfg = base.model_copy(update={"reader": Pn532ReaderConfig(port="/dev/null", csca_dir=csca_dir)})
    return SelftestContext(cfg, now=lambda: now)


def _import(tmp_path: Path, pki: sim_pki.TestPki) -> Path:
    pem = tmp_path / f"{pki.csca_cert.serial_number}.pem"
    pem.write_bytes(pki.csca_pem)
    trust_admin.import_file(tmp_path / "store", pem, [])
    return tmp_path / "store"


def test_empty_store_says_every_candidate_goes_to_review(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "dropped.pem").write_bytes(sim_pki.make_test_pki("VN").csca_pem)
    result = run_check("csca", check_trust, _ctx(tmp_path / "store"))
    assert result.status == "warn"
    assert NO_VNM in result.detail
    assert "1 loose file(s) ignored" in result.detail
    assert "examgate trust import" in result.remedy
    assert run_check("csca", check_trust, _ctx(None)).status == "warn"


def test_store_without_vnm(tmp_path: Path) -> None:
    store = _import(tmp_path, sim_pki.make_test_pki("DE"))
    result = check_trust(_ctx(store))
    assert (result.status, NO_VNM in result.detail) == ("warn", True)


def test_vnm_present_passes_and_stale_crl_warns(tmp_path: Path) -> None:
    vn = sim_pki.make_test_pki("VN")
    store = _import(tmp_path, vn)
    assert check_trust(_ctx(store)).status == "pass"
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(vn.csca_cert.subject)
        .last_update(NOW - dt.timedelta(days=10))
        .next_update(NOW + dt.timedelta(days=1))
        .sign(vn.csca_key, hashes.SHA256())
    )
    (tmp_path / "vn.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    trust_admin.import_crl(store, tmp_path / "vn.crl")
    assert check_trust(_ctx(store)).status == "pass"
    later = check_trust(_ctx(store, NOW + dt.timedelta(days=2)))
    assert later.status == "warn"
    assert "past its next update" in later.detail


def test_missing_folder_fails(tmp_path: Path) -> None:
    result = run_check("csca", check_trust, _ctx(tmp_path / "absent"))
    assert result.status == "fail"
    assert "E_TRUST_STORE_INVALID" in result.detail


@pytest.mark.parametrize("edit", ["manifest-listed file edited"])
def test_edited_store_fails(tmp_path: Path, edit: str) -> None:
    store = _import(tmp_path, sim_pki.make_test_pki("VN"))
    listed = next((store / "csca").iterdir())
    listed.write_bytes(listed.read_bytes()[:-1] + b"\x00")
    result = check_trust(_ctx(store))
    assert result.status == "fail", edit
