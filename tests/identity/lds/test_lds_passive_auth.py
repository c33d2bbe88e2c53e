from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from edge.identity import tlv
from edge.identity.passive_auth import verify_passive
from edge.identity.sod import LDS_SECURITY_OBJECT_OID, SodError, parse_sod
from edge.identity.trust_store import CSCA_MASTER_LIST_OID, TrustStore
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki

NOW = dt.datetime.now(dt.UTC)


def _store(*pkis: sim_pki.TestPki) -> TrustStore:
    return TrustStore.from_certificates([p.csca_cert for p in pkis])


@pytest.mark.parametrize(
    ("key_type", "curve", "hash_alg", "rsa_padding"),
    [
        ("ec", "P-256", "sha256", "pkcs1v15"),
        ("ec", "brainpoolP256r1", "sha256", "pkcs1v15"),
        ("ec", "brainpoolP384r1", "sha384", "pkcs1v15"),
        ("ec", "P-256", "sha1", "pkcs1v15"),
        ("rsa", "P-256", "sha256", "pkcs1v15"),
        ("rsa", "P-256", "sha512", "pss"),
    ],
)
def test_round_trip_valid(
    dev_dgs: dict[int, bytes],
    key_type: Literal["ec", "rsa"],
    curve: sim_pki.Curve,
    hash_alg: str,
    rsa_padding: Literal["pkcs1v15", "pss"],
) -> None:
    pki = sim_pki.make_test_pki(key_type=key_type, curve=curve)
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki, hash_alg, rsa_padding=rsa_padding, lds_version="0108"))
    assert sod.hash_algorithm == hash_alg
    assert sod.lds_version == "0108"
    assert sorted(sod.dg_hashes) == [1, 2, 13]
    result = verify_passive(sod, dev_dgs, _store(pki), NOW)
    assert result.status == "valid", result.details
    assert result.ok
    assert result.failed_check is None
    assert result.checked_dgs == (1, 2, 13)
    assert result.csca_subject is not None
    assert "CSCA VN test" in result.csca_subject


def test_subset_of_dgs_is_valid(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    assert verify_passive(sod, {1: dev_dgs[1]}, _store(pki), NOW).status == "valid"


@pytest.mark.parametrize("dg", [1, 2, 13])
def test_tampered_dg_byte(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki, dg: int) -> None:
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    tampered = dict(dev_dgs)
    data = bytearray(tampered[dg])
    data[len(data) // 2] ^= 0x01
    tampered[dg] = bytes(data)
    result = verify_passive(sod, tampered, _store(pki), NOW)
    assert (result.status, result.failed_check, result.failed_dg) == ("invalid", "dg_hash", dg)


def test_dg_not_in_sod(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    sod = parse_sod(lds_build.build_sod({1: dev_dgs[1]}, pki))
    result = verify_passive(sod, dev_dgs, _store(pki), NOW)
    assert (result.status, result.failed_check, result.failed_dg) == ("invalid", "dg_hash", 2)


def test_other_csca_is_no_trust_anchor(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    other = sim_pki.make_test_pki()  # same DN, different key
    result = verify_passive(sod, dev_dgs, _store(other), NOW)
    assert result.status == "no_trust_anchor"
    assert result.failed_check is None
    assert verify_passive(sod, dev_dgs, TrustStore(), NOW).status == "no_trust_anchor"
    assert verify_passive(sod, dev_dgs, _store(other, pki), NOW).status == "valid"


def test_expired_ds(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    old = sim_pki.make_test_pki(
        csca=(pki.csca_key, pki.csca_cert),
        ds_not_before=NOW - dt.timedelta(days=800),
        ds_not_after=NOW - dt.timedelta(days=1),
    )
    sod = parse_sod(lds_build.build_sod(dev_dgs, old))
    result = verify_passive(sod, dev_dgs, _store(pki), NOW)
    assert result.status == "expired"
    assert "document signer" in result.details
    # the same SOD checked at a time inside the DS validity is fine
    assert verify_passive(sod, dev_dgs, _store(pki), NOW - dt.timedelta(days=10)).status == "valid"
    # naive datetimes are taken as UTC
    assert verify_passive(sod, dev_dgs, _store(pki), dt.datetime(2000, 1, 1)).status == "expired"


def test_expired_csca(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    later = NOW + dt.timedelta(days=12 * 365)  # DS (10 y) expired, then CSCA (15 y)
    assert verify_passive(sod, dev_dgs, _store(pki), later).status == "expired"
    result = verify_passive(sod, dev_dgs, _store(pki), NOW + dt.timedelta(days=16 * 365))
    assert result.status == "expired"


def test_tampered_signature(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    raw = bytearray(lds_build.build_sod(dev_dgs, pki))
    raw[-1] ^= 0x01  # the signature is the last element of the SignerInfo, itself last in the SOD
    result = verify_passive(parse_sod(bytes(raw)), dev_dgs, _store(pki), NOW)
    assert (result.status, result.failed_check) == ("invalid", "sod_signature")


def test_tampered_hash_inside_sod(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    raw = lds_build.build_sod(dev_dgs, pki)
    digest = hashlib.sha256(dev_dgs[2]).digest()
    forged = raw.replace(digest, hashlib.sha256(b"someone else").digest())
    assert forged != raw
    result = verify_passive(parse_sod(forged), {}, _store(pki), NOW)
    assert (result.status, result.failed_check) == ("invalid", "sod_signature")
    assert "messageDigest" in result.details


def test_ds_not_signed_by_matching_csca(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    """A CSCA with the right DN and key identifier but another key: the DS signature must fail."""
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    ski = pki.csca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    impostor = (
        x509.CertificateBuilder()
        .subject_name(pki.csca_cert.subject)
        .issuer_name(pki.csca_cert.subject)
        .public_key(impostor_key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=100))
        .add_extension(ski, critical=False)
        .sign(impostor_key, hashes.SHA256())
    )
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    result = verify_passive(sod, dev_dgs, TrustStore.from_certificates([impostor]), NOW)
    assert (result.status, result.failed_check) == ("invalid", "ds_signature")


def test_sod_without_ds_certificate(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki) -> None:
    lso = lds_build.build_lds_security_object(dev_dgs)
    info = sim_pki.build_signed_data(LDS_SECURITY_OBJECT_OID, lso, pki.ds_key, pki.ds_cert, include_certificate=False)
    sod = parse_sod(tlv.encode(0x77, info))
    assert sod.certificates == ()
    result = verify_passive(sod, dev_dgs, _store(pki), NOW)
    assert (result.status, result.failed_check) == ("invalid", "sod_signature")


def test_parse_sod_errors(pki: sim_pki.TestPki) -> None:
    with pytest.raises(SodError, match="expected 77"):
        parse_sod(tlv.encode(0x61, b""))
    with pytest.raises(SodError):
        parse_sod(tlv.encode(0x77, b"\x30\x03\x02\x01\x01"))
    not_lds = sim_pki.build_signed_data(CSCA_MASTER_LIST_OID, b"\x30\x00", pki.ds_key, pki.ds_cert)
    with pytest.raises(SodError, match="content type"):
        parse_sod(tlv.encode(0x77, not_lds))


def _with_plain_signature(raw_sod: bytes, algorithm: str | None) -> bytes:
    """Re-encode the SOD's DER ECDSA signature as r || s (BSI TR-03111 plain format)."""
    info = cms.ContentInfo.load(tlv.decode(raw_sod).value)
    signer = info["content"]["signer_infos"][0]
    r, s = decode_dss_signature(signer["signature"].native)
    signer["signature"] = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if algorithm is not None:
        signer["signature_algorithm"] = {"algorithm": algorithm}
    return tlv.encode(0x77, info.dump(force=True))


@pytest.mark.parametrize("algorithm", ["0.4.0.127.0.7.1.1.4.1.3", None])
def test_plain_ecdsa_signature(dev_dgs: dict[int, bytes], pki: sim_pki.TestPki, algorithm: str | None) -> None:
    raw = _with_plain_signature(lds_build.build_sod(dev_dgs, pki), algorithm)
    sod = parse_sod(raw)
    assert len(sod.signer_infos[0]["signature"].native) == 64
    assert verify_passive(sod, dev_dgs, _store(pki), NOW).status == "valid"
    tampered = bytearray(raw)
    tampered[-1] ^= 0x01
    result = verify_passive(parse_sod(bytes(tampered)), dev_dgs, _store(pki), NOW)
    assert (result.status, result.failed_check) == ("invalid", "sod_signature")
