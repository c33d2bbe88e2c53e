"""Basic Access Control (ICAO 9303-11 4.3): keys from the MRZ, mutual authentication, session keys and SSC."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from edge.identity.emrtd import crypto
from edge.identity.emrtd.apdu import ApduChannel, CommandApdu, raise_for_status, transceive
from edge.identity.emrtd.crypto import SUITES
from edge.identity.emrtd.errors import AccessDeniedError, MalformedResponseError, SecurityStatusError
from edge.identity.emrtd.sm import SecureMessaging
from edge.identity.mrz import MrzError, check_digit

_TDES = SUITES["3DES"]


def mrz_information(document_number: str, birth_date: str, expiry_date: str) -> str:
    """Document number (padded to 9 with '<') + check digit + YYMMDD birth + cd + YYMMDD expiry + cd."""
    number = document_number.upper().ljust(9, "<")
    for label, value in (("birth_date", birth_date), ("expiry_date", expiry_date)):
        if len(value) != 6 or not value.isdigit():
            raise AccessDeniedError(f"MRZ {label} must be YYMMDD, got {len(value)} characters")
    try:
        return (
            number + check_digit(number) + birth_date + check_digit(birth_date) + expiry_date + check_digit(expiry_date)
        )
    except MrzError as exc:
        raise AccessDeniedError(f"MRZ access key is not valid: {exc.message}") from exc


def key_seed(mrz_info: str) -> bytes:
    """K_seed = first 16 bytes of SHA-1(MRZ information)."""
    return hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]  # noqa: S324 - prescribed by ICAO 9303-11


def basic_keys(seed: bytes) -> tuple[bytes, bytes]:
    """(K_enc, K_mac) derived from a 16-byte key seed."""
    return crypto.kdf(seed, crypto.KDF_ENC, _TDES), crypto.kdf(seed, crypto.KDF_MAC, _TDES)


def authenticate_data(k_enc: bytes, k_mac: bytes, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes) -> bytes:
    """The EXTERNAL AUTHENTICATE data E_IFD || M_IFD."""
    e_ifd = crypto.des3_cbc_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    return e_ifd + crypto.retail_mac(k_mac, crypto.pad(e_ifd, 8))


def complete(
    k_enc: bytes, k_mac: bytes, response: bytes, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes
) -> SecureMessaging:
    """Check the chip's E_IC || M_IC and derive the session (KS_enc, KS_mac, SSC)."""
    if len(response) != 40:
        raise MalformedResponseError(f"BAC answer must be 40 bytes, got {len(response)}")
    e_ic, m_ic = response[:32], response[32:]
    if not hmac.compare_digest(crypto.retail_mac(k_mac, crypto.pad(e_ic, 8)), m_ic):
        raise AccessDeniedError("BAC: the chip's MAC does not verify (wrong MRZ key or corrupted answer)")
    r = crypto.des3_cbc_decrypt(k_enc, e_ic)
    if r[:8] != rnd_ic or r[8:16] != rnd_ifd:
        raise AccessDeniedError("BAC: the chip did not echo our challenge")
    k_ic = r[16:32]
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    ks_enc, ks_mac = basic_keys(seed)
    ssc = int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big")
    return SecureMessaging(_TDES, ks_enc, ks_mac, ssc)


def perform_bac(
    channel: ApduChannel,
    document_number: str,
    birth_date: str,
    expiry_date: str,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> SecureMessaging:
    """Run BAC over ``channel``; returns the secure-messaging session. Wrong key → ``AccessDeniedError``."""
    k_enc, k_mac = basic_keys(key_seed(mrz_information(document_number, birth_date, expiry_date)))
    challenge = raise_for_status(transceive(channel, CommandApdu(0x00, 0x84, 0x00, 0x00, b"", 8)), "GET CHALLENGE")
    rnd_ic = challenge.data
    if len(rnd_ic) != 8:
        raise MalformedResponseError(f"GET CHALLENGE returned {len(rnd_ic)} bytes, expected 8")
    rnd_ifd, k_ifd = random_bytes(8), random_bytes(16)
    data = authenticate_data(k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd)
    response = transceive(channel, CommandApdu(0x00, 0x82, 0x00, 0x00, data, 40))
    try:
        raise_for_status(response, "BAC EXTERNAL AUTHENTICATE")
    except SecurityStatusError as exc:  # many chips answer 6982 to a wrong BAC key
        raise AccessDeniedError("BAC: the chip rejected the MRZ key", sw=exc.sw) from exc
    return complete(k_enc, k_mac, response.data, rnd_ic, rnd_ifd, k_ifd)
