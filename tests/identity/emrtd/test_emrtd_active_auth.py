"""Active Authentication signature checks: ECDSA plain r||s and RSA ISO/IEC 9796-2 scheme 1 (SHA-1 and SHA-256)."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from edge.identity import tlv
from edge.identity.emrtd.chip_auth import verify_active_auth
from edge.identity.emrtd.errors import MalformedResponseError
from firmware_bridge.sim.identity_builder import build_dg15

CHALLENGE = bytes.fromhex("0102030405060708")


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _iso9796(key: rsa.RSAPrivateKey, hash_name: str, trailer: bytes, *, tamper: bool = False) -> bytes:
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    digest_len = hashlib.new(hash_name).digest_size
    m1 = os.urandom(size - digest_len - len(trailer) - 1)
    digest = hashlib.new(hash_name, m1 + CHALLENGE).digest()
    if tamper:
        digest = bytes((digest[0] ^ 1,)) + digest[1:]
    message = int.from_bytes(b"\x6a" + m1 + digest + trailer, "big")
    return pow(message, numbers.d, n).to_bytes(size, "big")


@pytest.mark.parametrize(("hash_name", "trailer"), [("sha1", b"\xbc"), ("sha256", b"\x34\xcc")])
def test_rsa_iso9796_2(rsa_key: rsa.RSAPrivateKey, hash_name: str, trailer: bytes) -> None:
    dg15 = build_dg15(rsa_key)
    assert verify_active_auth(dg15, CHALLENGE, _iso9796(rsa_key, hash_name, trailer), None)
    assert not verify_active_auth(dg15, CHALLENGE, _iso9796(rsa_key, hash_name, trailer, tamper=True), None)
    assert not verify_active_auth(dg15, bytes(8), _iso9796(rsa_key, hash_name, trailer), None)


def test_ecdsa_plain_signature() -> None:
    key = crypto_ec.generate_private_key(crypto_ec.SECP256R1())
    r, s = decode_dss_signature(key.sign(CHALLENGE, crypto_ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    dg15 = build_dg15(key)
    assert verify_active_auth(dg15, CHALLENGE, signature, "sha256")
    assert not verify_active_auth(dg15, CHALLENGE, signature, "sha384")  # DG14 names another hash
    assert not verify_active_auth(dg15, CHALLENGE, signature[:-1] + bytes([signature[-1] ^ 0x01]), "sha256")
    assert not verify_active_auth(dg15, CHALLENGE, signature[:40], "sha256")


@pytest.mark.parametrize("dg15", [b"", b"\x6f\x02\x30\x00", tlv.encode(0x6E, b"\x30\x00")])
def test_bad_dg15(dg15: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        verify_active_auth(dg15, CHALLENGE, bytes(64), None)
