from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from edge.identity import trust_admin
from edge.identity.passive_auth import verify_passive
from edge.identity.sod import parse_sod
from edge.identity.trust_store import TrustStore, TrustStoreError, parse_master_list
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki

NOW = dt.datetime.now(dt.UTC)


def _master_list(cscas: list[sim_pki.TestPki], signer_csca: sim_pki.TestPki) -> tuple[bytes, sim_pki.TestPki]:
    # the list signer is a DS-like certificate under one CSCA, as ICAO 9303-12 prescribes
    signer = sim_pki.make_test_pki(csca=(signer_csca.csca_key, signer_csca.csca_cert))
    return sim_pki.build_master_list([p.csca_cert for p in cscas], signer.ds_key, signer.ds_cert), signer


def test_folder_with_pem_der_and_master_list(tmp_path: Path, dev_dgs: dict[int, bytes]) -> None:
    vn, de, fr, xx = (sim_pki.make_test_pki(country=c) for c in ("VN", "DE", "FR", "XX"))
    store = tmp_path / "store"
    (tmp_path / "vn.pem").write_bytes(vn.csca_pem)
    (tmp_path / "de.cer").write_bytes(de.csca_cert.public_bytes(serialization.Encoding.DER))
    ml, _ = _master_list([fr, xx, vn], signer_csca=fr)
    (tmp_path / "bsi.ml").write_bytes(ml)
    (tmp_path / "fr.pem").write_bytes(fr.csca_pem)
    trust_admin.import_file(store, tmp_path / "vn.pem", [])
    trust_admin.import_file(store, tmp_path / "de.cer", [])
    trust_admin.import_file(store, tmp_path / "bsi.ml", [tmp_path / "fr.pem"])
    (store / "README.txt").write_text("not a certificate")
    store_loaded = TrustStore.load(store)
    assert len(store_loaded) == 4  # VN appears twice, kept once
    assert [Path(p).name for p, _ in store_loaded.problems] == ["README.txt"]
    _, info = parse_master_list(ml, "bsi.ml", [fr.csca_cert])
    assert info.certificates == 3
    assert info.signer_verified
    for pki in (vn, de, fr, xx):
        sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
        assert verify_passive(sod, dev_dgs, store_loaded, NOW).status == "valid"


def test_master_list_signer_not_in_list(tmp_path: Path) -> None:
    fr, outsider = sim_pki.make_test_pki(country="FR"), sim_pki.make_test_pki(country="ZZ")
    ml, _ = _master_list([fr], signer_csca=outsider)
    certs, info = parse_master_list(ml)
    assert len(certs) == 1
    assert not info.signer_verified
    # a self-consistent list (signer under a CSCA in the same list) is not verified either: nothing is pinned
    own, _ = _master_list([fr], signer_csca=fr)
    assert not parse_master_list(own)[1].signer_verified
    assert parse_master_list(own, signer_cas=[fr.csca_cert])[1].signer_verified


def test_reload_picks_up_new_certificates(tmp_path: Path, dev_dgs: dict[int, bytes]) -> None:
    pki = sim_pki.make_test_pki()
    store = TrustStore.load(tmp_path)
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    assert verify_passive(sod, dev_dgs, store, NOW).status == "no_trust_anchor"
    (tmp_path.parent / f"{tmp_path.name}-vn.pem").write_bytes(pki.csca_pem)
    trust_admin.import_file(tmp_path, tmp_path.parent / f"{tmp_path.name}-vn.pem", [])
    store.reload()
    assert verify_passive(sod, dev_dgs, store, NOW).status == "valid"
    trust_admin.remove(tmp_path, trust_admin.list_entries(tmp_path)[0]["sha256"])
    store.reload()
    assert len(store) == 0


def test_pem_bundle(tmp_path: Path) -> None:
    a, b = sim_pki.make_test_pki(country="AA"), sim_pki.make_test_pki(country="BB")
    (tmp_path / "bundle.pem").write_bytes(a.csca_pem + b"\n" + b.csca_pem)
    trust_admin.import_file(tmp_path / "store", tmp_path / "bundle.pem", [])
    assert len(TrustStore.load(tmp_path / "store")) == 2


def test_broken_files_are_reported_not_fatal(tmp_path: Path) -> None:
    pki = sim_pki.make_test_pki()
    (tmp_path / "ok.pem").write_bytes(pki.csca_pem)
    trust_admin.import_file(tmp_path / "store", tmp_path / "ok.pem", [])
    folder = tmp_path / "store"
    (folder / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    (folder / "garbage.der").write_bytes(b"\x30\x82\xff\xff\x00")
    (folder / "signed-other.p7").write_bytes(sim_pki.build_signed_data("1.2.3.4", b"\x04\x00", pki.ds_key, pki.ds_cert))
    store = TrustStore.load(folder)
    assert len(store) == 1
    assert sorted(Path(p).name for p, _ in store.problems) == ["broken.pem", "garbage.der", "signed-other.p7"]


def test_missing_folder_and_reload_without_folder(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError) as info:
        TrustStore.load(tmp_path / "absent")
    assert info.value.code == "E_TRUST_STORE_INVALID"
    with pytest.raises(TrustStoreError):
        TrustStore().reload()


def test_issuer_lookup_prefers_key_identifier() -> None:
    old = sim_pki.make_test_pki()
    new = sim_pki.make_test_pki()  # renewed CSCA: same DN, new key
    store = TrustStore.from_certificates([old.csca_cert, new.csca_cert])
    assert store.issuers_of(new.ds_cert) == [new.csca_cert]
    assert store.issuers_of(old.ds_cert) == [old.csca_cert]
