"""The CSCA trust store an operator manages: forged master lists refused, manifest-only loading, CRLs, DS checks.

Every PKI here is throw-away (generated per test run); no key or certificate is committed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.cli.main import main
from edge.identity import tlv, trust_admin
from edge.identity.passive_auth import verify_passive
from edge.identity.sod import parse_sod
from edge.identity.trust_store import MANIFEST_NAME, TrustStore, sha256_hex
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki

NOW = dt.datetime.now(dt.UTC)


def _dgs() -> dict[int, bytes]:
    return {1: b"\x61\x05\x5f\x1f\x02AB", 2: b"\x75\x03\x01\x02\x03"}


def _master_list(cscas: list[sim_pki.TestPki], signer_csca: sim_pki.TestPki) -> bytes:
    signer = sim_pki.make_test_pki(csca=(signer_csca.csca_key, signer_csca.csca_cert))
    return sim_pki.build_master_list([p.csca_cert for p in cscas], signer.ds_key, signer.ds_cert)


def _pem(tmp_path: Path, name: str, cert: x509.Certificate) -> Path:
    path = tmp_path / name
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _store_state(store: Path) -> dict[str, bytes]:
    if not store.exists():
        return {}
    return {p.relative_to(store).as_posix(): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


def _flip_in_first_certificate(ml: bytes, pki: sim_pki.TestPki) -> bytes:
    der = pki.csca_cert.public_bytes(serialization.Encoding.DER)
    at = ml.index(der) + len(der) - 40  # inside the certificate's signature value
    return ml[:at] + bytes([ml[at] ^ 0x01]) + ml[at + 1 :]


@pytest.fixture
def publisher() -> sim_pki.TestPki:
    """The country that publishes the master list (its CSCA issues the list signer); the operator pins it."""
    return sim_pki.make_test_pki(country="DE")


@pytest.fixture
def vn() -> sim_pki.TestPki:
    return sim_pki.make_test_pki(country="VN")


# ------------------------------------------------------------------ the forgery (issue 14)
def test_tampered_master_list_is_refused_and_store_unchanged(
    tmp_path: Path, publisher: sim_pki.TestPki, vn: sim_pki.TestPki
) -> None:
    store = tmp_path / "store"
    signer_ca = _pem(tmp_path, "de-csca.pem", publisher.csca_cert)
    good = tmp_path / "good.ml"
    good.write_bytes(_master_list([publisher], signer_csca=publisher))
    trust_admin.import_file(store, good, [signer_ca])
    before = _store_state(store)
    bad = tmp_path / "tampered.ml"
    bad.write_bytes(_flip_in_first_certificate(_master_list([vn], signer_csca=publisher), vn))
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_file(store, bad, [signer_ca])
    assert info.value.code == "E_TRUST_SIGNATURE"
    assert _store_state(store) == before
    sod = parse_sod(lds_build.build_sod(_dgs(), vn))
    assert verify_passive(sod, _dgs(), TrustStore.load(store), NOW).status == "no_trust_anchor"


def test_self_consistent_forgery_is_refused(tmp_path: Path, publisher: sim_pki.TestPki) -> None:
    forger = sim_pki.make_test_pki(country="VN")  # own CSCA + own signer: verifies against itself
    forged = tmp_path / "forged.ml"
    forged.write_bytes(_master_list([forger], signer_csca=forger))
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_file(tmp_path / "store", forged, [_pem(tmp_path, "de.pem", publisher.csca_cert)])
    assert info.value.code == "E_TRUST_SIGNER_UNTRUSTED"
    assert not (tmp_path / "store").exists()


def test_master_list_without_signer_ca_is_refused(tmp_path: Path, publisher: sim_pki.TestPki) -> None:
    ml = tmp_path / "list.ml"
    ml.write_bytes(_master_list([publisher], signer_csca=publisher))
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_file(tmp_path / "store", ml, [])
    assert info.value.code == "E_TRUST_SIGNER_UNTRUSTED"


def test_loose_files_in_the_folder_are_ignored(tmp_path: Path, vn: sim_pki.TestPki) -> None:
    """Dropping a certificate or a master list into reader.csca_dir no longer extends what the gate trusts."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "dropped.pem").write_bytes(vn.csca_pem)
    (store / "dropped.ml").write_bytes(_master_list([vn], signer_csca=vn))
    sod = parse_sod(lds_build.build_sod(_dgs(), vn))
    trust = TrustStore.load(store)
    assert len(trust) == 0
    assert sorted(name for name, _ in trust.problems) == ["dropped.ml", "dropped.pem"]
    assert verify_passive(sod, _dgs(), trust, NOW).status == "no_trust_anchor"


def test_edited_listed_file_is_ignored(tmp_path: Path, vn: sim_pki.TestPki) -> None:
    store = tmp_path / "store"
    trust_admin.import_file(store, _pem(tmp_path, "vn.pem", vn.csca_cert), [])
    other = sim_pki.make_test_pki(country="VN")
    listed = next((store / "csca").iterdir())
    listed.write_bytes(other.csca_cert.public_bytes(serialization.Encoding.DER))
    trust = TrustStore.load(store)
    assert len(trust) == 0
    assert "does not match" in trust.problems[0][1]


# ------------------------------------------------------------------ import, list, remove
def test_genuine_master_list_imports_and_cards_verify(
    tmp_path: Path, publisher: sim_pki.TestPki, vn: sim_pki.TestPki
) -> None:
    store = tmp_path / "store"
    ml = tmp_path / "bsi.ml"
    fr = sim_pki.make_test_pki(country="FR")
    ml.write_bytes(_master_list([vn, fr, publisher], signer_csca=publisher))
    report = trust_admin.import_file(store, ml, [_pem(tmp_path, "de.pem", publisher.csca_cert)])
    assert report.kind == "master_list"
    assert len(report.added) == 3
    again = trust_admin.import_file(store, ml, [_pem(tmp_path, "de.pem", publisher.csca_cert)])
    assert (again.added, again.already) == ([], 3)
    manifest = json.loads((store / MANIFEST_NAME).read_text())
    assert [e["sha256"] for e in manifest["signer_cas"]] == [sha256_hex(publisher.csca_cert)]
    trust = TrustStore.load(store)
    assert trust.countries() == {"VN", "FR", "DE"}
    for pki in (vn, fr):
        sod = parse_sod(lds_build.build_sod(_dgs(), pki))
        assert verify_passive(sod, _dgs(), trust, NOW).status == "valid"


def test_ldif_collection(tmp_path: Path, publisher: sim_pki.TestPki, vn: sim_pki.TestPki) -> None:
    ml = _master_list([vn], signer_csca=publisher)
    fr = sim_pki.make_test_pki(country="FR")
    fr_der = fr.csca_cert.public_bytes(serialization.Encoding.DER)

    def folded(attr: str, value: bytes) -> str:
        text = f"{attr}:: {base64.b64encode(value).decode()}"
        return "\n ".join(text[i : i + 76] for i in range(0, len(text), 76))

    ldif = tmp_path / "icaopkd-002-ml.ldif"
    ldif.write_text(
        "version: 1\n\n"
        "dn: cn=ml,o=ml,c=DE,dc=masterlist,dc=pkdDownload\nobjectClass: CscaMasterList\n"
        f"{folded('pkdMasterListContent', ml)}\n\n"
        "dn: cn=fr,o=csca,c=FR,dc=data,dc=pkdDownload\n"
        f"{folded('cACertificate;binary', fr_der)}\n"
    )
    report = trust_admin.import_file(tmp_path / "store", ldif, [_pem(tmp_path, "de.pem", publisher.csca_cert)])
    assert report.kind == "ldif"
    assert set(report.added) == {sha256_hex(vn.csca_cert), sha256_hex(fr.csca_cert)}


def test_document_signer_is_not_a_trust_anchor(tmp_path: Path, vn: sim_pki.TestPki) -> None:
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_file(tmp_path / "store", _pem(tmp_path, "ds.pem", vn.ds_cert), [])
    assert info.value.code == "E_TRUST_NOT_CSCA"
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x30\x82\xff\xff\x00")
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_file(tmp_path / "store", garbage, [])
    assert info.value.code == "E_TRUST_FORMAT"


def test_cli_import_list_remove(
    tmp_path: Path, publisher: sim_pki.TestPki, vn: sim_pki.TestPki, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    ml = tmp_path / "list.ml"
    ml.write_bytes(_master_list([vn], signer_csca=publisher))
    signer_ca = _pem(tmp_path, "de.pem", publisher.csca_cert)
    assert main(["trust", "import", str(ml), "--store", str(store), "--signer-ca", str(signer_ca), "--json"]) == 0
    capsys.readouterr()
    assert main(["trust", "list", "--store", str(store), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["sha256"] == sha256_hex(vn.csca_cert)
    assert entry["country"] == "VN"
    assert entry["subject"] == vn.csca_cert.subject.rfc4514_string()
    assert entry["not_after"].startswith(f"{vn.csca_cert.not_valid_after_utc:%Y-%m-%d}")
    assert entry["source"]["file"] == "list.ml"
    assert entry["source"]["kind"] == "master_list"
    assert entry["source"]["signer"].startswith("CN=DS ")  # the list signer, issued by the pinned signer CA
    forged = tmp_path / "forged.ml"
    forged.write_bytes(_master_list([vn], signer_csca=vn))
    assert main(["trust", "import", str(forged), "--store", str(store), "--signer-ca", str(signer_ca), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["code"] == "E_TRUST_SIGNER_UNTRUSTED"
    assert main(["trust", "remove", entry["sha256"], "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["trust", "list", "--store", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["trust", "remove", entry["sha256"], "--store", str(store), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["code"] == "E_TRUST_NOT_FOUND"


# ------------------------------------------------------------------ CRLs
def _crl(issuer: sim_pki.TestPki, serials: list[int], next_update: dt.datetime, key: object = None) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.csca_cert.subject)
        .last_update(NOW - dt.timedelta(days=1))
        .next_update(next_update)
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - dt.timedelta(hours=1)).build()
        )
    crl = builder.sign(key or issuer.csca_key, hashes.SHA256())  # type: ignore[arg-type]
    return crl.public_bytes(serialization.Encoding.DER)


def test_revoked_document_signer_is_invalid(tmp_path: Path, vn: sim_pki.TestPki) -> None:
    store = tmp_path / "store"
    trust_admin.import_file(store, _pem(tmp_path, "vn.pem", vn.csca_cert), [])
    sod = parse_sod(lds_build.build_sod(_dgs(), vn))
    assert verify_passive(sod, _dgs(), TrustStore.load(store), NOW).status == "valid"
    crl = tmp_path / "vn.crl"
    crl.write_bytes(_crl(vn, [vn.ds_cert.serial_number], NOW + dt.timedelta(days=30)))
    assert main(["trust", "import-crl", str(crl), "--store", str(store)]) == 0
    result = verify_passive(sod, _dgs(), TrustStore.load(store), NOW)
    assert (result.status, result.failed_check) == ("invalid", "revoked")


def test_crl_signed_by_someone_else_is_refused(tmp_path: Path, vn: sim_pki.TestPki) -> None:
    store = tmp_path / "store"
    trust_admin.import_file(store, _pem(tmp_path, "vn.pem", vn.csca_cert), [])
    before = _store_state(store)
    crl = tmp_path / "forged.crl"
    crl.write_bytes(_crl(vn, [1], NOW + dt.timedelta(days=30), key=ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_crl(store, crl)
    assert info.value.code == "E_TRUST_CRL"
    assert _store_state(store) == before


# ------------------------------------------------------------------ DS certificate checks
def _ds(vn: sim_pki.TestPki, *, ca: bool, digital_signature: bool) -> sim_pki.TestPki:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, "DS")])
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only"), False
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(vn.csca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=100))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                key_cert_sign=ca,
                crl_sign=ca,
                decipher_only=False,
                **usage,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(vn.csca_key.public_key()),
            critical=False,
        )
        .sign(vn.csca_key, hashes.SHA256())
    )
    return sim_pki.TestPki(vn.csca_key, vn.csca_cert, key, cert)


@pytest.mark.parametrize(("ca", "digital_signature"), [(True, True), (False, False)])
def test_ds_must_be_a_signing_certificate(vn: sim_pki.TestPki, ca: bool, digital_signature: bool) -> None:
    signer = _ds(vn, ca=ca, digital_signature=digital_signature)
    sod = parse_sod(lds_build.build_sod(_dgs(), signer))
    result = verify_passive(sod, _dgs(), TrustStore.from_certificates([vn.csca_cert]), NOW)
    assert (result.status, result.failed_check) == ("invalid", "ds_certificate")
    good = parse_sod(lds_build.build_sod(_dgs(), _ds(vn, ca=False, digital_signature=True)))
    assert verify_passive(good, _dgs(), TrustStore.from_certificates([vn.csca_cert]), NOW).status == "valid"


def _with_signing_time(sod_bytes: bytes, pki: sim_pki.TestPki, when: dt.datetime) -> bytes:
    info = cms.ContentInfo.load(tlv.decode(sod_bytes).value)
    signer = info["content"]["signer_infos"][0]
    attrs = [
        *list(signer["signed_attrs"]),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
    ]
    signed_attrs = cms.CMSAttributes(attrs)
    assert isinstance(pki.ds_key, ec.EllipticCurvePrivateKey)
    signature = pki.ds_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer["signed_attrs"] = signed_attrs
    signer["signature"] = signature
    return tlv.encode(0x77, info.dump(force=True))


def test_ds_validity_at_signing_time(vn: sim_pki.TestPki) -> None:
    sod_bytes = lds_build.build_sod(_dgs(), vn)
    trust = TrustStore.from_certificates([vn.csca_cert])
    inside = parse_sod(_with_signing_time(sod_bytes, vn, NOW - dt.timedelta(days=1)))
    assert verify_passive(inside, _dgs(), trust, NOW).status == "valid"
    before_ds = parse_sod(_with_signing_time(sod_bytes, vn, NOW - dt.timedelta(days=200)))
    result = verify_passive(before_ds, _dgs(), trust, NOW)
    assert (result.status, result.failed_check) == ("invalid", "ds_certificate")
    assert "signed" in result.details


def test_import_keeps_other_files_and_replaces_the_folder_whole(tmp_path: Path, vn: sim_pki.TestPki) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "notes.txt").write_text("operator's notes")
    trust_admin.import_file(store, _pem(tmp_path, "vn.pem", vn.csca_cert), [])
    assert (store / "notes.txt").read_text() == "operator's notes"  # kept, and still not trusted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "vn.pem"]  # no temporary folder left behind
    trust_admin.remove(store, sha256_hex(vn.csca_cert))
    assert not list((store / "csca").iterdir())


def test_master_list_with_an_expired_signer_is_refused(tmp_path: Path, publisher: sim_pki.TestPki) -> None:
    signer = sim_pki.make_test_pki(
        csca=(publisher.csca_key, publisher.csca_cert),
        ds_not_before=NOW - dt.timedelta(days=900),
        ds_not_after=NOW - dt.timedelta(days=1),
    )
    ml = tmp_path / "old.ml"
    ml.write_bytes(sim_pki.build_master_list([publisher.csca_cert], signer.ds_key, signer.ds_cert))
    with pytest.raises(trust_admin.TrustImportError) as info:
        trust_admin.import_file(tmp_path / "store", ml, [_pem(tmp_path, "de.pem", publisher.csca_cert)])
    assert info.value.code == "E_TRUST_SIGNER_UNTRUSTED"
    assert "not now" in info.value.message
    assert not (tmp_path / "store").exists()
