"""Certificates with explicit EC domain parameters (common for CSCAs) and r||s ECDSA signatures.

OpenSSL refuses explicit brainpool parameters; passive auth must still verify them (python-ecdsa fallback).
"""

from __future__ import annotations

import datetime as dt

import ecdsa
import pytest
from asn1crypto import keys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge.identity.passive_auth import verify_passive
from edge.identity.sod import parse_sod
from edge.identity.trust_store import TrustStore
from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki

NOW = dt.datetime.now(dt.UTC)


def _explicit(cert: x509.Certificate, signer_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """Re-encode ``cert``'s brainpoolP256r1 key with explicit parameters and re-sign it with ``signer_key``."""
    point = cert.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    spki = ecdsa.VerifyingKey.from_string(point, curve=ecdsa.BRAINPOOLP256r1).to_der(
        curve_parameters_encoding="explicit"
    )
    parsed = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    tbs["subject_public_key_info"] = keys.PublicKeyInfo.load(spki)
    signature = signer_key.sign(tbs.dump(force=True), ec.ECDSA(hashes.SHA256()))
    rebuilt = ax509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": parsed["signature_algorithm"], "signature_value": signature}
    )
    return x509.load_der_x509_certificate(rebuilt.dump(force=True))


@pytest.fixture(scope="module")
def brainpool() -> sim_pki.TestPki:
    return sim_pki.make_test_pki(curve="brainpoolP256r1")


def test_openssl_alone_cannot_load_explicit_brainpool(brainpool: sim_pki.TestPki) -> None:
    assert isinstance(brainpool.csca_key, ec.EllipticCurvePrivateKey)
    with pytest.raises(UnsupportedAlgorithm):
        _explicit(brainpool.ds_cert, brainpool.csca_key).public_key()


def test_explicit_ds_key(brainpool: sim_pki.TestPki, dev_dgs: dict[int, bytes]) -> None:
    assert isinstance(brainpool.csca_key, ec.EllipticCurvePrivateKey)
    ds = _explicit(brainpool.ds_cert, brainpool.csca_key)
    pki = sim_pki.TestPki(brainpool.csca_key, brainpool.csca_cert, brainpool.ds_key, ds)
    sod = parse_sod(lds_build.build_sod(dev_dgs, pki))
    store = TrustStore.from_certificates([brainpool.csca_cert])
    assert verify_passive(sod, dev_dgs, store, NOW).status == "valid"
    raw = bytearray(lds_build.build_sod(dev_dgs, pki))
    raw[-1] ^= 0x01
    result = verify_passive(parse_sod(bytes(raw)), dev_dgs, store, NOW)
    assert (result.status, result.failed_check) == ("invalid", "sod_signature")


def test_explicit_csca_key(brainpool: sim_pki.TestPki, dev_dgs: dict[int, bytes]) -> None:
    assert isinstance(brainpool.csca_key, ec.EllipticCurvePrivateKey)
    csca = _explicit(brainpool.csca_cert, brainpool.csca_key)  # self-signed, key re-encoded
    sod = parse_sod(lds_build.build_sod(dev_dgs, brainpool))
    assert verify_passive(sod, dev_dgs, TrustStore.from_certificates([csca]), NOW).status == "valid"
    # a DS signed by some other key must still fail against the explicit-parameter CSCA
    other = sim_pki.make_test_pki(curve="brainpoolP256r1")
    assert isinstance(other.csca_key, ec.EllipticCurvePrivateKey)
    forged_ds = _explicit(brainpool.ds_cert, other.csca_key)
    forged = sim_pki.TestPki(brainpool.csca_key, brainpool.csca_cert, brainpool.ds_key, forged_ds)
    result = verify_passive(
        parse_sod(lds_build.build_sod(dev_dgs, forged)), dev_dgs, TrustStore.from_certificates([csca]), NOW
    )
    assert (result.status, result.failed_check) == ("invalid", "ds_signature")
