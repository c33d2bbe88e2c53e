"""Clone detection: Chip Authentication (DG14, ECDH) and Active Authentication (DG15, INTERNAL AUTHENTICATE).

Chip Authentication restarts secure messaging with keys only the genuine chip can derive; the caller proves
success by the next protected command. Active Authentication verifies a signature over a fresh challenge:
ECDSA (plain r||s, TR-03111) or RSA with ISO/IEC 9796-2 scheme 1 message recovery.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from asn1crypto import keys
from ecdsa import BadSignatureError, VerifyingKey
from ecdsa.util import sigdecode_string

from edge.identity import tlv
from edge.identity.emrtd import crypto, ec
from edge.identity.emrtd.apdu import CommandApdu, raise_for_status
from edge.identity.emrtd.cardaccess import ChipAuthInfo, ChipAuthPublicKey, SecurityInfos
from edge.identity.emrtd.crypto import SUITES
from edge.identity.emrtd.errors import MalformedResponseError, UnsupportedError
from edge.identity.emrtd.sm import SecureChannel, SecureMessaging

AuthStatus = Literal["valid", "failed", "not_supported"]

# ISO/IEC 9796-2 hash identifiers (ISO/IEC 10118-3) used in the two-byte trailer xx CC
_ISO9796_HASH_IDS = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}


@dataclass(frozen=True)
class ChipAuthChoice:
    info: ChipAuthInfo
    key: ChipAuthPublicKey


def choose_chip_auth(infos: SecurityInfos) -> ChipAuthChoice | None:
    """The ECDH CA protocol/key pair announced in DG14, or None when the chip offers none this reader can use."""
    for key in infos.chip_auth_keys:
        if key.agreement != "ECDH" or key.curve is None:
            continue
        for info in infos.chip_auth:
            if info.agreement == "ECDH" and (key.key_id is None or info.key_id in (None, key.key_id)):
                return ChipAuthChoice(info, key)
        if not infos.chip_auth:  # DG14 may omit ChipAuthenticationInfo: CA v1 with 3DES is implied
            implied = ChipAuthInfo("0.4.0.127.0.7.2.2.3.2.1", 1, key.key_id, "ECDH", "3DES")
            return ChipAuthChoice(implied, key)
    return None


def chip_authenticate(
    secure: SecureChannel,
    choice: ChipAuthChoice,
    *,
    random_scalar: Callable[[int], int] | None = None,
) -> SecureMessaging:
    """Send our ephemeral key under the current SM; return the new SM session (SSC 0) to switch to."""
    curve = choice.key.curve
    if curve is None:
        raise UnsupportedError("DH chip authentication is not supported")
    chip_key = ec.decode_point(curve, choice.key.public_key)
    pick = random_scalar or crypto.random_scalar
    private = pick(int(curve.order))
    public = ec.generator(curve) * private
    key_ref = tlv.encode(0x84, bytes((choice.key.key_id,))) if choice.key.key_id is not None else b""
    suite = SUITES[choice.info.cipher]
    if suite.is_aes:
        mse = CommandApdu(0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, choice.info.oid_bytes) + key_ref)
        raise_for_status(secure.transceive(mse), "CA MSE:Set AT")
        ga = CommandApdu(0x00, 0x86, 0x00, 0x00, tlv.encode(0x7C, tlv.encode(0x80, public.encode())), 256)
        raise_for_status(secure.transceive(ga), "CA GENERAL AUTHENTICATE")
    else:
        kat = CommandApdu(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, public.encode()) + key_ref)
        raise_for_status(secure.transceive(kat), "CA MSE:Set KAT")
    shared = ec.shared_x(private, chip_key)
    ks_enc = crypto.kdf(shared, crypto.KDF_ENC, suite)
    ks_mac = crypto.kdf(shared, crypto.KDF_MAC, suite)
    return SecureMessaging(suite, ks_enc, ks_mac, 0)


def _dg15_key(dg15: bytes) -> keys.PublicKeyInfo:
    try:
        outer = tlv.decode(dg15)
        if outer.tag != 0x6F:
            raise MalformedResponseError(f"DG15 must start with tag 6F, got {outer.tag:X}")
        spki = keys.PublicKeyInfo.load(outer.value)
        spki.native  # noqa: B018 - forces a full parse so bad DER fails here
    except (ValueError, TypeError, tlv.TlvError) as exc:
        raise MalformedResponseError(f"DG15 does not parse: {exc}") from exc
    return spki


def verify_active_auth(dg15: bytes, challenge: bytes, signature: bytes, hash_name: str | None) -> bool:
    """True when ``signature`` over ``challenge`` verifies with the DG15 key."""
    spki = _dg15_key(dg15)
    algorithm = spki["algorithm"]["algorithm"].native
    if algorithm == "ec":
        try:
            verifying_key = VerifyingKey.from_der(spki.dump())
        except Exception as exc:  # ecdsa raises several unrelated types for bad keys
            raise UnsupportedError(f"DG15 EC key is not usable: {exc}") from exc
        hashfunc = getattr(hashlib, hash_name or "sha256")
        try:
            return bool(verifying_key.verify(signature, challenge, hashfunc, sigdecode=sigdecode_string))
        except (BadSignatureError, AssertionError, ValueError):
            return False
    if algorithm == "rsa":
        public = spki["public_key"].parsed
        return _verify_iso9796_2(
            int(public["modulus"].native), int(public["public_exponent"].native), challenge, signature
        )
    raise UnsupportedError(f"Active Authentication with {algorithm} keys is not supported")


def _verify_iso9796_2(modulus: int, exponent: int, challenge: bytes, signature: bytes) -> bool:
    """ISO/IEC 9796-2 digital signature scheme 1 (partial message recovery), as eMRTD AA uses it."""
    size = (modulus.bit_length() + 7) // 8
    value = pow(int.from_bytes(signature, "big"), exponent, modulus)
    if value & 0x0F != 0x0C:
        value = modulus - value
    recovered = value.to_bytes(size, "big")
    if recovered[-1] == 0xBC:
        hash_name, trailer = "sha1", 1
    elif recovered[-1] == 0xCC and recovered[-2] in _ISO9796_HASH_IDS:
        hash_name, trailer = _ISO9796_HASH_IDS[recovered[-2]], 2
    else:
        return False
    if recovered[0] & 0xC0 != 0x40:
        return False
    digest_len = hashlib.new(hash_name).digest_size
    digest = recovered[-trailer - digest_len : -trailer]
    m1 = recovered[1 : -trailer - digest_len]
    return hmac.compare_digest(hashlib.new(hash_name, m1 + challenge).digest(), digest)


def active_authenticate(
    secure: SecureChannel,
    dg15: bytes,
    hash_name: str | None,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> AuthStatus:
    """INTERNAL AUTHENTICATE with a fresh 8-byte challenge; ``valid`` or ``failed``."""
    challenge = random_bytes(8)
    response = secure.transceive(CommandApdu(0x00, 0x88, 0x00, 0x00, challenge, 256))
    raise_for_status(response, "AA INTERNAL AUTHENTICATE")
    return "valid" if verify_active_auth(dg15, challenge, response.data, hash_name) else "failed"
