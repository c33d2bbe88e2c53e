"""The virtual chip's private keys at work: Chip Authentication key loading and Active Authentication signatures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Literal

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from ecdsa import curves

from edge.identity.emrtd import ec
from edge.identity.emrtd.cardaccess import CIPHER_ARCS
from edge.identity.emrtd.crypto import CipherName
from firmware_bridge.sim.vchip.status import Answer

AaHash = Literal["sha1", "sha224", "sha256", "sha384", "sha512"]


def ec_private_key(pem: bytes) -> tuple[curves.Curve, int, crypto_ec.EllipticCurvePrivateKey]:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, crypto_ec.EllipticCurvePrivateKey):
        raise ValueError("chip authentication key must be an EC private key")  # noqa: TRY004 - loader contract: ValueError
    spki = asn1_keys.PublicKeyInfo.load(
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    curve = ec.curve_by_oid(spki["algorithm"]["parameters"].chosen.dotted)
    return curve, key.private_numbers().private_value, key


def active_auth_sign(key: object, challenge: bytes, aa_hash: AaHash, random_bytes: Callable[[int], bytes]) -> bytes:
    """INTERNAL AUTHENTICATE: ECDSA (plain r||s) over the challenge, or ISO/IEC 9796-2 for an RSA key; 6D00 else."""
    if isinstance(key, crypto_ec.EllipticCurvePrivateKey):
        algorithm = {
            "sha1": hashes.SHA1(),  # noqa: S303 - ECDSA-plain-SHA1 is a valid AA algorithm
            "sha224": hashes.SHA224(),
            "sha256": hashes.SHA256(),
            "sha384": hashes.SHA384(),
            "sha512": hashes.SHA512(),
        }[aa_hash]
        r, s = decode_dss_signature(key.sign(challenge, crypto_ec.ECDSA(algorithm)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        return _iso9796_2_sign(key, challenge, random_bytes)
    raise Answer(0x6D00)


def parse_ca_cipher(oid_bytes: bytes) -> CipherName:
    """Cipher named by the last arc of an id-CA-ECDH-* OID (content bytes); 6A80 for anything else."""
    arc = str(oid_bytes[-1]) if oid_bytes else ""
    if arc not in CIPHER_ARCS:
        raise Answer(0x6A80)
    return CIPHER_ARCS[arc]


def _iso9796_2_sign(key: rsa.RSAPrivateKey, challenge: bytes, random_bytes: Callable[[int], bytes]) -> bytes:
    """ISO/IEC 9796-2 scheme 1 with SHA-1 (trailer BC), as eMRTD chips sign AA challenges."""
    numbers = key.private_numbers()
    modulus = numbers.public_numbers.n
    size = (modulus.bit_length() + 7) // 8
    m1 = random_bytes(size - 20 - 2)
    digest = hashlib.sha1(m1 + challenge).digest()  # noqa: S324 - the eMRTD AA default
    message = int.from_bytes(b"\x6a" + m1 + digest + b"\xbc", "big")
    signature = pow(message, numbers.d, modulus)
    signature = min(signature, modulus - signature)
    return signature.to_bytes(size, "big")
